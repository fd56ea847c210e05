import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import type { OssGateway } from '../../shared/clients/oss';
import type { ChangeRecord } from '../../shared/events/types';
import { changeRecord } from '../../shared/pipeline/records';
import { claimAlert, openLedger } from '../../shared/pipeline/resolve';
import { startAuditBucket } from '../helpers/audit-bucket';

const REGION = 'cn-hangzhou';
const BUCKET = 'audit-bucket';
const AUDIT_KEY: AuditKey = {
  id: 'kms:ossguard-audit@v1',
  secret: Buffer.from('a-test-secret-not-a-real-one'),
};
let gateway: OssGateway;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ gateway, close } = await startAuditBucket(BUCKET, REGION));
});
afterAll(() => close());

const change: ChangeRecord = {
  dedupeKey: 'e7a1c0de-0000-4000-8000-000000000001',
  eventId: 'e7a1c0de-0000-4000-8000-000000000001',
  eventName: 'PutBucketAcl',
  eventType: 'ApiCall',
  service: 'Oss',
  region: REGION,
  time: new Date().toISOString(),
  actor: { type: 'ram-user', userName: 'mallory' },
  resources: { bucket: 'exposed' },
  requestParameters: {},
  origin: 'cloudevent',
};

describe('an alert-only change whose other delivery holds the claim', () => {
  it('is not taken as handled by an object someone planted at its record’s key', async () => {
    const audit = { gateway, bucket: BUCKET, prefix: 'ossguard/audit/', key: AUDIT_KEY };
    const opening = await openLedger(audit, change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    const record = changeRecord('oss-acl-guard', change, new Date());
    const decision = { decision: 'alerted' as const, reason: 'public-read bucket', findings: [] };
    // The other delivery claimed the change and is alerting on it: its record is not written yet.
    expect(await claimAlert(opening.ledger, record, decision, new CallLog(), new Date())).toMatchObject({
      kind: 'claimed',
    });
    // Someone who can write the audit bucket (but has no audit key) plants a record there meanwhile.
    await gateway.putObjectIfAbsent(
      BUCKET,
      opening.ledger.recordKey,
      JSON.stringify({ ...record, decision: 'skipped', digest: 'planted' }),
    );
    const second = await claimAlert(opening.ledger, record, decision, new CallLog(), new Date());
    // Not a duplicate nobody alerts on: the change waits for the claim's holder and is delivered again.
    expect(second).toMatchObject({ kind: 'retry' });
  }, 30_000);
});
