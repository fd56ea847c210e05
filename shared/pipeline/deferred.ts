import { createHash } from 'node:crypto';
import { CLOCK_SKEW_MS, newestFirstKey, timeOfNewestFirstKey } from '../audit/newest-first';
import { type AuditKey, sealFields, sealHoldsEither } from '../audit/record';
import type { OssGateway } from '../clients/oss';
import type { Logger } from '../log';
import { PIPELINE_PREFIX } from './remediated';

/**
 * Work a function could not finish and hands on instead of losing: the ActionTrail records of a log range it
 * could not finish (cloud faults past its retries, or its timeout near; after `maxRetryTime` SLS skips a range
 * for good, F-FC-LOGTRIGGER-INVOCATION), kept as write-once objects beside the audit records. trail-guard's
 * next range with someone else's change drains them, and so does every run of the sweep's timer, so that no
 * item waits for an unrelated change (shared/logtrigger/routes.ts). Objects are never deleted (a WORM-locked bucket refuses it): a
 * `done/` object beside each one says it was taken.
 */
const QUEUE_DIR = `${PIPELINE_PREFIX}deferred/`;
const DONE_DIR = `${PIPELINE_PREFIX}deferred-done/`;

/** How far back a drain looks; older work is the sweep's to find. */
const LOOKBACK_MS = 24 * 3600_000;
/** Items one drain takes at most, so that draining cannot itself outlast the function. */
const PAGE = 100;
/** Listing pages one drain reads at most: items planted at the head of the queue cannot hide the rest. */
const MAX_PAGES = 10;
/**
 * Records one item holds at most: about what trail-guard judges in a second or two, so that a drain bounded by
 * an invocation's remaining time always finishes the item it starts.
 */
const ITEM_RECORDS = 50;

export interface DeferredWork {
  kind: 'ossguard-deferred';
  /** Where it came from: the range, or the deferred item it was carried over from. */
  from: string;
  reason: string;
  deferredAt: string;
  /**
   * 1 when first handed on after faults, 0 for what the blast-radius cap held back; each time a drain cannot
   * finish it for faults, the next item counts one more.
   */
  attempt: number;
  /**
   * Not taken before this time: the drain that fails writes a new item, which is itself a record in the trail
   * and starts another invocation; waiting longer after each failure keeps an outage from feeding a loop.
   */
  notBefore: string;
  /** ActionTrail records, as the trail route they were sorted to. */
  routes: Record<string, unknown[]>;
}

export interface QueuedWork {
  key: string;
  work: DeferredWork;
}

interface Queue {
  gateway: OssGateway;
  bucket: string;
  /**
   * Signs each item, and an item read back is taken only when its MAC holds: whoever can write the audit
   * bucket must not hand trail-guard records to judge as if the trail had delivered them.
   */
  key: AuditKey | undefined;
  /** The audit key's version before a rotation: items sealed with it before the rotation still hold. */
  previous?: AuditKey | undefined;
}

/** Items this instance took already: a warm instance does not ask again whether they are done. */
const taken = new Set<string>();

/** The wait before attempt n: none for work the blast-radius cap held back (0), then 1 s, 4 s, 16 s, … up to 10 minutes. */
const backoffMs = (attempt: number): number =>
  attempt < 1 ? 0 : Math.min(600_000, 1_000 * 4 ** (attempt - 1));

/**
 * Queues work as items of at most `ITEM_RECORDS` records each, so that one item fits in what is left of any
 * invocation that drains it; resolves to the items' keys.
 */
export async function deferWork(
  queue: Queue,
  work: Omit<DeferredWork, 'kind' | 'notBefore'>,
): Promise<string[]> {
  const notBefore = new Date(Date.parse(work.deferredAt) + backoffMs(work.attempt)).toISOString();
  const inverted = newestFirstKey('', Date.parse(work.deferredAt));
  const parts = chunkRoutes(work.routes);
  const keys: string[] = [];
  for (const [index, routes] of parts.entries()) {
    const from = parts.length > 1 ? `${work.from}#${index + 1}` : work.from;
    const id = createHash('sha256').update(`${from}\n${work.deferredAt}`).digest('hex').slice(0, 16);
    const key = `${QUEUE_DIR}${inverted}-${id}.json`;
    const item: DeferredWork = { kind: 'ossguard-deferred', ...work, from, routes, notBefore };
    await queue.gateway.putObjectIfAbsent(
      queue.bucket,
      key,
      JSON.stringify({ ...item, ...sealFields(item, queue.key) }),
    );
    keys.push(key);
  }
  return keys;
}

/** The routes' records in slices of `ITEM_RECORDS`, each keeping the routes' order (the order they are judged in). */
function chunkRoutes(routes: DeferredWork['routes']): Array<DeferredWork['routes']> {
  const parts: Array<DeferredWork['routes']> = [];
  let part: DeferredWork['routes'] = {};
  let size = 0;
  for (const [route, records] of Object.entries(routes)) {
    for (let start = 0; start < records.length; ) {
      const slice = records.slice(start, start + ITEM_RECORDS - size);
      part[route] = [...(part[route] ?? []), ...slice];
      size += slice.length;
      start += slice.length;
      if (size === ITEM_RECORDS) {
        parts.push(part);
        part = {};
        size = 0;
      }
    }
  }
  if (size > 0) parts.push(part);
  return parts;
}

/**
 * Whether a trail record is ossguard's write of a queue item: a hint, never state, that the queue has work;
 * the drain reads the queue itself.
 */
export const isQueueWrite = (record: unknown): boolean => JSON.stringify(record ?? null).includes(QUEUE_DIR);

/**
 * Deferred work of the last day that no drain has taken yet, oldest first, read one item at a time as the
 * drain asks: a drain that stops at its deadline reads no further.
 */
export async function* pendingWork(
  queue: Queue,
  now: Date,
  log: Pick<Logger, 'warn'>,
): AsyncGenerator<QueuedWork> {
  const recent: string[] = [];
  let next: string | undefined;
  for (let page = 0; page < MAX_PAGES && recent.length < PAGE; page++) {
    const listed = await queue.gateway.listObjects(queue.bucket, QUEUE_DIR, next, PAGE);
    for (const { key } of listed.keys) {
      const age = now.getTime() - timeOfNewestFirstKey(key, QUEUE_DIR);
      if (!taken.has(key) && age <= LOOKBACK_MS && age >= -CLOCK_SKEW_MS) recent.push(key);
    }
    next = listed.next;
    if (!next) break;
  }
  for (const key of recent.slice(0, PAGE).reverse()) {
    if (taken.has(key)) continue;
    if (await queue.gateway.objectExists(queue.bucket, doneKey(key))) {
      taken.add(key);
      continue;
    }
    const body = await queue.gateway.getObjectWithin(queue.bucket, key);
    const work = body && parseWork(body, queue);
    if (!work) {
      // Planted, most likely (ossguard's own items are small and sealed): said, so that a lost item is seen.
      log.warn('deferred-work item passed over: too large, not an item, or not sealed with the audit key', {
        key,
      });
      taken.add(key);
    } else if (Date.parse(work.notBefore) <= now.getTime()) yield { key, work };
  }
}

/** Marks an item taken; its unfinished part, if any, was deferred again as a new item first. */
export async function markTaken(queue: Queue, key: string, at: Date): Promise<void> {
  await queue.gateway.putObjectIfAbsent(
    queue.bucket,
    doneKey(key),
    JSON.stringify({ takenAt: at.toISOString() }),
  );
  taken.add(key);
}

const doneKey = (key: string): string => `${DONE_DIR}${key.slice(QUEUE_DIR.length)}`;

function parseWork(body: Buffer, { key, previous }: Queue): DeferredWork | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as
      | (Partial<DeferredWork> & Record<string, unknown>)
      | null;
    if (value?.kind !== 'ossguard-deferred' || typeof value.routes !== 'object' || value.routes === null)
      return undefined;
    if (!sealHoldsEither(value, key, previous)) return undefined;
    const routes = Object.fromEntries(
      Object.entries(value.routes).filter(([, records]) => Array.isArray(records)),
    );
    return {
      kind: 'ossguard-deferred',
      from: String(value.from ?? ''),
      reason: String(value.reason ?? ''),
      deferredAt: String(value.deferredAt ?? ''),
      attempt: typeof value.attempt === 'number' && value.attempt >= 0 ? value.attempt : 1,
      notBefore: String(value.notBefore ?? ''),
      routes,
    };
  } catch {
    return undefined;
  }
}
