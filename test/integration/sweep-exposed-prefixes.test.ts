import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditKey, auditKey, sign } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import type { LedgerAudit } from '../../shared/pipeline/resolve';
import { exposedPrefixes } from '../../shared/sweep/objects';
import { auditRecordOf } from '../helpers/audit-record';
import { OssRig } from '../helpers/oss';

const PREFIX = 'ossguard/audit/';
const KEY: AuditKey = { id: 'kms:ossguard-audit@v1', secret: Buffer.from('a-test-secret-not-a-real-one') };
const DAY = 86_400_000;
const NOW = new Date();
const anyAccount = () => true;

/** A signed record of an object found public at `objectKey`, `daysAgo` days before now. */
const exposure = (id: string, objectKey: string, daysAgo: number) => {
  const time = new Date(NOW.getTime() - daysAgo * DAY).toISOString();
  const record = auditRecordOf({
    eventId: id,
    dedupeKey: id,
    time,
    resource: { bucket: 'site-www', objectKey },
    rules: [
      { ruleId: 'object-acl-public', severity: 'high', message: 'public', evidence: {}, mode: 'enforce' },
    ],
  });
  return { key: auditKey(PREFIX, id, time), body: JSON.stringify(sign(record, KEY)) };
};

describe('the audit records the sweep’s object pass reads for exposed prefixes', () => {
  let rig: OssRig;
  /** Each GetObject of the audit bucket answered after this long. */
  let readDelayMs = 0;
  const audit = (bucket: string): LedgerAudit => ({
    gateway: new OssGateway(
      new OssClientFactory({
        credentials: rig.root,
        endpoint: `http://127.0.0.1:${rig.emulator.port}`,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
      rig.emulator.region,
      new CallLog(),
    ),
    bucket,
    prefix: PREFIX,
    key: KEY,
  });
  const fill = async (bucket: string, records: Array<{ key: string; body: string }>) => {
    await rig.client(rig.root).putBucket(bucket);
    const gateway = audit(bucket).gateway;
    for (const r of records) await gateway.putObjectIfAbsent(bucket, r.key, r.body);
  };

  beforeAll(async () => {
    rig = await new OssRig({
      intercept: ({ operation }) =>
        operation === 'GetObject' && readDelayMs > 0 ? { delayMs: readDelayMs } : undefined,
    }).start();
  });
  afterAll(() => rig.close());

  it('are read newest day first, at most the cap, and what the cap leaves is counted', async () => {
    const bucket = 'capped-audit';
    await fill(bucket, [
      ...Array.from({ length: 5 }, (_, i) => exposure(`old-${i}`, `old/${i}.txt`, 3)),
      ...Array.from({ length: 5 }, (_, i) => exposure(`new-${i}`, `new/${i}.txt`, 0)),
    ]);

    const { prefixes, counts } = await exposedPrefixes(
      audit(bucket),
      { now: NOW, deadline: Number.POSITIVE_INFINITY, clock: () => new Date(), maxRecords: 5 },
      anyAccount,
    );

    expect(prefixes.map((p) => p.prefix)).toEqual(['new/']);
    expect(counts).toEqual({ records: 5, untrusted: 0, recordsUnread: 0, daysUnlisted: 7 });
  });

  it('are read no further than the run’s deadline, and what it leaves is counted', async () => {
    const bucket = 'slow-audit';
    const total = 300;
    await fill(
      bucket,
      Array.from({ length: total }, (_, i) => exposure(`slow-${i}`, `slow/${i}.txt`, 0)),
    );
    readDelayMs = 100;
    try {
      const started = Date.now();
      const { counts } = await exposedPrefixes(
        audit(bucket),
        { now: NOW, deadline: started + 300, clock: () => new Date() },
        anyAccount,
      );
      // All of them would take 300 × 100 ms / 16 at once, close to 1.9 s.
      expect(Date.now() - started).toBeLessThan(1_200);
      expect(counts.recordsUnread).toBeGreaterThan(0);
      expect(counts.records + counts.recordsUnread).toBe(total);
    } finally {
      readDelayMs = 0;
    }
  });

  it('name no prefix from a record the audit key does not verify', async () => {
    const bucket = 'planted-audit';
    const real = exposure('real', 'real/a.txt', 1);
    const planted = exposure('planted', 'planted/a.txt', 0);
    const forged = JSON.stringify({ ...JSON.parse(planted.body), mac: '0'.repeat(64) });
    await fill(bucket, [
      real,
      { key: planted.key, body: forged },
      { key: auditKey(PREFIX, 'junk', NOW.toISOString()), body: 'not json' },
    ]);

    const { prefixes, counts } = await exposedPrefixes(
      audit(bucket),
      { now: NOW, deadline: Number.POSITIVE_INFINITY, clock: () => new Date() },
      anyAccount,
    );

    expect(prefixes.map((p) => p.prefix)).toEqual(['real/']);
    expect(counts).toMatchObject({ records: 3, untrusted: 2 });
  });
});
