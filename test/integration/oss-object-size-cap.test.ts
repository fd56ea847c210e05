import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestFirstKey } from '../../shared/audit/newest-first';
import { auditKey, sign } from '../../shared/audit/record';
import { AuditStore } from '../../shared/audit/store';
import { CallLog } from '../../shared/clients/calllog';
import { MAX_OBJECT_BYTES, type OssClientFactory, type OssGateway } from '../../shared/clients/oss';
import type { ChangeRecord } from '../../shared/events/types';
import { deferWork, pendingWork } from '../../shared/pipeline/deferred';
import { changeRecord } from '../../shared/pipeline/records';
import { PIPELINE_PREFIX } from '../../shared/pipeline/remediated';
import { claimAlert, openLedger } from '../../shared/pipeline/resolve';
import {
  exposedBucketChange,
  startAuditBucket,
  TEST_AUDIT_BUCKET,
  TEST_AUDIT_KEY,
  TEST_AUDIT_PREFIX,
  TEST_AUDIT_REGION,
} from '../helpers/audit-bucket';

const REGION = TEST_AUDIT_REGION;
const BUCKET = TEST_AUDIT_BUCKET;
const PREFIX = TEST_AUDIT_PREFIX;
const AUDIT_KEY = TEST_AUDIT_KEY;
let gateway: OssGateway;
let factory: OssClientFactory;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ gateway, factory, close } = await startAuditBucket(BUCKET, REGION));
});
afterAll(() => close());

/** What someone who can write the audit bucket leaves at a key it can compute: more than any object of ossguard's. */
const huge = () => 'x'.repeat(MAX_OBJECT_BYTES + 1);

const changeOf = (n: number): ChangeRecord => exposedBucketChange('5ca1ab1e', 200 + n);
const audit = () => ({ gateway, bucket: BUCKET, prefix: PREFIX, key: AUDIT_KEY });
const alerted = { decision: 'alerted' as const, reason: 'public-read bucket', findings: [] };

describe('an object in the audit bucket larger than any ossguard writes', () => {
  it('is refused with an error that names it, and one of the cap’s size is still read', async () => {
    await gateway.putObjectIfAbsent(BUCKET, 'planted/huge.json', huge());
    await expect(gateway.getObject(BUCKET, 'planted/huge.json')).rejects.toMatchObject({
      code: 'ObjectTooLarge',
      retryable: false,
      message: expect.stringContaining('planted/huge.json'),
    });
    await gateway.putObjectIfAbsent(BUCKET, 'planted/at-cap.json', 'y'.repeat(MAX_OBJECT_BYTES));
    expect((await gateway.getObject(BUCKET, 'planted/at-cap.json')).length).toBe(MAX_OBJECT_BYTES);
  }, 30_000);

  it('stored gzip-encoded is read as the bytes stored, never inflated in memory before the cap is checked', async () => {
    // 32 MiB of zeros compress to about 32 KiB: an HTTP client that honours Content-Encoding inflates them.
    const bomb = gzipSync(Buffer.alloc(4 * MAX_OBJECT_BYTES));
    await factory
      .client(REGION, BUCKET)
      .put('planted/bomb.json', bomb, { headers: { 'Content-Encoding': 'gzip' } });
    const read = await gateway.getObject(BUCKET, 'planted/bomb.json');
    expect(read.equals(bomb)).toBe(true);
  }, 30_000);

  it('at a change’s record key is not believed, and the change is decided under its next attempt', async () => {
    const change = changeOf(1);
    await gateway.putObjectIfAbsent(BUCKET, auditKey(PREFIX, change.dedupeKey, change.time), huge());
    const opening = await openLedger(audit(), change);
    expect(opening).toMatchObject({ kind: 'open', ledger: { attempt: 2 } });
  }, 30_000);

  it('at a change’s record key is not parsed when built of more objects than any record holds, even signed', async () => {
    const change = changeOf(3);
    const record = changeRecord('oss-acl-guard', change, new Date());
    // Far under the byte cap, but 150,000 objects: a record of the largest policy has about 5,000.
    const costly = Array.from({ length: 150_000 }, () => ({}));
    const signed = sign({ ...record, ...alerted, advice: costly } as typeof record, AUDIT_KEY);
    await gateway.putObjectIfAbsent(
      BUCKET,
      auditKey(PREFIX, change.dedupeKey, change.time),
      JSON.stringify(signed),
    );
    expect(await openLedger(audit(), change)).toMatchObject({ kind: 'open', ledger: { attempt: 2 } });
  }, 30_000);

  it('at a change’s record key is read when as large as the findings of a 16 KB policy of many statements', async () => {
    const change = changeOf(4);
    const record = changeRecord('oss-acl-guard', change, new Date());
    const findings = Array.from({ length: 910 }, (_, n) => ({
      ruleId: 'anonymous-principal',
      severity: 'critical' as const,
      message: `statement ${n}: ${'acs:oss:*:*:b/prefix* '.repeat(25)}`,
      evidence: { statement: n, fix: 'x'.repeat(150) },
      mode: 'alert' as const,
    }));
    const signed = sign({ ...record, ...alerted, rules: findings }, AUDIT_KEY);
    expect(JSON.stringify(signed).length).toBeGreaterThan(600_000);
    await gateway.putObjectIfAbsent(
      BUCKET,
      auditKey(PREFIX, change.dedupeKey, change.time),
      JSON.stringify(signed),
    );
    expect((await openLedger(audit(), change)).kind).toBe('handled');
  }, 30_000);

  it('at a change’s intent key holds back no alert', async () => {
    const change = changeOf(2);
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    await gateway.putObjectIfAbsent(BUCKET, opening.ledger.intentKey, huge());
    const record = changeRecord('oss-acl-guard', change, new Date());
    const claim = await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date());
    expect(claim).toMatchObject({ kind: 'claimed', ledger: { attempt: 2 } });
  }, 30_000);

  it('among the records is reported by the review commands as a problem, not a crash', async () => {
    const key = `${PREFIX}2026/12/07/huge.json`;
    await gateway.putObjectIfAbsent(BUCKET, key, huge());
    const [read] = await new AuditStore(gateway, BUCKET, PREFIX).read([key]);
    expect(read).toMatchObject({ key, problem: expect.stringContaining('larger than') });
  }, 30_000);

  it('in the deferred-work queue is passed over, and the work queued beside it is still drained', async () => {
    const queue = { gateway, bucket: BUCKET, key: AUDIT_KEY };
    const now = new Date();
    const [queued] = await deferWork(queue, {
      from: 'trail-guard/1',
      reason: 'deadline',
      deferredAt: new Date(now.getTime() - 2_000).toISOString(),
      attempt: 0,
      routes: { 'oss-acl-guard': [{ eventId: 'queued-beside' }] },
    });
    await gateway.putObjectIfAbsent(
      BUCKET,
      `${newestFirstKey(`${PIPELINE_PREFIX}deferred/`, now.getTime() - 1_000)}-planted.json`,
      huge(),
    );
    const drained: string[] = [];
    const warned: unknown[] = [];
    const log = { warn: (message: string, fields?: unknown) => warned.push({ message, fields }) };
    for await (const { key } of pendingWork(queue, now, log)) drained.push(key);
    expect(drained).toEqual([queued]);
    expect(warned).toEqual([
      {
        message: expect.stringContaining('deferred-work item passed over'),
        fields: { key: expect.stringMatching(/-planted\.json$/) },
      },
    ]);
  }, 30_000);
});
