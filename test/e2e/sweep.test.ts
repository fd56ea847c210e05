import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { parseTarget } from '../../local/oss/request';
import type { AuditRecord } from '../../shared/audit/record';
import { mapLimited } from '../../shared/audit/store';
import { SWEEP_EVENT, type SweepResult } from '../../shared/sweep/sweep';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, invokeSweeper, startCloud, userClient } from './local-cloud';

const BUCKETS = 1_000;
const name = (i: number) => `sweep-${String(i).padStart(4, '0')}`;
const indexes = (keep: (i: number) => boolean) => Array.from({ length: BUCKETS }, (_, i) => i).filter(keep);

/** What the buckets look like: some public by ACL, some by policy, one public on purpose (a tag exception). */
const PUBLIC_READ_WRITE = indexes((i) => i % 101 === 50).map(name);
const PUBLIC_READ = indexes((i) => i % 37 === 3 && i % 101 !== 50).map(name);
const PUBLIC_POLICY = [name(5), name(505), name(905)];
const EXCEPTED = name(999);
const CAP = 30;

const publicPolicy = (bucket: string) =>
  JSON.stringify({
    Version: '1',
    Statement: [
      { Effect: 'Allow', Principal: ['*'], Action: ['oss:GetObject'], Resource: [`acs:oss:*:*:${bucket}/*`] },
    ],
  });

const sweepRecords = async (cloud: LocalCloud, runId: string): Promise<AuditRecord[]> =>
  (await auditRecords(cloud)).filter(
    (r) => r.eventName === SWEEP_EVENT && r.eventId.startsWith(`sweep-${runId}-`),
  );

/**
 * The subresources (`acl`, `policy`…) of the requests the OSS emulator answers until `stop()`, by bucket,
 * read off Node's own diagnostics channel.
 */
function subresourcesByBucket(cloud: LocalCloud): () => Map<string, string[]> {
  const port = Number(new URL(cloud.endpoints.oss).port);
  const seen = new Map<string, string[]>();
  const listener = (message: unknown) => {
    const { request, socket } = message as { request: IncomingMessage; socket: { localPort?: number } };
    if (socket.localPort !== port) return;
    const { bucket, query } = parseTarget(request.headers.host ?? '', request.url ?? '/');
    if (bucket) seen.set(bucket, [...(seen.get(bucket) ?? []), query[0]?.[0] ?? '']);
  };
  subscribe('http.server.response.finish', listener);
  return () => {
    unsubscribe('http.server.response.finish', listener);
    return seen;
  };
}

/** `ossguard scan --local --json` in-process. */
async function scan(): Promise<{ code: number; lines: Array<Record<string, unknown>> }> {
  const { code, stdout } = await runCli('scan', '--local', '--json');
  return {
    code,
    lines: stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

describe('the sweep over 1,000 buckets: ossguard scan and the oss-sweeper function', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ maxRemediationsPerInvocation: CAP });
    cloud.oss.raiseBucketQuota(BUCKETS + 10);
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-sweep-')));
    // Nothing announces these changes: that is what a sweep is for.
    cloud.stopWatching();
    const alice = userClient(cloud, 'alice');
    await mapLimited(
      indexes(() => true),
      16,
      (i) => alice.putBucket(name(i)),
    );
    await mapLimited(PUBLIC_READ, 16, (b) => alice.putBucketACL(b, 'public-read'));
    await mapLimited(PUBLIC_READ_WRITE, 16, (b) => alice.putBucketACL(b, 'public-read-write'));
    await mapLimited(PUBLIC_POLICY, 16, (b) => alice.putBucketPolicy(b, JSON.parse(publicPolicy(b))));
    await alice.putBucketACL(EXCEPTED, 'public-read');
    await (
      alice as unknown as { putBucketTags(b: string, t: Record<string, string>): Promise<unknown> }
    ).putBucketTags(EXCEPTED, {
      // Within exceptions.maxLifetimeDays (90), naming what it waives.
      'ossguard-exception': `until=${new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10)};reason=public website;rules=bucket-acl-public-read`,
    });
  }, 120_000);

  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('scan reports exactly the exposed buckets, one JSON line each, with their rules and exception', async () => {
    const { code, lines } = await scan();
    expect(code).toBe(1);
    const byBucket = new Map(lines.map((l) => [l.bucket as string, l]));
    expect([...byBucket.keys()].sort()).toEqual(
      [...PUBLIC_READ, ...PUBLIC_READ_WRITE, ...PUBLIC_POLICY, EXCEPTED].sort(),
    );
    expect(byBucket.get(PUBLIC_READ[0] as string)).toEqual({
      bucket: PUBLIC_READ[0],
      region: 'cn-hangzhou',
      rules: ['bucket-acl-public-read'],
      excepted: false,
      policyPublic: false,
      blocked: false,
    });
    expect(byBucket.get(PUBLIC_READ_WRITE[0] as string)).toMatchObject({
      rules: ['bucket-acl-public-read-write'],
    });
    expect(byBucket.get(name(5))).toMatchObject({
      rules: expect.arrayContaining(['anonymous-principal']),
      policyPublic: true,
    });
    expect(byBucket.get(EXCEPTED)).toMatchObject({
      excepted: true,
      exception: { source: 'tag', reason: 'public website' },
    });
  }, 60_000);

  it('finds exactly the public buckets in one run, reading only the ACL and policy of the others, hands them to the guards and audits nothing else', async () => {
    const stop = subresourcesByBucket(cloud);
    const started = Date.now();
    const result = await invokeSweeper(cloud);
    const elapsed = Date.now() - started;
    const sent = stop();
    expect(result).toMatchObject({
      resumed: false,
      complete: true,
      buckets: BUCKETS + 1, // and the audit bucket
      exposed: PUBLIC_READ.length + PUBLIC_READ_WRITE.length + PUBLIC_POLICY.length + 1,
      excepted: 1,
      failed: 0,
      // The blast-radius cap holds for the whole invocation, across every batch handed to the guards; what it
      // held back is not recorded, so the next run finds it again.
      deferred: PUBLIC_READ.length + PUBLIC_READ_WRITE.length - CAP,
    });
    const records = await sweepRecords(cloud, result.runId);
    const aclRecords = records.filter((r) => r.guard === 'oss-acl-guard');
    expect(aclRecords.map((r) => r.decision)).toEqual(Array.from({ length: CAP }, () => 'remediated'));
    const capAlerts = (await auditRecords(cloud)).filter((r) => r.eventName === 'BlastRadiusCap');
    expect(capAlerts).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining(
          `${PUBLIC_READ.length + PUBLIC_READ_WRITE.length - CAP} change(s) waited`,
        ),
      }),
    ]);
    expect(records.filter((r) => r.guard === 'oss-policy-guard')).toMatchObject(
      PUBLIC_POLICY.map(() => ({ decision: 'alerted' })),
    );
    expect(records.map((r) => r.resource.bucket)).not.toContain(EXCEPTED);
    expect(records).toHaveLength(CAP + PUBLIC_POLICY.length);
    for (const r of aclRecords.filter((a) => a.decision === 'remediated'))
      expect(cloud.oss.bucket(r.resource.bucket as string)?.acl).toBe('private');
    expect(records[0]).toMatchObject({
      actor: { type: 'system', userName: 'oss-sweeper' },
      eventType: SWEEP_EVENT,
    });
    const exposed = new Set([...PUBLIC_READ, ...PUBLIC_READ_WRITE, ...PUBLIC_POLICY, EXCEPTED]);
    const compliant = indexes(() => true)
      .map(name)
      .filter((b) => !exposed.has(b));
    expect(new Set(compliant.map((b) => sent.get(b)?.sort().join(',')))).toEqual(new Set(['acl,policy']));
    expect(sent.get(EXCEPTED)).toEqual(
      expect.arrayContaining(['policyStatus', 'publicAccessBlock', 'tagging']),
    );
    console.info(`sweep of ${BUCKETS + 1} buckets: ${elapsed} ms in one invocation`);
  }, 300_000);

  it('resumes a run interrupted at its deadline from the checkpoint, and covers every bucket exactly once', async () => {
    const alice = userClient(cloud, 'alice');
    const exposedNow = [name(1), name(500), name(998)];
    await mapLimited(exposedNow, 4, (b) => alice.putBucketACL(b, 'public-read'));
    const stillPublic = cloud.oss
      .bucketNames()
      .filter((b) => b !== EXCEPTED && cloud.oss.bucket(b)?.acl !== 'private');

    const runs: SweepResult[] = [];
    do runs.push(await invokeSweeper(cloud, { deadlineMs: 150 }));
    while (!runs.at(-1)?.complete && runs.length < 200);

    expect(runs.length).toBeGreaterThan(2);
    expect(runs.at(-1)?.complete).toBe(true);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(1);
    expect(runs.map((r) => r.resumed)).toEqual([false, ...runs.slice(1).map(() => true)]);
    // The invocations' ranges of buckets follow each other without a gap or an overlap.
    const all = cloud.oss.bucketNames();
    const covered = runs.flatMap((r) =>
      r.buckets === 0 ? [] : all.slice(all.indexOf(r.first as string), all.indexOf(r.last as string) + 1),
    );
    expect(covered).toEqual(all);
    expect(runs.reduce((n, r) => n + r.buckets, 0)).toBe(all.length);

    const records = await sweepRecords(cloud, runs[0]?.runId as string);
    const audited = records.filter((r) => r.guard === 'oss-acl-guard').map((r) => r.resource.bucket);
    expect(audited.sort()).toEqual(stillPublic.sort());
    expect(new Set(audited).size).toBe(audited.length);
  }, 300_000);
});
