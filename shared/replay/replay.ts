import { planListing } from '../audit/query';
import { auditKey, type DecisionKind } from '../audit/record';
import { type AuditStore, parseStored } from '../audit/store';
import { type VerifyOptions, verifyAudit } from '../audit/verify';
import { isNotFound } from '../clients/oss';
import { describeError } from '../errors';
import { ACL_GUARD_EVENTS, KEY_FUNCTION_EVENTS, POLICY_GUARD_EVENTS } from '../events/names';
import { parseEvents } from '../events/parse-actiontrail-events';
import type { ChangeResources } from '../events/types';
import { type DecisionSummary, isCompleted, wasJudged } from '../pipeline/run';
import type { GuardName } from '../rules/types';
import type { PagedLookup } from './lookup';

/** A guard whose events are replayed, and how to run a LookupEvents page through its function. */
export interface ReplayGuard {
  name: GuardName;
  events: readonly string[];
  /**
   * Runs `{Events: [...]}` through the guard's FC handler. A handler that met cloud faults throws an error
   * carrying `failures` (InvocationFailedError); the other changes of the page were decided and audited.
   */
  invoke(body: Buffer): Promise<{ decisions: DecisionSummary[] }>;
}

/** Each guard and the ActionTrail event names its function handles (its s.yaml trigger's filter). */
export const REPLAYABLE_GUARDS: ReadonlyArray<Pick<ReplayGuard, 'name' | 'events'>> = [
  { name: 'oss-acl-guard', events: ACL_GUARD_EVENTS },
  { name: 'oss-policy-guard', events: POLICY_GUARD_EVENTS },
  { name: 'access-key-guard', events: KEY_FUNCTION_EVENTS },
];

export type ReplayOutcome = 'acted' | 'already-handled' | 'skipped' | 'failed';

export interface ReplayedEvent {
  guard: GuardName;
  eventId: string;
  eventName: string;
  time: string;
  resource: ChangeResources;
  decision: DecisionKind | 'already-handled';
  outcome: ReplayOutcome;
  reason: string;
  rules: string[];
}

export interface ReplaySummary {
  seen: number;
  acted: number;
  alreadyHandled: number;
  skipped: number;
  failed: number;
}

export type ReplayProgress = (phase: 'lookup' | 'replay', done: number, total: number) => void;

export interface ReplayOptions {
  guards: readonly ReplayGuard[];
  since: Date;
  until: Date;
  lookup: PagedLookup;
  /** ActionTrail eventIds that already have an audit record (see handledEventIds). */
  handled: ReadonlySet<string>;
  /** Where this run's functions write their records: read back when an invocation fails part-way. */
  records: AuditStore;
  onProgress?: ReplayProgress;
  onEvent?: (event: ReplayedEvent) => void;
  /** Attempts per page when the function fails on cloud faults (EventBridge would redeliver). */
  invokeAttempts?: number;
  retryDelayMs?: number;
}

/** LookupEvents' own page size: a replayed invocation carries what one page would. */
const PAGE_SIZE = 50;

interface Found {
  raw: unknown;
  eventId: string;
  eventName: string;
  time: string;
  dedupeKey: string;
  resource: ChangeResources;
}

/**
 * The eventIds the audit log shows handled in the window's day partitions. EventBridge deliveries are audited
 * under the CloudEvent's `source/id`, which a LookupEvents record does not carry, so "already handled" cannot
 * be answered by the pipeline's key check alone; every record keeps the ActionTrail `eventId`, so records are
 * indexed by it. Only a record that `verifyAudit` finds nothing wrong with (its digest, its key, its pinned
 * bytes) and whose decision was carried through counts: a failed attempt is replayed, and a record written
 * into the bucket by someone else hides nothing. Verification reads the whole audit prefix, the price of
 * asking the audit module rather than judging records here. Records this replay writes are keyed by that
 * eventId, which also makes the pipeline's own check catch a second replay racing this one.
 */
export async function handledEventIds(
  store: AuditStore,
  since: Date,
  until: Date,
  verify: VerifyOptions = {},
): Promise<Set<string>> {
  const plan = planListing(store.prefix, since, until);
  const { objects, findings } = await verifyAudit(store, verify);
  const doubted = new Set(findings.map((f) => f.key));
  // A record of an event some guard did not judge (not its event, unreadable) does not mean it was handled.
  return new Set(
    objects.flatMap(({ key, record }) =>
      record && plan.inRange(key) && !doubted.has(key) && isCompleted(record) && wasJudged(record.dedupeKey)
        ? [record.eventId]
        : [],
    ),
  );
}

const OUTCOME: Record<DecisionKind | 'duplicate', ReplayOutcome> = {
  remediated: 'acted',
  alerted: 'acted',
  'dry-run': 'acted',
  excepted: 'skipped',
  skipped: 'skipped',
  failed: 'failed',
  reported: 'skipped',
  // Audited between our index and the invocation: EventBridge or another replay got there first.
  duplicate: 'already-handled',
};

/**
 * Replays ActionTrail history through the guards: every event each guard handles, within the window, oldest
 * first, skipping those already audited; the rest go through the guard's function a page at a time.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const summary: ReplaySummary = { seen: 0, acted: 0, alreadyHandled: 0, skipped: 0, failed: 0 };
  const found = await lookUp(options);
  const total = found.reduce((n, [, events]) => n + events.length, 0);
  let done = 0;
  const report = (guard: ReplayGuard, event: Found, result: Omit<ReplayedEvent, keyof Found | 'guard'>) => {
    const { raw: _raw, dedupeKey: _key, ...ids } = event;
    options.onEvent?.({ guard: guard.name, ...ids, ...result });
    summary.seen += 1;
    if (result.outcome === 'acted') summary.acted += 1;
    else if (result.outcome === 'already-handled') summary.alreadyHandled += 1;
    else if (result.outcome === 'skipped') summary.skipped += 1;
    else summary.failed += 1;
    done += 1;
    options.onProgress?.('replay', done, total);
  };

  for (const [guard, events] of found) {
    const fresh = events.filter((e) => !options.handled.has(e.eventId));
    for (const e of events.filter((e) => options.handled.has(e.eventId))) {
      report(guard, e, {
        decision: 'already-handled',
        outcome: 'already-handled',
        reason: 'an audit record exists for this event',
        rules: [],
      });
    }
    for (let i = 0; i < fresh.length; i += PAGE_SIZE) {
      const page = fresh.slice(i, i + PAGE_SIZE);
      const decided = await invokePage(guard, page, options);
      for (const e of page) report(guard, e, decided.get(e.eventId) ?? missing());
    }
  }
  return summary;
}

type Result = Omit<ReplayedEvent, keyof Found | 'guard'>;

const missing = (): Result => ({
  decision: 'failed',
  outcome: 'failed',
  reason: 'the function returned no decision for this event',
  rules: [],
});

const fromSummary = (d: DecisionSummary): Result => ({
  decision: d.decision === 'duplicate' ? 'already-handled' : d.decision,
  outcome: OUTCOME[d.decision],
  reason: d.reason,
  rules: d.rules,
});

async function lookUp(options: ReplayOptions): Promise<Array<[ReplayGuard, Found[]]>> {
  const names = options.guards.reduce((n, g) => n + g.events.length, 0);
  let looked = 0;
  const found: Array<[ReplayGuard, Found[]]> = [];
  for (const guard of options.guards) {
    const byId = new Map<string, Found>();
    for (const name of guard.events) {
      for await (const page of options.lookup.events(name, options.since, options.until)) {
        for (const event of identify(page, guard))
          if (!byId.has(event.eventId)) byId.set(event.eventId, event);
      }
      looked += 1;
      options.onProgress?.('lookup', looked, names);
    }
    // Oldest first, as the changes happened; ties keep ActionTrail's order.
    found.push([guard, [...byId.values()].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))]);
  }
  return found;
}

/** Parses a page exactly as the function will, so the audit key computed here is the one it writes. */
function identify(page: unknown[], guard: ReplayGuard): Found[] {
  const items = parseEvents({ Events: page }, { accept: new Set(guard.events) });
  return items.flatMap((item) => {
    if (item.kind !== 'change') return [];
    const { record } = item;
    return [
      {
        raw: page[item.index],
        eventId: record.eventId,
        eventName: record.eventName,
        time: record.time,
        dedupeKey: record.dedupeKey,
        resource: record.resources,
      },
    ];
  });
}

interface FailedInvocation {
  failures: Array<{ eventId: string; error: string }>;
}

/** The bundle has its own copy of InvocationFailedError, so `instanceof` cannot recognise it. */
function failuresOf(error: unknown): FailedInvocation['failures'] | undefined {
  const failures = (error as Partial<FailedInvocation> | undefined)?.failures;
  return Array.isArray(failures) ? failures : undefined;
}

/**
 * One page through the function. When it fails on cloud faults, the changes it did decide were audited: their
 * decisions are read back from the audit records, and only the failed ones are sent again, like EventBridge
 * redelivering, so nothing is counted twice.
 */
async function invokePage(
  guard: ReplayGuard,
  page: Found[],
  options: ReplayOptions,
): Promise<Map<string, Result>> {
  const decided = new Map<string, Result>();
  const attempts = options.invokeAttempts ?? 3;
  let pending = page;
  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      const { decisions } = await guard.invoke(
        Buffer.from(JSON.stringify({ Events: pending.map((e) => e.raw) })),
      );
      for (const d of decisions) decided.set(d.eventId, fromSummary(d));
      return decided;
    } catch (error) {
      const failures = failuresOf(error);
      if (!failures) throw error;
      const failed = new Map(failures.map((f) => [f.eventId, f.error]));
      for (const e of pending.filter((p) => !failed.has(p.eventId))) {
        decided.set(e.eventId, await recorded(options.records, e));
      }
      pending = pending.filter((p) => failed.has(p.eventId));
      if (attempt >= attempts) {
        for (const e of pending) {
          const reason = `cloud faults after ${attempts} invocations: ${failed.get(e.eventId)}`;
          decided.set(e.eventId, { decision: 'failed', outcome: 'failed', reason, rules: [] });
        }
        return decided;
      }
      await new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 1_000) * attempt));
    }
  }
  return decided;
}

async function recorded(store: AuditStore, event: Found): Promise<Result> {
  const key = auditKey(store.prefix, event.dedupeKey, event.time);
  try {
    const { record, problem } = parseStored(key, await store.gateway.getObject(store.bucket, key));
    if (!record) return { ...missing(), reason: `its audit record ${key} ${problem}` };
    return {
      decision: record.decision,
      outcome: OUTCOME[record.decision],
      reason: record.reason,
      rules: record.rules.map((r) => r.ruleId),
    };
  } catch (error) {
    if (isNotFound(error)) return missing();
    return { ...missing(), reason: `its audit record could not be read: ${describeError(error)}` };
  }
}
