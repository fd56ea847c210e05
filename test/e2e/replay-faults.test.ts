import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { replayLocal, restoreLocalState, useLocalState } from '../helpers/cli';
import { decisionsFor, FAST_LOOKUP_PER_SECOND, startCloud, userClient } from './local-cloud';

/**
 * GetBucketAcl answers 503 for these buckets: `broken` always, `flaky` for its first eight calls, which is
 * what the pipeline's four attempts for each of the bucket's two events spend in the first invocation.
 */
const FLAKY = 'replay-flaky';
const BROKEN = 'replay-broken';
const STEADY = 'replay-steady';

describe('ossguard replay when the function meets cloud faults', () => {
  let cloud: LocalCloud;
  let flakyCalls = 0;

  beforeAll(async () => {
    cloud = await startCloud(
      {},
      {
        lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND,
        intercept: ({ operation, bucket }) => {
          if (operation !== 'GetBucketAcl') return undefined;
          const unavailable = { status: 503, code: 'ServiceUnavailable', message: 'injected' };
          if (bucket === BROKEN) return unavailable;
          if (bucket === FLAKY && ++flakyCalls <= 8) return unavailable;
          return undefined;
        },
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-replay-faults-')));
  });
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('sends only the failed events again, counts each event once, and fails the run for what never succeeds', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const alice = userClient(cloud, 'alice');
    await cloud.unobserved(async () => {
      for (const bucket of [STEADY, FLAKY, BROKEN]) await alice.putBucket(bucket);
      for (const bucket of [STEADY, FLAKY, BROKEN]) await alice.putBucketACL(bucket, 'public-read');
    });

    const { code, events, summary } = await replayLocal('--guard', 'oss-acl-guard', '--since', since);
    const about = (bucket: string, eventName: string) =>
      events.filter((e) => e.resource.bucket === bucket && e.eventName === eventName);

    expect(code).toBe(1);
    expect(events).toHaveLength(6);
    expect(summary).toMatchObject({ seen: 6, failed: 2 });
    // STEADY was decided in the first invocation, which then failed on FLAKY: its decision is read back.
    expect(
      [...about(STEADY, 'PutBucket'), ...about(STEADY, 'PutBucketAcl')].map((e) => e.decision).sort(),
    ).toEqual(expect.arrayContaining(['remediated']));
    expect(
      [...about(FLAKY, 'PutBucket'), ...about(FLAKY, 'PutBucketAcl')].map((e) => e.outcome),
    ).not.toContain('failed');
    expect(about(BROKEN, 'PutBucketAcl')).toMatchObject([
      {
        outcome: 'failed',
        reason: expect.stringMatching(/cloud faults after 3 invocations.*ServiceUnavailable/),
      },
    ]);
    expect((await alice.getBucketACL(STEADY)).acl).toBe('private');
    expect((await alice.getBucketACL(FLAKY)).acl).toBe('private');
    expect(cloud.oss.bucket(BROKEN)?.acl).toBe('public-read');
    for (const bucket of [STEADY, FLAKY])
      expect(await decisionsFor(cloud, 'PutBucketAcl', bucket)).toHaveLength(1);
    expect(await decisionsFor(cloud, 'PutBucketAcl', BROKEN)).toEqual([]);
  }, 120_000);
});
