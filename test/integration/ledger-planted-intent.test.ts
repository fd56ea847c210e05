import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts/types';
import { type AuditKey, auditKey, sign } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import type { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig } from '../../shared/config/load';
import type { ChangeRecord } from '../../shared/events/types';
import { createLogger } from '../../shared/log';
import { deliverOwn } from '../../shared/pipeline/deliver';
import { cappedSummary, changeRecord } from '../../shared/pipeline/records';
import { claimAlert, openLedger, resolveSkipped, writeIntent } from '../../shared/pipeline/resolve';
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

const changeOf = (n: number): ChangeRecord => exposedBucketChange('e7a1c0de', 100 + n);
const audit = () => ({ gateway, bucket: BUCKET, prefix: PREFIX, key: AUDIT_KEY });
const alerted = { decision: 'alerted' as const, reason: 'public-read bucket', findings: [] };
const remediated = { decision: 'remediated' as const, reason: 'public-read bucket', findings: [] };
const silent = createLogger({}, () => undefined);

/** What someone who can write the audit bucket, but has no audit key, leaves at a key: unsigned. */
const planted = (change: ChangeRecord, decidedAt = new Date().toISOString()) =>
  JSON.stringify({ ...changeRecord('oss-acl-guard', change, new Date()), decidedAt, digest: 'planted' });

describe('an object planted at a change’s intent key', () => {
  it('does not hold back the alert of an alert-only change, even when it claims to be from the far future', async () => {
    const change = changeOf(1);
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    await gateway.putObjectIfAbsent(
      BUCKET,
      opening.ledger.intentKey,
      planted(change, '9999-12-31T00:00:00.000Z'),
    );
    const record = changeRecord('oss-acl-guard', change, new Date());
    const first = await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date());
    expect(first).toMatchObject({ kind: 'claimed' });
    // The other path delivering the same change finds this delivery's claim, not the planted one: one alert.
    const second = await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date());
    expect(second).toMatchObject({ kind: 'retry' });
  }, 30_000);

  it('does not take a revert for another delivery’s, and a redelivery finishes its record from its own intent', async () => {
    const change = changeOf(2);
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    await gateway.putObjectIfAbsent(BUCKET, opening.ledger.intentKey, planted(change));
    const record = changeRecord('oss-acl-guard', change, new Date());
    const written = await writeIntent(opening.ledger, record, remediated, new CallLog(), silent);
    expect(written.intent).toBe('free');
    expect(written.ledger.intentKey).not.toBe(opening.ledger.intentKey);
    // The delivery died after the revert, before its record: the redelivery reads the fixed state (skipped).
    const again = await openLedger(audit(), change);
    if (again.kind !== 'open') throw new Error('the ledger should be open');
    const skipped = { decision: 'skipped' as const, reason: 'already private', findings: [] };
    const settled = await resolveSkipped(again.ledger, record, skipped, new CallLog());
    expect(settled).toMatchObject({
      kind: 'record',
      pending: { key: written.ledger.recordKey, record: { decision: 'remediated' } },
    });
  }, 30_000);
});

describe('a change whose every attempt key under the old naming holds a planted record', () => {
  it('is recorded once under a key the planter could not predict', async () => {
    const change = changeOf(3);
    for (let n = 1; n <= 8; n++) {
      const dedupeKey = n === 1 ? change.dedupeKey : `${change.dedupeKey}#attempt-${n}`;
      await gateway.putObjectIfAbsent(BUCKET, auditKey(PREFIX, dedupeKey, change.time), planted(change));
    }
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    const record = { ...changeRecord('oss-acl-guard', change, new Date()), dedupeKey: opening.dedupeKey };
    // The alert goes out, then the record: it must be kept, or the next run alerts again.
    const kept = await gateway.putObjectIfAbsent(
      BUCKET,
      opening.ledger.recordKey,
      JSON.stringify(sign({ ...record, ...alerted }, AUDIT_KEY)),
    );
    expect(kept).not.toBe('exists');
    expect((await openLedger(audit(), change)).kind).toBe('handled');
  });
});

describe('a summary of its own a source reports, whose every attempt key under the old naming holds a planted record', () => {
  it('is alerted on once and recorded, however often the source runs', async () => {
    const now = new Date();
    const summary = cappedSummary('key-sweep', 3, {
      invocationId: 'sweep-1',
      batch: { id: 'sweep-of-the-day', time: now.toISOString() },
      cap: 5,
      auditPrefix: PREFIX,
      now,
    });
    for (let n = 1; n <= 8; n++) {
      const key = n === 1 ? summary.record.dedupeKey : `${summary.record.dedupeKey}#attempt-${n}`;
      await gateway.putObjectIfAbsent(
        BUCKET,
        auditKey(PREFIX, key, summary.record.time),
        JSON.stringify({ ...summary.record, dedupeKey: key, digest: 'planted' }),
      );
    }
    const sent: Alert[] = [];
    const deps = {
      runtime: {
        config: parseConfig(`audit:\n  bucket: ${BUCKET}\n  prefix: ${PREFIX}\n`),
        secrets: { auditKey: 'a-test-secret-not-a-real-one' },
        endpoints: {},
      },
      oss: factory,
      region: REGION,
      dispatch: async (alerts: Alert[]) => {
        sent.push(...alerts);
        return new Map();
      },
      log: silent,
      invocationId: 'sweep-1',
      now: () => now,
    };
    // The sweep runs every hour: the day's summary goes out the first time only.
    await deliverOwn([summary], deps);
    await deliverOwn([summary], { ...deps, invocationId: 'sweep-2' });
    expect(sent).toHaveLength(1);
  });
});

describe('the key of a change’s attempt after the first', () => {
  const NEW_KEY: AuditKey = { id: 'kms:ossguard-audit@v2', secret: Buffer.from('the-rotated-test-secret') };

  it('still finds the record made under the audit key’s version before a rotation', async () => {
    const change = changeOf(4);
    await gateway.putObjectIfAbsent(BUCKET, auditKey(PREFIX, change.dedupeKey, change.time), planted(change));
    const before = await openLedger(audit(), change);
    if (before.kind !== 'open') throw new Error('the ledger should be open');
    const record = { ...changeRecord('oss-acl-guard', change, new Date()), dedupeKey: before.dedupeKey };
    await gateway.putObjectIfAbsent(
      BUCKET,
      before.ledger.recordKey,
      JSON.stringify(sign({ ...record, ...alerted }, AUDIT_KEY)),
    );
    const rotated = { ...audit(), key: NEW_KEY, previousKey: AUDIT_KEY };
    expect(await openLedger(rotated, change)).toMatchObject({
      kind: 'handled',
      ledger: { recordKey: before.ledger.recordKey },
    });
  });

  it('is numbered as before when there is no audit key to make it with', async () => {
    const change = changeOf(5);
    await gateway.putObjectIfAbsent(BUCKET, auditKey(PREFIX, change.dedupeKey, change.time), planted(change));
    const opening = await openLedger({ ...audit(), key: undefined }, change);
    expect(opening).toMatchObject({ kind: 'open', dedupeKey: `${change.dedupeKey}#attempt-2` });
  });
});

describe('an alert-only change whose other delivery holds the claim', () => {
  it('is not taken as handled by an object someone planted at its record’s key', async () => {
    const change = changeOf(9);
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    const record = changeRecord('oss-acl-guard', change, new Date());
    // The other delivery claimed the change and is alerting on it: its record is not written yet.
    expect(await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date())).toMatchObject({
      kind: 'claimed',
    });
    // Someone who can write the audit bucket (but has no audit key) plants a record there meanwhile.
    await gateway.putObjectIfAbsent(
      BUCKET,
      opening.ledger.recordKey,
      JSON.stringify({ ...record, decision: 'skipped', digest: 'planted' }),
    );
    const second = await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date());
    // Not a duplicate nobody alerts on: the change waits for the claim's holder and is delivered again.
    expect(second).toMatchObject({ kind: 'retry' });
  }, 30_000);
});

describe('a claim dated ahead of now by more than the clocks of two instances differ', () => {
  it('is not believed to be under way, so the change is alerted on rather than retried for ever', async () => {
    const change = changeOf(6);
    const opening = await openLedger(audit(), change);
    if (opening.kind !== 'open') throw new Error('the ledger should be open');
    const record = { ...changeRecord('oss-acl-guard', change, new Date()), dedupeKey: opening.dedupeKey };
    const ahead = { ...record, ...alerted, decidedAt: '9999-12-31T00:00:00.000Z' };
    await gateway.putObjectIfAbsent(BUCKET, opening.ledger.intentKey, JSON.stringify(sign(ahead, AUDIT_KEY)));
    const claim = await claimAlert(opening.ledger, record, alerted, new CallLog(), new Date());
    expect(claim).toMatchObject({ kind: 'claimed' });
  }, 30_000);
});
