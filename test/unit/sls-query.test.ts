import { describe, expect, it } from 'vitest';
import { searchLogs } from '../../local/sls/query';
import type { StoredGroup } from '../../local/sls/store';

const group = (time: number, accessKeyId: string, eventName: string): StoredGroup => ({
  time,
  topic: 'actiontrail_audit_event',
  source: '127.0.0.1',
  logs: [{ event: JSON.stringify({ eventName, userIdentity: { accessKeyId } }) }],
});

const shards: StoredGroup[][] = [
  [group(100, 'LTAIa', 'GetObject'), group(300, 'LTAIb', 'GetObject')],
  [group(200, 'LTAIa', 'PutBucketAcl'), group(400, 'LTAIa', 'ListObjects')],
];
const search = { from: 0, to: 1000, line: 100, offset: 0, reverse: false };

describe('the local SLS GetLogs search', () => {
  it('finds the logs whose JSON event field holds the value, across shards, in time order', () => {
    const logs = searchLogs(shards, { ...search, query: 'event.userIdentity.accessKeyId: LTAIa' });
    expect(logs.map((l) => [l.__time__, JSON.parse(l.event ?? '{}').eventName])).toEqual([
      ['100', 'GetObject'],
      ['200', 'PutBucketAcl'],
      ['400', 'ListObjects'],
    ]);
  });

  it('keeps to [from, to) and pages with line and offset', () => {
    const query = 'event.userIdentity.accessKeyId: LTAIa';
    expect(searchLogs(shards, { ...search, query, from: 200, to: 400 }).map((l) => l.__time__)).toEqual([
      '200',
    ]);
    expect(searchLogs(shards, { ...search, query, line: 1, offset: 1 }).map((l) => l.__time__)).toEqual([
      '200',
    ]);
  });

  it.each([
    '*',
    'LTAIa',
    'event.eventName: GetObject and event.userIdentity.accessKeyId: LTAIa',
    '* | select count(1)',
  ])('refuses any query but one field: value term (%s)', (query) => {
    expect(() => searchLogs(shards, { ...search, query })).toThrow(/one field: value term/);
  });
});
