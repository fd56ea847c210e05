import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestFirstKey } from '../../shared/audit/newest-first';
import type { AuditKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import type { ChangeRecord } from '../../shared/events/types';
import { createLogger } from '../../shared/log';
import {
  type MarkBook,
  noteJudged,
  noteRemediation,
  overwrittenDuring,
  type RemediationMark,
  tiedToRemediation,
} from '../../shared/pipeline/remediated';
import type { Decision } from '../../shared/pipeline/types';
import { TEST_AUDIT_KEY } from '../helpers/audit-bucket';
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

/** The marks of one invocation of GUARD, in the rig's audit bucket, with no retries. */
const markBook = (
  rig: OssRig,
  options: {
    calls?: CallLog;
    written?: Map<string, RemediationMark>;
    key?: AuditKey | undefined;
    log?: (line: string) => void;
  },
): MarkBook => ({
  gateway: new OssGateway(
    new OssClientFactory({
      credentials: rig.root,
      endpoint: `http://127.0.0.1:${rig.emulator.port}`,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    }),
    rig.emulator.region,
    options.calls ?? new CallLog(),
  ),
  bucket: AUDIT,
  guard: GUARD,
  log: createLogger({}, options.log ?? (() => {})),
  written: options.written ?? new Map(),
  key: options.key,
  now: () => new Date(),
});

const passing: Decision = { decision: 'skipped', reason: 'the bucket is private', findings: [] };

describe('remediation marks', () => {
  let rig: OssRig;
  const book = (calls: CallLog, written = new Map<string, RemediationMark>()): MarkBook =>
    markBook(rig, { calls, written });

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

describe('remediation marks someone planted in the audit bucket', () => {
  let rig: OssRig;
  const AUDIT_KEY = TEST_AUDIT_KEY;
  const warnings: string[] = [];
  const book = (key: AuditKey | undefined): MarkBook =>
    markBook(rig, { key, log: (line) => warnings.push(line) });
  const onBucket = (bucket: string, eventId: string, time: string): ChangeRecord => ({
    ...change(eventId, time),
    resources: { bucket },
  });
  /** What a writer without the audit key leaves beside a real mark: the key scheme is public. */
  const plant = async (realKey: string, at: Date, body: object) => {
    const dir = realKey.slice(0, realKey.lastIndexOf('/') + 1);
    const key = `${newestFirstKey(dir, at.getTime())}-planted00000.json`;
    await book(undefined).gateway.putObjectIfAbsent(AUDIT, key, JSON.stringify(body));
  };
  /** A revert's real mark, and a change made while that repair was under way: the repair wrote over it. */
  const marksOf = async (bucket: string, eventId: string, auditKey?: AuditKey) => {
    const ago = (ms: number) => new Date(Date.now() - ms);
    const reverted = onBucket(bucket, eventId, ago(120_000).toISOString());
    await noteRemediation(book(auditKey), reverted, 'audit/real.json', ago(60_000), { acl: 'private' });
    const real = await keyContaining(
      book(auditKey),
      'ossguard/pipeline/remediated/',
      sha12(reverted.dedupeKey),
    );
    if (!real) throw new Error('the real mark was not written');
    return { real, later: onBucket(bucket, `${eventId}-later`, ago(90_000).toISOString()) };
  };
  /** The first key under `prefix` with `part` in its name, page after page (the carpets below fill pages). */
  const keyContaining = async (marks: MarkBook, prefix: string, part: string) => {
    let token: string | undefined;
    do {
      const listed = await marks.gateway.listObjects(AUDIT, prefix, token);
      const found = listed.keys.find((k) => k.key.includes(`-${part}`));
      if (found) return found.key;
      token = listed.next;
    } while (token);
    return undefined;
  };
  const sha12 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);
  const overwritten = { liveSnapshot: async () => ({ acl: 'private' }) };
  const planted = (at: Date) => ({
    eventId: 'ev-planted',
    eventName: 'PutBucketAcl',
    auditKey: 'audit/planted.json',
    at: at.toISOString(),
    changedAt: new Date(0).toISOString(),
    wrote: { acl: 'public-read-write' },
  });

  beforeAll(async () => {
    rig = await new OssRig().start();
    await rig.client(rig.root).putBucket(AUDIT);
  });
  afterAll(() => rig.close());

  it('do not hide the real newest revert when unsealed, so a change the repair wrote over is still alerted', async () => {
    const { real, later } = await marksOf('unsealed-plant', 'ev-u', AUDIT_KEY);
    await plant(real, new Date(), planted(new Date()));
    const decided = await tiedToRemediation(book(AUDIT_KEY), later, passing, overwritten);
    expect(decided.decision).toBe('alerted');
    expect(decided.remediatedBy?.auditKey).toBe('audit/real.json');
    expect(warnings.join('\n')).toContain('pipeline mark passed over');
  });

  /** `count` names planted ahead of a real mark, dated from `from` on, `at` a time, as fast as the bucket takes them. */
  const carpet = async (real: string, count: number, from: number) => {
    const limit = pLimit(32);
    await Promise.all(
      Array.from({ length: count }, (_, n) => limit(() => plant(real, new Date(from + n), {}))),
    );
  };

  it('are looked for past pages of planted names, and a repair the names hid is still found', async () => {
    const { real, later } = await marksOf('carpeted-plant', 'ev-p', AUDIT_KEY);
    await carpet(real, 1_200, Date.now() - 30_000);
    const decided = await tiedToRemediation(book(AUDIT_KEY), later, passing, overwritten);
    expect(decided).toMatchObject({ decision: 'alerted', remediatedBy: { auditKey: 'audit/real.json' } });
  }, 60_000);

  it('alert, saying so, when planted names fill every page a repair looks through', async () => {
    const { real, later } = await marksOf('flooded-plant', 'ev-fl', AUDIT_KEY);
    await carpet(real, 5_001, Date.now() - 30_000);
    const decided = await tiedToRemediation(book(AUDIT_KEY), later, passing, overwritten);
    expect(decided).toMatchObject({
      decision: 'alerted',
      reason: expect.stringContaining('could not be read past the names'),
    });
  }, 120_000);

  it('are passed over unread when more planted names than a repair reads list before the real one', async () => {
    const { real, later } = await marksOf('crowded-plant', 'ev-c', AUDIT_KEY);
    for (let n = 0; n < 25; n++) await plant(real, new Date(Date.now() + 30_000 + n), planted(new Date()));
    const calls = new CallLog();
    const decided = await tiedToRemediation(
      markBook(rig, { calls, key: AUDIT_KEY }),
      later,
      passing,
      overwritten,
    );
    expect(decided.remediatedBy?.auditKey).toBe('audit/real.json');
    expect(calls.entries.filter((c) => c.operation === 'GetObject')).toHaveLength(1);
  });

  it('do not hide the real newest revert when dated far ahead, even without an audit key', async () => {
    const { real, later } = await marksOf('future-plant', 'ev-f');
    const farAhead = new Date('2200-01-01T00:00:00Z');
    for (let n = 0; n < 30; n++) await plant(real, new Date(farAhead.getTime() + n), planted(farAhead));
    const decided = await tiedToRemediation(book(undefined), later, passing, overwritten);
    expect(decided.decision).toBe('alerted');
    expect(decided.remediatedBy?.auditKey).toBe('audit/real.json');
  });

  it('do not hide a change judged while a repair was under way, nor make one up, when unsealed or dated ahead', async () => {
    const started = new Date(Date.now() - 10_000);
    const repaired = onBucket('judged-plant', 'ev-j', new Date(Date.now() - 20_000).toISOString());
    const judged = onBucket('judged-plant', 'ev-j-judged', new Date(Date.now() - 5_000).toISOString());
    const at = { started, overwrites: ['PutBucketAcl'] };
    const remediated: Decision = { decision: 'remediated', reason: 'reverted', findings: [] };
    // Only planted marks: an unsealed one dated now names no change that was written over.
    const lone = onBucket('judged-plant', 'ev-j-lone', new Date(Date.now() - 20_000).toISOString());
    await noteJudged(book(undefined), judged, new Date());
    const { keys } = await book(undefined).gateway.listObjects(AUDIT, 'ossguard/pipeline/judged/');
    const [planted] = keys.map((k) => k.key);
    if (!planted) throw new Error('no judged mark');
    for (let n = 0; n < 30; n++) await plant(planted, new Date(Date.parse('2200-01-01T00:00:00Z') + n), {});
    expect((await overwrittenDuring(book(AUDIT_KEY), lone, remediated, at)).reason).toBe('reverted');
    // A real judged mark, sealed, behind thirty keys dated far ahead: still found.
    await noteJudged(
      book(AUDIT_KEY),
      { ...judged, eventId: 'ev-j-real', dedupeKey: 'record:ev-j-real' },
      new Date(),
    );
    const found = await overwrittenDuring(book(AUDIT_KEY), repaired, remediated, at);
    expect(found.reason).toContain('ev-j-real');
  });
});
