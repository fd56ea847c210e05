import type { RamGateway } from '../clients/ram';
import { CloudApiError } from '../errors';
import type { PagedLookup } from '../replay/lookup';
import { liveKey } from './live-key';
import { buildReport, type IncidentReport, type KeyState } from './report';
import type { KeyCall, TrailProgress, TrailReader } from './trail';

export interface InvestigateOptions {
  accessKeyId: string;
  from: Date;
  to: Date;
  /** The trail's logstore first; ActionTrail's event history when there is none. */
  readers: { logstore?: TrailReader; lookup: TrailReader };
  /** LookupEvents, to find when the key was switched off (RAM UpdateAccessKey is a management event). */
  lookup: PagedLookup;
  ram: RamGateway;
  progress: TrailProgress;
  now: Date;
}

/** SLS's answers for a project or logstore that is not there (F-SLS-ERROR-CODES). */
const MISSING = new Set(['ProjectNotExist', 'LogStoreNotExist']);

/**
 * Everything the trail says the key did, and its state now. The logstore holds data events (object reads and
 * writes) as well as management events; LookupEvents only management events (F-ACTIONTRAIL-DATA-EVENTS-SLS-ONLY),
 * so it is the fallback, and the report says which was read.
 */
export async function investigate(options: InvestigateOptions): Promise<IncidentReport> {
  const { accessKeyId, from, to } = options;
  let source = options.readers.logstore ?? options.readers.lookup;
  let sourceNote = options.readers.logstore
    ? "the trail's logstore: management and data events"
    : 'ActionTrail event history: management events only, no object reads or writes';
  let read: Collected;
  try {
    read = await collect(source, accessKeyId, from, to, options.progress);
  } catch (error) {
    if (!(source !== options.readers.lookup && error instanceof CloudApiError && MISSING.has(error.code)))
      throw error;
    source = options.readers.lookup;
    sourceNote = `no trail logstore (${error.code}): ActionTrail event history, management events only`;
    read = await collect(source, accessKeyId, from, to, options.progress);
  }
  const [key, disabledAt] = await Promise.all([
    keyState(options.ram, accessKeyId),
    lastDisabled(options.lookup, accessKeyId, from, to),
  ]);
  return buildReport({
    accessKeyId,
    calls: read.calls,
    incompletePages: read.incompletePages,
    from,
    to,
    generatedAt: options.now,
    source: source.source,
    sourceNote,
    key: { ...key, ...(disabledAt ? { disabledAt } : {}) },
  });
}

interface Collected {
  calls: KeyCall[];
  /** Pages the source still answered as incomplete after its retries. */
  incompletePages: number;
}

async function collect(
  reader: TrailReader,
  accessKeyId: string,
  from: Date,
  to: Date,
  progress: TrailProgress,
): Promise<Collected> {
  const read: Collected = { calls: [], incompletePages: 0 };
  for await (const page of reader.calls(accessKeyId, from, to, progress)) {
    read.calls.push(...page.calls);
    if (!page.complete) read.incompletePages++;
  }
  return read;
}

/** The owner and its other keys from RAM/IMS; a key no RAM user of this account holds has neither. */
async function keyState(ram: RamGateway, accessKeyId: string): Promise<KeyState> {
  const key = await liveKey(ram, accessKeyId);
  if (!key) return { otherKeys: [] };
  return {
    owner: key.owner,
    status: key.status,
    otherKeys: key.keys.filter((k) => k.accessKeyId !== accessKeyId),
  };
}

/**
 * The last RAM/IMS UpdateAccessKey that switched the key off, from the event history (F-ACTIONTRAIL-RAM-EVENTS:
 * `UserAccessKeyId` and `Status` are request parameters).
 */
async function lastDisabled(
  lookup: PagedLookup,
  accessKeyId: string,
  from: Date,
  to: Date,
): Promise<string | undefined> {
  let last: string | undefined;
  for await (const page of lookup.events('UpdateAccessKey', from, to)) {
    for (const event of page as Array<Record<string, unknown>>) {
      const params = (event.requestParameters ?? {}) as Record<string, unknown>;
      const time = typeof event.eventTime === 'string' ? event.eventTime : undefined;
      if (
        time &&
        !event.errorCode &&
        params.UserAccessKeyId === accessKeyId &&
        String(params.Status).toLowerCase() === 'inactive' &&
        (!last || time > last)
      )
        last = time;
    }
  }
  return last;
}
