import type { UnsignedAuditRecord } from '../../shared/audit/record';

/**
 * A record of oss-acl-guard making bucket site-www private after a RAM user's PutBucketAcl, unsigned, with
 * `patch` applied: each test changes what it is about.
 */
export const auditRecordOf = (patch: Partial<UnsignedAuditRecord> = {}): UnsignedAuditRecord => ({
  schemaVersion: 1,
  eventId: 'e-1',
  dedupeKey: 'actiontrail:e-1',
  eventName: 'PutBucketAcl',
  eventType: 'ApiCall',
  time: '2026-11-28T10:00:00Z',
  decidedAt: '2026-11-28T10:00:02Z',
  guard: 'oss-acl-guard',
  region: 'cn-hangzhou',
  actor: { type: 'ram-user', userName: 'Alice.Ops', principalId: '200000000000000001' },
  resource: { bucket: 'site-www' },
  rules: [
    { ruleId: 'bucket-acl-public-read', severity: 'high', message: 'public', evidence: {}, mode: 'enforce' },
  ],
  decision: 'remediated',
  reason: 'made private',
  dryRun: false,
  ossguardVersion: '0.1.0',
  requestIds: [],
  alerts: [],
  ...patch,
});
