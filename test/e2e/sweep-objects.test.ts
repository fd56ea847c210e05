import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditKey, digestOf } from '../../shared/audit/record';
import { auditRecordOf } from '../helpers/audit-record';
import { auditRecords, invokeSweeper, startCloud, userClient } from './local-cloud';

const BUCKET = 'exposed-prefix';

/** #19 class 2: the sweep re-reads objects under prefixes the audit log shows were exposed. */
describe('the sweep’s object pass', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts objects made public unseen under a prefix where an object was found public before', async () => {
    const alice = userClient(cloud, 'alice', BUCKET);
    await alice.putBucket(BUCKET);
    for (const key of ['photos/a.jpg', 'photos/b.jpg', 'photos/c.jpg', 'notes/d.txt'])
      await alice.put(key, Buffer.from(key));
    await cloud.settle();
    // Seen: the audit log now shows photos/ exposed.
    await alice.putACL('photos/a.jpg', 'public-read');
    await cloud.settle();
    expect((await alice.getACL('photos/a.jpg')).acl).toBe('private');
    // Unseen, as changes a lost range or the blast-radius cap left behind.
    await cloud.unobserved(async () => {
      await alice.putACL('photos/b.jpg', 'public-read');
      await alice.putACL('photos/c.jpg', 'public-read-write');
    });

    const result = await invokeSweeper(cloud);
    await cloud.settle();

    expect(result.complete).toBe(true);
    expect((await alice.getACL('photos/b.jpg')).acl).toBe('private');
    expect((await alice.getACL('photos/c.jpg')).acl).toBe('private');
    const swept = (await auditRecords(cloud)).filter(
      (r) => r.eventName === 'OssguardSweepObject' && r.resource.bucket === BUCKET,
    );
    expect(swept.map((r) => [r.resource.objectKey, r.decision]).sort()).toEqual([
      ['photos/b.jpg', 'remediated'],
      ['photos/c.jpg', 'remediated'],
    ]);
  }, 60_000);

  it('names no prefix from a record the audit key does not verify, and counts it', async () => {
    // Whoever can write the audit bucket can file a record naming any prefix, dated as it likes: it would
    // push the real exposures out of the pass's prefix cap, newest first.
    const planted = auditRecordOf({
      eventId: 'planted',
      dedupeKey: 'planted',
      time: new Date().toISOString(),
      resource: { bucket: BUCKET, objectKey: 'planted/e.txt' },
      rules: [
        { ruleId: 'object-acl-public', severity: 'high', message: 'public', evidence: {}, mode: 'enforce' },
      ],
    });
    await cloud
      .adminClient(cloud.auditBucket)
      .put(
        auditKey('ossguard/audit/', 'planted', planted.time),
        Buffer.from(JSON.stringify({ ...planted, digest: digestOf(planted) })),
      );

    const result = await invokeSweeper(cloud);

    expect(result.complete).toBe(true);
    expect(result.objects).toMatchObject({ prefixes: 1, untrusted: 1, recordsUnread: 0, daysUnlisted: 0 });
  }, 60_000);
});
