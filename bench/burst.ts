import type { LocalCloud } from '../local/cloud';
import { MAX_EVENT_BODY_BYTES } from '../shared/events';
import { type CloudEvent, wrapCloudEvent } from '../shared/events/actiontrail-event';
import { countRequests, cpuMs, inParallel, peakRssMb, startBenchCloud } from './lib/cloud';
import { buildFloor, contextFor, runInstance } from './lib/instances';
import { type BenchLine, note, SMOKE, scaled } from './lib/report';
import { round } from './lib/stats';

/** The smallest FC instance is 128 MB; the goal leaves a quarter of it as headroom. */
export const BURST_RSS_GOAL_MB = 100;
const GUARD = 'oss-acl-guard';
/** run.ts works on this many changes of a batch at once; the floor works at the same width. */
const PIPELINE_CONCURRENCY = 16;
const BUCKETS = 50;

/** Consecutive slices of `events`, each as large as fits in one event body ossguard accepts. */
function batchesOf(events: CloudEvent[]): CloudEvent[][] {
  const batches: CloudEvent[][] = [[]];
  let size = 2;
  for (const event of events) {
    const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (size + bytes > MAX_EVENT_BODY_BYTES) {
      batches.push([]);
      size = 2;
    }
    batches.at(-1)?.push(event);
    size += bytes;
  }
  return batches;
}

interface Target {
  bucket: string;
  key: string;
}

/** Objects alice makes public-read: the changes of the batch. */
async function makeChanges(
  cloud: LocalCloud,
  changes: number,
): Promise<{ targets: Target[]; events: CloudEvent[] }> {
  const { key } = cloud.identities.userWithKey('alice');
  const targets = Array.from({ length: changes }, (_, i) => ({
    bucket: `burst-${String(i % BUCKETS).padStart(3, '0')}`,
    key: `objects/${String(i).padStart(5, '0')}`,
  }));
  const clients = new Map<string, ReturnType<LocalCloud['ossClient']>>();
  const client = (bucket: string) => {
    const cached = clients.get(bucket);
    if (cached) return cached;
    const created = cloud.ossClient(key, bucket);
    clients.set(bucket, created);
    return created;
  };
  const buckets = [...new Set(targets.map((t) => t.bucket))];
  await inParallel(buckets, 16, async (bucket) => void (await client(bucket).putBucket(bucket)));
  await inParallel(targets, 32, async (t) => {
    await client(t.bucket).put(t.key, Buffer.from('x'));
    await client(t.bucket).putACL(t.key, 'public-read');
  });
  // Object ACL changes are data events, delivered to the trail logstore; oss-acl-guard still judges them
  // should EventBridge carry them (UNVERIFIED), and takes them as one batch, which the burst needs.
  const events = cloud
    .trailDataEvents()
    .filter(({ record }) => record.eventName === 'PutObjectAcl' && record.userIdentity.type === 'ram-user')
    .map(({ record }) => wrapCloudEvent(record));
  return { targets, events };
}

/**
 * Burst: N changes to one instance of oss-acl-guard, with every change remediated (the blast-radius cap
 * raised to N), alerts on as in production, 10 ms per request. Events per second and the instance's peak RSS.
 */
export async function burst(): Promise<BenchLine> {
  const changes = scaled(1000, 50);
  const floorBundle = await buildFloor('burst');
  const cloud = await startBenchCloud({ config: { maxRemediationsPerInvocation: changes } });
  try {
    note(`burst: ${changes} changes to one ${GUARD} instance`);
    // Every event is handed over directly; neither the bus nor the log trigger may deliver the changes or
    // the reverts' events.
    cloud.bus.pause();
    cloud.logTriggers.pause();
    const { targets, events } = await makeChanges(cloud, changes);
    const batchBytes = Buffer.byteLength(JSON.stringify(events));
    const batches = batchesOf(events);
    const decisions: Record<string, number> = {};
    // The first batch meets a cold instance: start it with an empty batch, so only the burst is timed.
    await cloud.bus.invoke(GUARD, '[]');
    const [pid] = cloud.fc.instancePids(GUARD);
    if (pid === undefined) throw new Error(`no ${GUARD} instance`);
    const loadedRssMb = peakRssMb(pid);
    const cpuBefore = { instance: cpuMs(pid), cloud: cpuMs() };
    const counted = countRequests();
    const start = performance.now();
    for (const batch of batches) {
      const outcome = await cloud.bus.invoke(GUARD, JSON.stringify(batch));
      if (!outcome.ok) throw new Error(`burst invocation failed: ${JSON.stringify(outcome.error)}`);
      for (const d of (outcome.result as { decisions: Array<{ decision: string }> }).decisions)
        decisions[d.decision] = (decisions[d.decision] ?? 0) + 1;
    }
    const durationMs = performance.now() - start;
    const requests = counted();
    if (cloud.fc.instancePids(GUARD).join() !== String(pid))
      throw new Error('the burst did not stay on one instance');
    const rssMb = peakRssMb(pid);
    if (decisions.remediated !== changes)
      throw new Error(`not every change remediated: ${JSON.stringify(decisions)}`);

    const instanceCpuMs = cpuMs(pid) - cpuBefore.instance;
    const cloudCpuMs = cpuMs() - cpuBefore.cloud;

    // What the function does with the whole burst in one body, when that is over its size limit.
    const whole = await cloud.bus.invoke(GUARD, JSON.stringify(events));
    const singleBatch = whole.ok
      ? (whole.result as { decisions: Array<{ decision: string; reason: string }> }).decisions
          .slice(0, 1)
          .map((d) => ({ decision: d.decision, reason: d.reason }))
      : whole.error;

    const cloudCpuBeforeFloor = cpuMs();
    const direct = await runInstance(
      floorBundle,
      { targets, concurrency: PIPELINE_CONCURRENCY },
      contextFor(cloud, GUARD),
      cloud.functionEnv(),
    );
    const floorMs = direct.handled - direct.loaded;
    const floorCpu = {
      localCloud: round(cpuMs() - cloudCpuBeforeFloor, 0),
      instance: round((direct.cpu.user + direct.cpu.system) / 1000, 0),
    };
    const ratio = round(durationMs / floorMs);
    return {
      bench: 'burst',
      ratio,
      goal: BURST_RSS_GOAL_MB,
      goalOf: 'peakRssMb',
      met: rssMb < BURST_RSS_GOAL_MB,
      smoke: SMOKE,
      changes,
      batchBytes,
      maxBodyBytes: MAX_EVENT_BODY_BYTES,
      batches: batches.length,
      singleBatch,
      durationMs: round(durationMs),
      eventsPerSecond: round((changes / durationMs) * 1000, 1),
      floorMs: round(floorMs),
      floorEventsPerSecond: round((changes / floorMs) * 1000, 1),
      requests,
      cpuMs: {
        burst: { localCloud: round(cloudCpuMs, 0), instance: round(instanceCpuMs, 0) },
        floor: floorCpu,
      },
      peakRssMb: rssMb,
      // The instance before the burst: bundle loaded, config parsed, one empty batch handled.
      loadedRssMb,
      // The same calls made directly with the SDK, in a process of their own: what the SDKs alone cost.
      floorPeakRssMb: round(direct.peakRssKb / 1024, 1),
      floorLoadedRssMb: round(direct.loadedRssKb / 1024, 1),
      decisions,
    };
  } finally {
    await cloud.stop();
  }
}
