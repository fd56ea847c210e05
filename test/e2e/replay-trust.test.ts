import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditKey } from '../../shared/audit/record';
import type { ReplayedEvent } from '../../shared/replay/replay';
import { replayLocal, restoreLocalState, useLocalState } from '../helpers/cli';
import { auditRecords, FAST_LOOKUP_PER_SECOND, startCloud, userClient } from './local-cloud';

const DENIED = 'replay-revert-denied';
const FORGED = 'replay-forged-record';

/** #19 class 5: only a completed record whose digest verifies means "handled" to `ossguard replay`. */
describe('ossguard replay believes only completed, verified records', () => {
  let cloud: LocalCloud;
  /** 'armed': alice's PutBucketAcl on DENIED passes and every later one (the revert's) is refused. */
  let denial: 'off' | 'armed' | 'denying' = 'off';

  beforeAll(async () => {
    cloud = await startCloud(
      {},
      {
        lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND,
        // The revert of DENIED is refused: the guard's attempt ends `failed`.
        intercept: ({ operation, bucket }) => {
          if (denial === 'off' || operation !== 'PutBucketAcl' || bucket !== DENIED) return undefined;
          if (denial === 'armed') {
            denial = 'denying';
            return undefined;
          }
          return { status: 403, code: 'AccessDenied', message: 'injected: the revert is refused' };
        },
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-replay-trust-')));
  });
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  const replayEvents = async (since: string) =>
    (await replayLocal('--guard', 'oss-acl-guard', '--since', since)).events;

  const about = (bucket: string) => (e: ReplayedEvent) =>
    e.resource.bucket === bucket && e.eventName === 'PutBucketAcl';

  it('retries an event whose earlier attempt failed', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const alice = userClient(cloud, 'alice');
    await alice.putBucket(DENIED);
    await cloud.settle();
    denial = 'armed';
    await alice.putBucketACL(DENIED, 'public-read');
    await cloud.settle();
    denial = 'off';
    const failed = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === DENIED && r.eventName === 'PutBucketAcl',
    );
    expect(failed).toEqual([expect.objectContaining({ decision: 'failed' })]);
    expect((await alice.getBucketACL(DENIED)).acl).toBe('public-read');

    const events = await replayEvents(since);
    expect(events.filter(about(DENIED))).toMatchObject([{ decision: 'remediated', outcome: 'acted' }]);
    expect((await alice.getBucketACL(DENIED)).acl).toBe('private');
  });

  it('is not stopped by a record someone else wrote into the audit bucket without a valid digest', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const alice = userClient(cloud, 'alice');
    await alice.putBucket(FORGED);
    await cloud.settle();
    const before = cloud.bus.history().length;
    await cloud.unobserved(() => alice.putBucketACL(FORGED, 'public-read'));
    const event = cloud.bus
      .history()
      .slice(before)
      .find((e) => e.data.eventName === 'PutBucketAcl');
    if (!event) throw new Error('the change published no event');
    const { eventId, eventTime } = event.data as { eventId: string; eventTime: string };

    // Whoever can write the audit bucket plants "remediated" where replay's own record for the event would go.
    const forged = {
      schemaVersion: 1,
      eventId,
      dedupeKey: eventId,
      eventName: 'PutBucketAcl',
      eventType: 'ApiCall',
      time: eventTime,
      decidedAt: new Date().toISOString(),
      guard: 'oss-acl-guard',
      region: cloud.region,
      actor: { type: 'ram-user', userName: 'alice' },
      resource: { bucket: FORGED },
      rules: [],
      decision: 'remediated',
      reason: 'nothing to see here',
      dryRun: false,
      ossguardVersion: '0.0.0',
      requestIds: [],
      alerts: [],
      digest: '0'.repeat(64),
    };
    await cloud
      .adminClient(cloud.auditBucket)
      .put(auditKey('ossguard/audit/', eventId, eventTime), Buffer.from(JSON.stringify(forged)));

    const events = await replayEvents(since);
    expect(events.filter(about(FORGED))).toMatchObject([{ decision: 'remediated', outcome: 'acted' }]);
    expect((await alice.getBucketACL(FORGED)).acl).toBe('private');
  });
});
