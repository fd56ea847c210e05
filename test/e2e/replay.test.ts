import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { ReplayedEvent } from '../../shared/replay/replay';
import { type ReplayRun, replayLocal, restoreLocalState, useLocalState } from '../helpers/cli';
import { auditRecords, decisionsFor, FAST_LOOKUP_PER_SECOND, startCloud, userClient } from './local-cloud';

/**
 * Separate `ossguard replay` runs share no pacer, as two commands a person types do not: the gap keeps the
 * emulator's per-second count about what one run does.
 */
const oneSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

const about = (bucket: string, eventName: string) => (e: ReplayedEvent) =>
  e.resource.bucket === bucket && e.eventName === eventName;

describe('ossguard replay against the local cloud', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({}, { lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND });
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-replay-')));
  });
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('reverts a bucket made public while neither path was watching, and a second replay acts on nothing', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('replay-photos');
    await cloud.settle();
    // Missed by both paths, as with the rule disabled and the trail stopped: only LookupEvents has it.
    await cloud.unobserved(() => alice.putBucketACL('replay-photos', 'public-read'));
    expect((await alice.getBucketACL('replay-photos')).acl).toBe('public-read');

    const first = await replayLocal('--since', since);
    expect(first.code).toBe(0);
    expect((await alice.getBucketACL('replay-photos')).acl).toBe('private');
    expect(first.events.filter(about('replay-photos', 'PutBucketAcl'))).toMatchObject([
      { guard: 'oss-acl-guard', decision: 'remediated', outcome: 'acted', rules: ['bucket-acl-public-read'] },
    ]);
    // The bucket's creation was delivered before the pause: its audit record marks it handled.
    expect(first.events.filter(about('replay-photos', 'PutBucket'))).toMatchObject([
      { decision: 'already-handled', outcome: 'already-handled' },
    ]);
    expect(first.summary).toMatchObject({ acted: 1, failed: 0 });
    const [record] = await decisionsFor(cloud, 'PutBucketAcl', 'replay-photos');
    expect(record).toMatchObject({
      decision: 'remediated',
      actor: { type: 'ram-user', userName: 'alice' },
      before: { acl: 'public-read' },
    });

    await oneSecond();
    const second = await replayLocal('--since', since);
    expect(second.summary).toMatchObject({ acted: 0, failed: 0 });
    // The revert replay made is an event too, which both paths delivered live and audited as ossguard's own.
    expect(second.summary.alreadyHandled).toBe(first.summary.alreadyHandled + first.summary.acted + 1);
    const revert = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === 'replay-photos' && r.actor.type === 'assumed-role',
    );
    expect(revert).toMatchObject([
      { eventName: 'PutBucketAcl', decision: 'skipped', reason: expect.stringMatching(/own role/) },
    ]);
    expect(await decisionsFor(cloud, 'PutBucketAcl', 'replay-photos')).toHaveLength(1);
  }, 60_000);

  it('changes nothing in a dry-run, and the dry-run does not hide the event from the next real replay', async () => {
    await oneSecond();
    const since = new Date(Date.now() - 60_000).toISOString();
    const bob = userClient(cloud, 'bob');
    await cloud.unobserved(async () => {
      await bob.putBucket('replay-dry');
      await bob.putBucketACL('replay-dry', 'public-read-write');
    });
    const alerts = cloud.dingtalk.messages().length;

    const dry = await replayLocal('--since', since, '--guard', 'oss-acl-guard', '--dry-run');
    // Both the creation and the ACL change were missed; each re-reads the bucket and finds it public.
    const bucket = (run: ReplayRun) => run.events.filter((e) => e.resource.bucket === 'replay-dry');
    expect(bucket(dry)).toMatchObject([
      { eventName: 'PutBucket', decision: 'dry-run', rules: ['bucket-acl-public-read-write'] },
      { eventName: 'PutBucketAcl', decision: 'dry-run', rules: ['bucket-acl-public-read-write'] },
    ]);
    expect(dry.summary).toMatchObject({ acted: 2, failed: 0 });
    expect((await bob.getBucketACL('replay-dry')).acl).toBe('public-read-write');
    expect(cloud.dingtalk.messages()).toHaveLength(alerts);
    expect(await decisionsFor(cloud, 'PutBucketAcl', 'replay-dry')).toEqual([]);

    await oneSecond();
    const real = await replayLocal('--since', since, '--guard', 'oss-acl-guard');
    expect((await bob.getBucketACL('replay-dry')).acl).toBe('private');
    expect(bucket(real).map((e) => e.outcome)).not.toContain('already-handled');
    expect(bucket(real).filter((e) => e.decision === 'remediated').length).toBeGreaterThanOrEqual(1);
    expect(real.summary.failed).toBe(0);
    cloud.bus.resume();
  }, 60_000);

  it('never sends LookupEvents faster than the local cloud allows, and is never throttled', () => {
    const stats = cloud.actiontrail.stats();
    // Nine event names in two full replays, six ACL event names in two replays of the ACL guard.
    expect(stats.calls).toBeGreaterThanOrEqual(2 * 9 + 2 * 6);
    expect(stats.peakCallsPerSecond).toBeLessThanOrEqual(FAST_LOOKUP_PER_SECOND);
    expect(stats.throttled).toBe(0);
  });
});
