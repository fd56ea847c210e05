import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { parseEvents } from '../../shared/events/parse-actiontrail-events';
import type { ChangeRecord } from '../../shared/events/types';
import { userTagGuard } from '../../shared/guards/user-tags';
import { createLogger } from '../../shared/log';

const context = (yaml = '') => ({
  config: parseConfig(`audit: {bucket: corp-audit}\n${yaml}`),
  now: new Date('2026-12-06T10:00:00Z'),
  log: createLogger({ guard: 'test' }),
});

function tagging(userName: string, requestParameters: Record<string, unknown>): ChangeRecord {
  const [item] = parseEvents([
    {
      eventId: 'ev-tag',
      eventVersion: 1,
      eventName: 'TagResources',
      eventSource: 'ims-share.aliyuncs.com',
      serviceName: 'Ims',
      acsRegion: 'cn-shanghai',
      eventTime: '2026-12-06T09:59:00Z',
      userIdentity: { type: 'ram-user', userName, accessKeyId: 'LTAI5tUserExampleKey' },
      requestParameters,
    },
  ]);
  if (item?.kind !== 'change') throw new Error('no change');
  return item.record;
}

const TAG = 'until=2026-12-31;reason=mine;rules=untrusted-source';
const owner = (userName: string, tags: Record<string, string>) => ({
  userName,
  userPrincipalName: `${userName}@1234567890123456.onaliyun.com`,
  tags,
});

describe('what user-tag-guard decides', () => {
  it('keeps the users a tagging call names, as Name.N or as an array, but never the tags it sets', () => {
    const flat = tagging('mallory', {
      ResourceType: 'user',
      'ResourcePrincipalName.1': 'mallory',
      'Tag.1.Key': 'ossguard-exception',
      'Tag.1.Value': TAG,
    });
    const listed = tagging('mallory', { ResourceType: 'user', ResourcePrincipalName: ['a', 'b'] });
    expect(flat.requestParameters).toEqual({ ResourceType: 'user', 'ResourcePrincipalName.1': 'mallory' });
    expect(listed.requestParameters).toMatchObject({
      'ResourcePrincipalName.1': 'a',
      'ResourcePrincipalName.2': 'b',
    });
  });

  it('removes only the tag a user set on itself, and alerts on the other user of the same call', () => {
    const evaluation = userTagGuard.evaluate(
      tagging('mallory', { ResourceType: 'user' }),
      {
        users: [owner('mallory', { 'ossguard-exception': TAG }), owner('ci', { 'ossguard-exception': TAG })],
      },
      context('rules: {user-exception-tag-set: enforce}'),
    );
    expect(evaluation.findings.map((f) => [f.evidence.user, f.severity, f.mode])).toEqual([
      ['mallory', 'critical', 'enforce'],
      ['ci', 'high', 'enforce'],
    ]);
    expect(evaluation.fix?.actions).toEqual([
      {
        kind: 'untag-user',
        userPrincipalName: 'mallory@1234567890123456.onaliyun.com',
        tagKey: 'ossguard-exception',
      },
    ]);
    expect(evaluation.findings[0]?.evidence.verdict).toBe(
      'waives untrusted-source for its keys until 2026-12-31',
    );
  });

  it('only alerts when someone else set the tag, whatever the mode', () => {
    const evaluation = userTagGuard.evaluate(
      tagging('admin', { ResourceType: 'user' }),
      { users: [owner('ci', { 'ossguard-exception': 'until=2099-02-31;reason=x;rules=no-mfa' })] },
      context('rules: {user-exception-tag-set: enforce}'),
    );
    expect(evaluation.fix).toBeUndefined();
    expect(evaluation.findings.map((f) => f.mode)).toEqual(['alert']);
    expect(evaluation.findings[0]?.evidence.verdict).toMatch(
      /^ignored by ossguard \(malformed: until=2099-02-31/,
    );
  });
});
