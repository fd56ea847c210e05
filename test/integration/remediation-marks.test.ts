import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import type { ChangeRecord } from '../../shared/events/types';
import { createLogger } from '../../shared/log';
import {
  type MarkBook,
  noteRemediation,
  type RemediationMark,
  tiedToRemediation,
} from '../../shared/pipeline/remediated';
import type { Decision } from '../../shared/pipeline/types';
import { OssRig } from '../helpers/oss';

const AUDIT = 'marks-audit';
const GUARD = 'oss-acl-guard';

const change = (eventId: string, time: string): ChangeRecord => ({
  dedupeKey: `record:${eventId}`,
  eventId,
  eventName: 'PutBucketAcl',
  eventType: 'ApiCall',
  service: 'Oss',
  region: 'cn-hangzhou',
  time,
  actor: { type: 'ram-user', userName: 'alice' },
  resources: { bucket: 'shared-bucket' },
  requestParameters: {},
  origin: 'record',
});

const passing: Decision = { decision: 'skipped', reason: 'the bucket is private', findings: [] };

describe('remediation marks', () => {
  let rig: OssRig;
  const book = (calls: CallLog, written = new Map<string, RemediationMark>()): MarkBook => ({
    gateway: new OssGateway(
      new OssClientFactory({
        credentials: rig.root,
        endpoint: `http://127.0.0.1:${rig.emulator.port}`,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
      rig.emulator.region,
      calls,
    ),
    bucket: AUDIT,
    guard: GUARD,
    log: createLogger({}, () => {}),
    written,
  });

  beforeAll(async () => {
    rig = await new OssRig().start();
    await rig.client(rig.root).putBucket(AUDIT);
  });
  afterAll(() => rig.close());

  it('name the revert in a later skipped record of the same invocation without reading the mark back', async () => {
    const calls = new CallLog();
    const invocation = book(calls);
    const reverted = change('ev-first', '2026-12-07T00:00:00Z');
    await noteRemediation(invocation, reverted, 'audit/first.json', new Date('2026-12-07T00:00:02Z'));

    const tied = await tiedToRemediation(invocation, change('ev-second', '2026-12-07T00:00:01Z'), passing);

    expect(tied.remediatedBy).toEqual({
      eventId: 'ev-first',
      eventName: 'PutBucketAcl',
      auditKey: 'audit/first.json',
    });
    expect(calls.entries.map((c) => c.operation)).not.toContain('GetObject');
  });

  it('are read back when another invocation wrote them, and name the same revert', async () => {
    const calls = new CallLog();
    const tied = await tiedToRemediation(book(calls), change('ev-third', '2026-12-07T00:00:01Z'), passing);

    expect(tied.remediatedBy?.eventId).toBe('ev-first');
    expect(calls.entries.map((c) => c.operation)).toContain('GetObject');
  });
});
