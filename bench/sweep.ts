import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { LocalCloud } from '../local/cloud';
import { READS_PER_BUCKET } from '../shared/sweep/assess';
import { SWEEP_CONCURRENCY, type SweepResult } from '../shared/sweep/sweep';
import {
  acknowledged,
  cpuMs,
  inParallel,
  isAclRevertOf,
  peakRssMb,
  portOf,
  RTT_MS,
  startBenchCloud,
  unseen,
} from './lib/cloud';
import { buildFloor, contextFor, runInstance } from './lib/instances';
import { type BenchLine, note, SMOKE, scaled } from './lib/report';
import { percentile, round } from './lib/stats';

/** The goal for the sweep's time against the same reads made with ali-oss alone (the issue: "≤ 1.5× the floor"). */
export const SWEEP_GOAL = 1.5;
/**
 * bench:smoke's goal (200 buckets): the sweeper's fixed work (checkpoints, the guards' batch, the object pass)
 * weighs more; measured under load, BENCHMARKS.md "Smoke run in CI".
 */
const SWEEP_SMOKE_GOAL = 2;
/** Sweeps timed, each paired with an SDK-only run; odd, so the median is one pair's. */
const SWEEP_PAIRS = 3;
const SWEEPER = 'oss-sweeper';
/** s.yaml: the sweeper's timer fires at the top of every hour. */
const SWEEP_INTERVAL_S = 3600;

const roundAll = (figures: Record<string, number>) =>
  Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v, 0)]));

const bucketName = (i: number) => `sweep-${String(i).padStart(5, '0')}`;

/** Counts responses an emulator sends on `port`; the returned function stops counting and says how many. */
function countResponses(port: number): () => number {
  let count = 0;
  const listener = (message: unknown) => {
    if ((message as { socket: { localPort?: number } }).socket.localPort === port) count += 1;
  };
  subscribe('http.server.response.finish', listener);
  return () => {
    unsubscribe('http.server.response.finish', listener);
    return count;
  };
}

async function invokeSweeper(cloud: LocalCloud, payload: object = {}): Promise<SweepResult> {
  const outcome = await cloud.bus.invoke(SWEEPER, JSON.stringify(payload));
  if (!outcome.ok) throw new Error(`${SWEEPER} failed: ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.result as SweepResult;
}

/**
 * Sweep and detection gap, on one account of N buckets (10 ms per request), a few of them public.
 *
 * Sweep: one warm oss-sweeper invocation over the whole account, against the floor
 * `RTT + buckets × calls per bucket × RTT / calls in flight` (the first ListBuckets page, then the reads;
 * later pages are fetched while earlier ones are assessed), with the sweep's own reads per bucket and
 * buckets at once, and against the same reads made directly with ali-oss from a fresh process of their own.
 *
 * Detection gap: one bucket made public twice. With the bus running, the event path reverts it; with the
 * bus paused (the event lost), the next sweep does. Both are timed from the change to the revert's
 * acknowledgement; the sweep's figure excludes the wait for its timer, reported beside it.
 */
export async function sweepAndDetectionGap(): Promise<BenchLine[]> {
  const buckets = scaled(10_000, 200);
  // A few public buckets besides the probe, as a real account has: the sweep hands each to the guards.
  const exposedEvery = Math.floor(buckets / scaled(10, 1));
  const probe = bucketName(Math.floor(buckets / 2) + 1);
  const floorBundle = await buildFloor(SWEEPER);
  const cloud = await startBenchCloud();
  try {
    cloud.oss.raiseBucketQuota(buckets + 10);
    const alice = cloud.ossClient(cloud.identities.userWithKey('alice').key);
    const names = Array.from({ length: buckets }, (_, i) => bucketName(i));
    note(`sweep: creating ${buckets} buckets`);
    await unseen(cloud, async () => {
      await inParallel(names, 64, async (name) => void (await alice.putBucket(name)));
      await inParallel(
        names.filter((_, i) => i % exposedEvery === 0),
        16,
        async (name) => void (await alice.putBucketACL(name, 'public-read')),
      );
    });

    // Warm instances: a sweep stopped at once (deadline 0) and one event through the ACL guard.
    await invokeSweeper(cloud, { deadlineMs: 0 });
    const ossPort = portOf(cloud.endpoints.oss);
    const eventPath = async () => {
      const reverted = acknowledged(ossPort, isAclRevertOf(probe));
      const start = performance.now();
      await alice.putBucketACL(probe, 'public-read');
      const at = await reverted;
      await cloud.settle();
      return at - start;
    };
    await eventPath();
    const eventGapMs = await eventPath();

    note(`sweep: ${buckets} buckets, ${buckets / exposedEvery + 1} of them public`);
    cloud.stopWatching();
    const exposed = names.filter((_, i) => i % exposedEvery === 0);
    const [sweeperPid] = cloud.fc.instancePids(SWEEPER);
    if (sweeperPid === undefined) throw new Error('the warm-up left no sweeper instance');

    /** One timed sweep of the whole account, as the hourly timer's run finds it: resumed after a stopped start. */
    const timedSweep = async () => {
      const cpuBefore = { cloud: cpuMs(), sweeper: cpuMs(sweeperPid) };
      const responses = countResponses(ossPort);
      const sweepStart = performance.now();
      const result = await invokeSweeper(cloud);
      const ms = performance.now() - sweepStart;
      const requests = responses();
      const cpu = { localCloud: cpuMs() - cpuBefore.cloud, sweeper: cpuMs(sweeperPid) - cpuBefore.sweeper };
      if (!result.complete || result.buckets < buckets)
        throw new Error(`incomplete sweep: ${JSON.stringify(result)}`);
      return { ms, requests, cpu, result };
    };
    const directSdk = async () => {
      const cloudCpuBefore = cpuMs();
      const direct = await runInstance(
        floorBundle,
        { bucketsAtOnce: SWEEP_CONCURRENCY },
        contextFor(cloud, SWEEPER, cloud.region, 600),
        cloud.functionEnv(),
      );
      const cpu = {
        localCloud: cpuMs() - cloudCpuBefore,
        instance: (direct.cpu.user + direct.cpu.system) / 1000,
      };
      return { ms: direct.handled - direct.loaded, cpu };
    };

    // The first sweep also finds the probe bucket: the sweep path of the detection gap.
    const start = performance.now();
    await alice.putBucketACL(probe, 'public-read');
    const probeReverted = acknowledged(ossPort, isAclRevertOf(probe), 600_000);
    const first = await timedSweep();
    const sweepGapMs = (await probeReverted) - start;
    const sweeperPeakRssMb = peakRssMb(sweeperPid);

    // Each sweep right before the same reads made with ali-oss alone, so both meet the same load; the median
    // pair decides. Between pairs the account is put back as the first sweep found it (its exposures public
    // again) and the sweeper stopped at its start, so that every timed run is the same resumed run.
    const pairs = [{ sweep: first, direct: await directSdk() }];
    while (pairs.length < SWEEP_PAIRS) {
      await unseen(cloud, () =>
        inParallel(
          [...exposed, probe],
          16,
          async (name) => void (await alice.putBucketACL(name, 'public-read')),
        ),
      );
      await invokeSweeper(cloud, { deadlineMs: 0 });
      const sweep = await timedSweep();
      pairs.push({ sweep, direct: await directSdk() });
    }
    const ratios = pairs.map((p) => p.sweep.ms / p.direct.ms);
    const median = pairs[ratios.indexOf(percentile(ratios, 50))] as (typeof pairs)[number];
    const { result, requests } = median.sweep;
    const callsInFlight = READS_PER_BUCKET * SWEEP_CONCURRENCY;
    const formulaMs = RTT_MS + (result.buckets * READS_PER_BUCKET * RTT_MS) / callsInFlight;
    const ratio = round(median.sweep.ms / median.direct.ms);
    const sweepLine: BenchLine = {
      bench: 'sweep',
      ratio,
      goal: scaled(SWEEP_GOAL, SWEEP_SMOKE_GOAL),
      met: ratio <= scaled(SWEEP_GOAL, SWEEP_SMOKE_GOAL),
      smoke: SMOKE,
      floor: 'the same listing and reads with ali-oss alone, right after the sweep; median of the pairs',
      pairs: pairs.map((p, i) => ({
        sweepMs: round(p.sweep.ms, 0),
        directSdkMs: round(p.direct.ms, 0),
        ratio: round(ratios[i] as number),
      })),
      buckets: result.buckets,
      exposed: result.exposed,
      decisions: result.decisions,
      rttMs: RTT_MS,
      callsPerBucket: READS_PER_BUCKET,
      bucketsAtOnce: SWEEP_CONCURRENCY,
      callsInFlight,
      // Every OSS request of the invocation (listing, checkpoints and the guards' calls included): the check
      // that callsPerBucket is what the sweep really sends.
      requests,
      requestsPerBucket: round(requests / result.buckets, 3),
      sweepMs: round(median.sweep.ms),
      bucketsPerSecond: round((result.buckets / median.sweep.ms) * 1000, 1),
      directSdkMs: round(median.direct.ms),
      // The floor before 2026-12-07: round trips alone, blind to the machine's load (BENCHMARKS.md).
      formulaMs: round(formulaMs),
      formula: 'rttMs + buckets × callsPerBucket × rttMs / callsInFlight',
      ratioToFormula: round(median.sweep.ms / formulaMs),
      sweeperPeakRssMb,
      // One core is 1,000 ms of CPU a second: a process near that was the bottleneck, not the round trips.
      cpuMs: { sweep: roundAll(median.sweep.cpu), directSdk: roundAll(median.direct.cpu) },
    };
    const gapLine: BenchLine = {
      bench: 'detection-gap',
      ratio: round(sweepGapMs / eventGapMs),
      smoke: SMOKE,
      bucketPosition: `${names.indexOf(probe) + 1} of ${result.buckets}`,
      eventPathMs: round(eventGapMs),
      sweepPathMs: round(sweepGapMs),
      sweepIntervalS: SWEEP_INTERVAL_S,
      sweepPathExpectedS: round(SWEEP_INTERVAL_S / 2 + sweepGapMs / 1000, 1),
      sweepPathWorstS: round(SWEEP_INTERVAL_S + first.ms / 1000, 1),
    };
    return [sweepLine, gapLine];
  } finally {
    await cloud.stop();
  }
}
