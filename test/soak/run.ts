import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as $Ram from '@alicloud/ram20150501';
import { LocalCloud } from '../../local/cloud';
import { DEFAULT_MIX, FaultInjector, ratesFor } from '../../local/faults';
import { positionOf } from '../../local/sls/store';
import { isRecordKey } from '../../shared/audit/query';
import type { AuditRecord } from '../../shared/audit/record';
import { DEFAULT_AUDIT_PREFIX } from '../../shared/config';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { Actors, actorOf } from './actors';
import { EventTracker, type Settlement, type TrackedEvent, trackTrail } from './tracker';
import {
  ALLOWED_MEMBERS,
  type Change,
  EXCEPTION_TAG,
  objectKeys,
  type PlannedChange,
  planChanges,
  READ_REPORTS,
  soakConfig,
  WORLD,
} from './world';

export interface SoakOptions {
  changes: number;
  /** Probability that any one OSS or RAM call meets a fault. */
  faultRate: number;
  seed: number;
  /** People making changes at once. Default 12. */
  workers?: number;
  /** EventBridge redeliveries after a failed invocation. Default 3, EventBridge's default. */
  maxRetries?: number;
  /** Default 250 ms; EventBridge waits 10-20 s, which would only make the soak slower. */
  retryDelayMs?: number;
  /** FC instances per function. Default 4. */
  maxInstances?: number;
  log?: (line: string) => void;
}

/** One planned change as it happened. */
export interface MadeChange extends PlannedChange {
  event?: TrackedEvent;
  /** Events of the calls that led up to the change (a multipart upload's Initiate and UploadPart). */
  precedingEvents?: TrackedEvent[];
  /** Events of the calls that carried it through (UploadPart and Complete after an ACL asked on Initiate). */
  followingEvents?: TrackedEvent[];
  accessKeyId?: string;
  settlement?: Settlement;
  /** Attempts of the person's own call that met a fault. */
  userRetries: number;
  error?: string;
}

/** Everything the checks look at, captured once the cloud is quiet. */
export interface SoakRun {
  options: Required<Omit<SoakOptions, 'log'>>;
  made: MadeChange[];
  records: AuditRecord[];
  cloud: LocalCloud;
  faults: FaultInjector;
  /** Dead letters of both paths as they stood before being re-driven. */
  deadLettered: DeadLetter[];
  redriven: Array<{ id: string; ok: boolean; error?: string }>;
  /** RAM as it stands at the end, read through its API: the policies attached and each policy's default. */
  identity: IdentityState;
  durationMs: number;
}

export interface IdentityState {
  /** Policy names attached to each of `WORLD.policyUsers`. */
  attached: Record<string, string[]>;
  /** The default version's document of each of `WORLD.policies`. */
  defaults: Record<string, string>;
}

/** A bus event or a log-trigger range given up after every attempt failed. */
export interface DeadLetter {
  /** The CloudEvent id, or `<function>/<shard>/<begin>-<end>` for a range. */
  id: string;
  via: 'bus' | 'trail';
  functionName: string;
  /** What the function was invoked with, to re-drive it. */
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  error: string;
  /** The failed attempts' error names. */
  failures: string[];
  /** What it was about: `<eventName> <resource>` for an event, the range for a range. */
  about: string;
}

const SETTLE_TIMEOUT_MS = 120_000;

/**
 * Identity policy changes reach ossguard through the trail alone: no EventBridge rule of s.yaml carries them;
 * nor do a member's management events, which go to the member's own bus (F-ORG-EVENTBRIDGE-ACCOUNT). A
 * member's object ACL change is a data event, found by its request id like any other.
 */
const trailOnly = (change: Change): boolean =>
  change.kind === 'policy-attach' ||
  change.kind === 'broad-policy' ||
  (change.kind === 'member' && change.change.kind !== 'object-acl');

/**
 * One error fault in twenty starts a run of 3-8 failing calls on its bucket or user: without runs, a 10% rate
 * never outlasts the SDK's four attempts and no invocation would ever fail. The base rate is lowered so that,
 * runs included, about `faultRate` of all calls fail.
 */
const BURSTS = { share: 0.05, calls: { min: 3, max: 8 } };
/** Slow answers and timeouts never start a run. */
const ERROR_SHARE = 1 - DEFAULT_MIX.slow - DEFAULT_MIX.timeout;

/**
 * Starts a local cloud with faults, makes `changes` random changes as several people at once (each resource's
 * changes in order, one at a time), waits for the bus and for late writes, re-drives whatever was
 * dead-lettered with the faults off (as an operator would), and captures the result. The caller stops
 * `run.cloud`.
 */
export async function runSoak({ log = () => {}, ...input }: SoakOptions): Promise<SoakRun> {
  const options = { workers: 12, maxRetries: 3, retryDelayMs: 250, maxInstances: 4, ...input };
  const started = Date.now();
  const faults = new FaultInjector({
    seed: options.seed,
    rates: ratesFor(
      options.faultRate / (1 + ERROR_SHARE * BURSTS.share * ((BURSTS.calls.min + BURSTS.calls.max) / 2)),
    ),
    bursts: BURSTS,
    disabled: true,
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'ossguard-soak-'));
  const cloud = await LocalCloud.start({
    config: soakConfig(),
    stateDir,
    // #22: the directory's trail, which delivers the member accounts' records to A's logstore too.
    organizationTrail: true,
    maxRetries: options.maxRetries,
    retryDelayMs: options.retryDelayMs,
    maxInstances: options.maxInstances,
    intercept: faults.oss,
    ramIntercept: faults.ram,
  });
  try {
    await bootstrapMembers(cloud, stateDir);
    return { ...(await soak(cloud, faults, options, log)), durationMs: Date.now() - started };
  } catch (error) {
    await cloud.stop();
    throw error;
  }
}

async function soak(
  cloud: LocalCloud,
  faults: FaultInjector,
  options: SoakRun['options'],
  log: (line: string) => void,
): Promise<Omit<SoakRun, 'durationMs'>> {
  const started = Date.now();
  const actors = new Actors(cloud);
  const tracker = new EventTracker(cloud);

  await setUp(cloud, actors);
  log(`world ready in ${Date.now() - started} ms; making ${options.changes} changes`);

  faults.enabled = true;
  const plan = planChanges(options.changes, options.seed);
  let done = 0;
  const make = async (planned: PlannedChange): Promise<MadeChange> => {
    const result: MadeChange = { ...planned, userRetries: 0 };
    try {
      const outcome = await actors.make(actorOf(planned.change), planned.change);
      result.userRetries = outcome.retries;
      if (outcome.accessKeyId) result.accessKeyId = outcome.accessKeyId;
      const event = outcome.trail
        ? trackTrail(outcome.trail)
        : tracker.eventFor(outcome.requestId, trailOnly(planned.change) ? 'trail' : undefined);
      if (!event) throw new Error(`no event for request ${outcome.requestId}`);
      result.event = event;
      const preceding = (outcome.precedingRequestIds ?? []).flatMap((id) => tracker.eventFor(id) ?? []);
      if (preceding.length > 0) result.precedingEvents = preceding;
      const following = (outcome.followingRequestIds ?? []).flatMap((id) => tracker.eventFor(id) ?? []);
      if (following.length > 0) result.followingEvents = following;
      result.settlement = await tracker.settled(event, SETTLE_TIMEOUT_MS);
      for (const later of following) await tracker.settled(later, SETTLE_TIMEOUT_MS);
      // A timed-out revert still lands after its client gave up: the next change must not race it.
      await quietFor(faults, result);
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
    }
    done += 1;
    if (done % 100 === 0) log(`${done} changes made (${Date.now() - started} ms)`);
    return result;
  };
  // The account's Block Public Access goes last: once ossguard switches it back on, it refuses public ACLs.
  const first = await execute(
    plan.filter((p) => p.change.kind !== 'account-bpa'),
    options.workers,
    make,
  );
  const last = await execute(
    plan.filter((p) => p.change.kind === 'account-bpa'),
    1,
    make,
  );
  const made = plan.map((p) => (first[p.seq] ?? last[p.seq]) as MadeChange);

  await settleAll(cloud, faults);
  faults.enabled = false;

  const deadLettered = deadLettersOf(cloud, options.maxRetries);
  // What an operator does with a dead-letter queue once the cloud is healthy: send each one again.
  const redriven = [];
  for (const letter of deadLettered) {
    const outcome = await cloud.bus.invoke(letter.functionName, JSON.stringify(letter.payload));
    redriven.push({
      id: letter.id,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { error: `${outcome.error.name}: ${outcome.error.message}` }),
    });
  }
  await settleAll(cloud, faults);

  const identity = await identityStateOf(actors);
  return { options, made, records: auditRecordsOf(cloud), cloud, faults, deadLettered, redriven, identity };
}

async function identityStateOf(actors: Actors): Promise<IdentityState> {
  const ram = actors.ram(WORLD.creators[0] as string);
  const attached: IdentityState['attached'] = {};
  for (const userName of WORLD.policyUsers) {
    const listed = await ram.listPoliciesForUser(new $Ram.ListPoliciesForUserRequest({ userName }));
    attached[userName] = (listed.body?.policies?.policy ?? []).map((p) => p.policyName ?? '');
  }
  const defaults: IdentityState['defaults'] = {};
  for (const policyName of WORLD.policies) {
    const got = await ram.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: 'Custom' }));
    defaults[policyName] = got.body?.defaultPolicyVersion?.policyDocument ?? '';
  }
  return { attached, defaults };
}

function deadLettersOf(cloud: LocalCloud, maxRetries: number): DeadLetter[] {
  const fromBus = cloud.bus.deadLetters().map(
    (d): DeadLetter => ({
      id: d.event.id,
      via: 'bus',
      functionName: d.functionName,
      payload: d.event,
      attempts: d.attempts,
      maxAttempts: maxRetries + 1,
      error: `${d.error.name}: ${d.error.message}`,
      failures: cloud.bus
        .deliveries()
        .filter((x) => x.eventId === d.event.id && !x.ok)
        .map((x) => x.error?.name ?? 'unknown'),
      about: `${d.event.data.eventName} ${d.event.data.referencedResources['ACS::OSS::Bucket']?.[0] ?? ''}`,
    }),
  );
  const fromTrail = cloud.logTriggers.deadLetters().map((d): DeadLetter => {
    const { shardId, beginCursor, endCursor } = d.event.source;
    const range = `${shardId}/${positionOf(beginCursor)}-${positionOf(endCursor)}`;
    return {
      id: `${d.functionName}/${range}`,
      via: 'trail',
      functionName: d.functionName,
      payload: d.event,
      attempts: d.attempts,
      maxAttempts: d.maxRetries + 1,
      error: `${d.error.name}: ${d.error.message}`,
      failures: cloud.logTriggers
        .deliveries()
        .filter((x) => !x.ok && JSON.stringify(x.event.source) === JSON.stringify(d.event.source))
        .map((x) => x.error?.name ?? 'unknown'),
      about: `trail range ${range}`,
    };
  });
  return [...fromBus, ...fromTrail];
}

/** The member role in each allowed member, as its operator makes it: `ossguard bootstrap --account ID`. */
async function bootstrapMembers(cloud: LocalCloud, stateDir: string): Promise<void> {
  useLocalState(cloud, stateDir);
  try {
    for (const account of ALLOWED_MEMBERS) {
      const result = await runCli('bootstrap', '--local', '--account', account);
      if (result.code !== 0) throw new Error(`bootstrap --account ${account} failed: ${result.stderr}`);
    }
  } finally {
    restoreLocalState();
  }
}

/** Buckets with objects, tags and keys, made before faults are switched on. */
async function setUp(cloud: LocalCloud, actors: Actors): Promise<void> {
  const alice = actors.oss('soak-alice');
  const aclBuckets = [...WORLD.buckets, ...WORLD.sharedBuckets, ...WORLD.taggedBuckets];
  await Promise.all(
    [...aclBuckets, ...WORLD.bpaBuckets, WORLD.rootBucket, WORLD.roamBucket].map((bucket) =>
      alice.putBucket(bucket),
    ),
  );
  await Promise.all(
    aclBuckets.flatMap((bucket) =>
      objectKeys().map((key) => actors.oss('soak-alice', bucket).put(key, Buffer.from(`${bucket}/${key}`))),
    ),
  );
  const memberBuckets = Object.entries(WORLD.memberBuckets).flatMap(([account, buckets]) =>
    buckets.map((bucket) => ({ account, bucket })),
  );
  await Promise.all(memberBuckets.map(({ account, bucket }) => actors.memberOss(account).putBucket(bucket)));
  await Promise.all(
    memberBuckets.flatMap(({ account, bucket }) =>
      objectKeys().map((key) => actors.memberOss(account, bucket).put(key, Buffer.from(`${bucket}/${key}`))),
    ),
  );
  // @types/ali-oss lacks the tagging methods that ali-oss 6 has.
  const tagging = alice as unknown as {
    putBucketTags(name: string, tags: Record<string, string>): Promise<unknown>;
  };
  // A tag exception must expire within exceptions.maxLifetimeDays (90) and name what it waives (#20).
  const until = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  // A guard's name waives all of its rules: a tag value holds at most 128 bytes (ali-oss checks it).
  const waived = 'oss-acl-guard,oss-policy-guard';
  await Promise.all(
    WORLD.taggedBuckets.map((bucket) =>
      tagging.putBucketTags(bucket, {
        [EXCEPTION_TAG]: `until=${until};reason=partner exchange;rules=${waived}`,
      }),
    ),
  );
  for (const user of [...WORLD.creators, ...WORLD.owners]) actors.key(user);
  for (const user of [...WORLD.serviceUsers, ...WORLD.policyUsers, ...WORLD.signinUsers])
    cloud.identities.createUser(user);
  const admin = actors.ram(WORLD.creators[0] as string);
  await Promise.all(
    WORLD.policies.map((policyName) =>
      admin.createPolicy(
        new $Ram.CreatePolicyRequest({ policyName, policyDocument: JSON.stringify(READ_REPORTS) }),
      ),
    ),
  );
  await cloud.settle();
}

/**
 * Runs the plan with `workers` people. A worker takes the first change whose group is free and has no
 * earlier change still waiting, so each group's changes happen in plan order, one at a time.
 */
async function execute<T>(
  plan: PlannedChange[],
  workers: number,
  run: (planned: PlannedChange) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(plan.length);
  const waiting = [...plan];
  const busy = new Set<string>();
  let idle: Array<() => void> = [];
  const next = (): PlannedChange | undefined => {
    const blocked = new Set(busy);
    const index = waiting.findIndex((candidate) => {
      if (!blocked.has(candidate.group)) return true;
      blocked.add(candidate.group);
      return false;
    });
    return index === -1 ? undefined : waiting.splice(index, 1)[0];
  };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (waiting.length > 0) {
        const planned = next();
        if (!planned) {
          await new Promise<void>((resolve) => idle.push(resolve));
          continue;
        }
        busy.add(planned.group);
        results[planned.seq] = await run(planned);
        busy.delete(planned.group);
        const wake = idle;
        idle = [];
        for (const resolve of wake) resolve();
      }
    }),
  );
  return results;
}

async function quietFor(faults: FaultInjector, made: MadeChange): Promise<void> {
  const { change } = made;
  const bucket =
    'bucket' in change
      ? change.bucket
      : change.kind === 'member'
        ? change.change.bucket
        : change.kind === 'root-key-use'
          ? WORLD.rootBucket
          : undefined;
  const owner =
    change.kind === 'access-key' || change.kind === 'key-reenable'
      ? change.owner
      : change.kind === 'key-outside-network'
        ? change.user
        : undefined;
  const until = faults.busyUntil((call) =>
    owner !== undefined
      ? call.user === owner || call.user === made.accessKeyId
      : bucket !== undefined && call.bucket === bucket,
  );
  const wait = until - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 50));
}

/** Drains the bus and the log triggers until no delayed write is pending and no new event arrived: the cloud is quiet. */
async function settleAll(cloud: LocalCloud, faults: FaultInjector): Promise<void> {
  for (;;) {
    await cloud.settle();
    const wait = faults.busyUntil() - Date.now();
    const published = () => cloud.bus.history().length + cloud.trailDataEvents().length;
    const before = published();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 100));
    await cloud.settle();
    if (wait <= 0 && published() === before) return;
  }
}

/** Read straight from the emulator's store: the checks must not depend on the cloud they are checking. */
function auditRecordsOf(cloud: LocalCloud): AuditRecord[] {
  const bucket = cloud.oss.bucket(cloud.auditBucket);
  // The policy guard keeps policy snapshots in the same bucket, under another prefix.
  return (bucket?.objectKeys ?? [])
    .filter((key) => isRecordKey(DEFAULT_AUDIT_PREFIX, key))
    .map(
      (key) => JSON.parse(cloud.oss.object(cloud.auditBucket, key)?.body.toString() ?? '{}') as AuditRecord,
    );
}
