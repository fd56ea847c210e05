import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultInjector } from '../../local/faults';
import { cursorAt } from '../../local/sls/store';
import type { AuditRecord } from '../../shared/audit/record';
import { checkSoak, type SoakReport } from './checks';
import type { MadeChange, SoakRun } from './run';
import { type Change, groupOf, type PolicyChoice, policyDocument } from './world';

/**
 * The soak's oracle on one bucket's policy changes, over a cloud that holds nothing else: what the checks say
 * of the records of changes #170 (the owner's `mixed` policy, repaired by strip) and #182 (the owner's `owner`
 * policy) of seed 20261128, as a run under load recorded them.
 */
const BUCKET = 'soak-b-07';
const text = (choice: PolicyChoice): string | null => {
  const document = policyDocument(BUCKET, choice);
  return document && JSON.stringify(document);
};

function made(seq: number, policy: PolicyChoice, expected: MadeChange['expected']): MadeChange {
  const change: Change = { kind: 'bucket-policy', bucket: BUCKET, policy };
  const eventId = `event-${seq}`;
  return {
    seq,
    change,
    group: groupOf(change),
    expected,
    critical: false,
    userRetries: 0,
    settlement: 'handled',
    event: {
      via: 'bus',
      key: eventId,
      id: `cloud-${seq}`,
      eventName: 'PutBucketPolicy',
    } as MadeChange['event'],
  };
}

function record(of: MadeChange, fields: Partial<AuditRecord>): AuditRecord {
  const eventId = of.event?.key ?? '';
  return {
    eventId,
    dedupeKey: eventId,
    eventName: 'PutBucketPolicy',
    guard: 'oss-policy-guard',
    rules: [],
    requestIds: [],
    alerts: [{ channel: 'email', ok: true }],
    ...fields,
  } as unknown as AuditRecord;
}

/** What a run saw beside the records: the mails SMTP took, and the dead letters and their re-drives. */
interface Seen {
  /** The functions' log lines. */
  logs?: Array<{ message: string }>;
  /** A change whose trail event was in a log range delivered once and failed. */
  failedRangeOf?: MadeChange;
  mails?: string[];
  deadLettered?: Array<{ id: string; error: string }>;
  redriven?: Array<{ id: string; ok: boolean }>;
}

/** The report, with only the violations of the changes themselves (the empty cloud fails the final-state checks). */
function check(changes: MadeChange[], records: AuditRecord[], seen: Seen = {}): SoakReport {
  const report = checkRun(changes, records, seen);
  return { ...report, violations: report.violations.filter((v) => v.startsWith('change #')) };
}

/** One failed delivery of a range holding the change's trail event (test/soak/tracker.ts `rangeHolds`). */
function failedRanges(of: MadeChange | undefined) {
  if (of?.event?.via !== 'trail') return [];
  const source = { shardId: 0, beginCursor: cursorAt(0), endCursor: cursorAt(1000) };
  return [{ ok: false, event: { source }, error: { name: 'InvocationFailedError' } }];
}

function checkRun(changes: MadeChange[], records: AuditRecord[], seen: Seen): SoakReport {
  const none = () => [];
  const mails = (seen.mails ?? []).map((text) => ({ mail: { text } }));
  const cloud = {
    bus: { deliveries: none, history: none, deadLetters: none },
    logTriggers: { deliveries: () => failedRanges(seen.failedRangeOf), deadLetters: none },
    fc: { logs: seen.logs ?? [] },
    oss: { bucket: () => undefined, object: () => undefined },
    identities: { users: new Map(), rootKeys: [] },
    smtp: { messages: () => mails },
    dingtalk: { messages: none, requests: none },
    trailDataEvents: none,
    trailManagementEvents: none,
  } as unknown as LocalCloud;
  const faults = { stats: () => ({ calls: 1, faults: 0, byKind: {} }) } as unknown as FaultInjector;
  const run = {
    made: changes,
    records,
    cloud,
    faults,
    deadLettered: seen.deadLettered ?? [],
    redriven: seen.redriven ?? [],
    identity: { attached: {}, defaults: {} },
    durationMs: 0,
  } as unknown as SoakRun;
  return checkSoak(run);
}

describe("the soak's checks, of an owner's bucket policy after ossguard's repair of it,", () => {
  const repaired = made(170, 'mixed', 'remediated');
  const repair = record(repaired, {
    decision: 'remediated',
    reason: 'remove statement(s) 1 from the policy',
    after: { policy: text('owner'), removedStatements: '1' },
  });
  const alertedAsLost = (of: MadeChange) =>
    record(of, {
      decision: 'alerted',
      reason: `this PutBucketPolicy of 2026-12-07T05:47:43Z may have been written over by ossguard's repair for PutBucketPolicy event-170 (at 2026-12-07T05:47:43.399Z): if so it could not be kept; the live state is what the repair wrote (event times are whole seconds: a change that set exactly that looks the same). Check it and make the change again`,
      remediatedBy: { eventId: 'event-170', eventName: 'PutBucketPolicy', auditKey: 'k' },
    });

  it('accept the alert on a change that set exactly what the repair wrote, and list it', () => {
    const owner = made(182, 'owner', 'skipped');
    const report = check([repaired, owner], [repair, alertedAsLost(owner)]);
    expect(report.violations).toEqual([]);
    expect(report.alertedSameAsRepair).toEqual([
      { seq: 182, eventId: 'cloud-182', repairEventId: 'event-170' },
    ]);
  });

  it('still fail the alert on a change that set anything else than the repair wrote', () => {
    const deleted = made(182, 'delete', 'skipped');
    expect(check([repaired, deleted], [repair, alertedAsLost(deleted)]).violations).toEqual([
      expect.stringMatching(/^change #182 .*: audit decision alerted .*, expected skipped$/),
    ]);
  });

  it('still fail the alert when the repair it names was of no earlier change of the bucket', () => {
    const owner = made(182, 'owner', 'skipped');
    const later = { ...repaired, seq: 190 };
    expect(check([later, owner], [repair, alertedAsLost(owner)]).violations).toHaveLength(1);
  });
});

describe("the soak's checks, of an alert mailed twice,", () => {
  const change = made(40, 'owner', 'alerted');
  const alerted = record(change, { decision: 'alerted', reason: 'alert only' });
  const mail = `ossguard alert ${alerted.dedupeKey} · 2026-12-07T06:00:00Z`;
  const mailed = (report: SoakReport) =>
    report.violations.filter((v) => v.startsWith(`alert ${alerted.dedupeKey}`));
  const claimed = {
    id: 'cloud-40',
    via: 'bus',
    attempts: 4,
    maxAttempts: 4,
    failures: ['InvocationFailedError'],
    error: `InvocationFailedError: 1 change(s) not finished: ${alerted.dedupeKey} (another delivery of this event is alerting on it)`,
  };

  it('accept it when every delivery waited on a claim left without a record and the re-drive took over, and list it', () => {
    const report = checkRun([change], [alerted], {
      mails: [mail, mail],
      deadLettered: [claimed],
      redriven: [{ id: 'cloud-40', ok: true }],
    });
    expect(mailed(report)).toEqual([]);
    expect(report.alertedAgainAfterTakeover).toEqual([alerted.dedupeKey]);
  });

  it('fail it when nothing was dead-lettered and re-driven', () => {
    const report = checkRun([change], [alerted], { mails: [mail, mail] });
    expect(mailed(report)).toEqual([
      `alert ${alerted.dedupeKey} was mailed 2 times`,
      `alert ${alerted.dedupeKey}: audit says email true, SMTP has 2`,
    ]);
  });
});

describe("the soak's checks, of two ACL changes of one bucket handled out of order,", () => {
  const ACCOUNT = '2234567890123456';
  const aclChange = (seq: number, acl: 'private' | 'public-read', expected: MadeChange['expected']) => {
    const change: Change = {
      kind: 'member',
      account: ACCOUNT,
      change: { kind: 'bucket-acl', bucket: 'soak-m2-01', acl },
    };
    return {
      ...made(seq, 'owner', expected),
      change,
      group: groupOf(change),
      event: {
        via: 'trail',
        key: `event-${seq}`,
        id: `event-${seq}`,
        eventName: 'PutBucketAcl',
        data: { shardId: 0, position: seq },
      },
    } as MadeChange;
  };
  const aclRecord = (of: MadeChange, fields: Partial<AuditRecord>) =>
    record(of, {
      eventName: 'PutBucketAcl',
      accountId: ACCOUNT,
      deployAccountId: '1234567890123456',
      ...fields,
    } as Partial<AuditRecord>);
  // Changes #215 and #246 of seed 20261128 as CI's soak at 09:19 recorded them.
  const passing = aclChange(215, 'private', 'skipped');
  const exposing = aclChange(246, 'public-read', 'remediated');
  const repairedOnPassing = aclRecord(passing, {
    decision: 'remediated',
    reason: 'set the bucket ACL to private',
  });
  const foundRepaired = (tie: MadeChange) =>
    aclRecord(exposing, {
      decision: 'skipped',
      reason: `bucket ACL is private: ossguard reverted it after this change, for PutBucketAcl ${tie.event?.key}`,
      remediatedBy: { eventId: tie.event?.key ?? '', eventName: 'PutBucketAcl', auditKey: 'k' },
    });

  it('accept the repair made on the earlier change, held up by a failed delivery, when the later change that made it public names it, and list it', () => {
    const report = check([passing, exposing], [repairedOnPassing, foundRepaired(passing)], {
      failedRangeOf: passing,
    });
    expect(report.violations).toEqual([]);
    expect(report.repairedOnAnEarlierChange).toEqual([{ seq: 246, repairedOnSeq: 215 }]);
  });

  it('still fail the pair when nothing held the earlier change up (one batch judges the newest first)', () => {
    const report = check([passing, exposing], [repairedOnPassing, foundRepaired(passing)]);
    expect(report.violations).toHaveLength(2);
  });

  it('still fail a repair on a passing change when no later change names it', () => {
    const unrepaired = aclRecord(exposing, { decision: 'skipped', reason: 'bucket ACL is private' });
    expect(check([passing, exposing], [repairedOnPassing, unrepaired]).violations).toEqual([
      expect.stringMatching(/^change #215 .*: audit decision remediated .*, expected skipped$/),
      expect.stringMatching(/^change #246 .*: audit decision skipped .*, expected remediated$/),
    ]);
  });

  it('still fail a skip that names a repair of a later change', () => {
    const later = aclChange(250, 'private', 'skipped');
    const report = check(
      [passing, exposing, later],
      [
        aclRecord(passing, { decision: 'skipped', reason: 'bucket ACL is private' }),
        foundRepaired(later),
        aclRecord(later, { decision: 'remediated', reason: 'set the bucket ACL to private' }),
      ],
    );
    expect(report.violations).toHaveLength(2);
  });
});

describe("the soak's checks, of a public bucket ACL recorded as found private,", () => {
  const change = made(284, 'owner', 'remediated');
  const skipped = record(change, { decision: 'skipped', reason: 'bucket ACL is private' });
  const warning = (message: string) => ({
    message: JSON.stringify({ level: 'warn', message, eventId: skipped.eventId }),
  });

  it('list it as rewritten when the delivery that reverted it could not write its intent', () => {
    const report = check([change], [skipped], { logs: [warning('intent record could not be written')] });
    expect(report.violations).toEqual([]);
    expect(report.decisionsRewrittenOnRedelivery).toEqual([
      { seq: 284, eventId: 'cloud-284', expected: 'remediated', recorded: 'skipped' },
    ]);
  });

  it('fail it when no delivery said so', () => {
    expect(check([change], [skipped], { logs: [warning('something else')] }).violations).toEqual([
      expect.stringMatching(/^change #284 .*: audit decision skipped .*, expected remediated$/),
    ]);
  });
});
