import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { verbatimUrllib } from '../helpers/oss';
import { auditRecords, startCloud } from './local-cloud';

const BUCKET = 'odd-keys';

/**
 * Keys OSS accepts as sent (F-OSS-OBJECT-NAMES) that ali-oss cannot address: its HTTP client drops `.` and `..`
 * segments before sending what was signed for them (F-ALIOSS-PATH-NORMALISED). The others need
 * percent-encoding or keep empty segments.
 */
const KEYS = ['a/../b.txt', './c.txt', 'd/./e', 'f/..', '..', 'g//h.txt', 'sp ace?#%&+ü.txt', 'x/%2e%2e/y'];

describe('objects whose keys a client library rewrites', () => {
  let cloud: LocalCloud;
  let mallory: OSS;

  beforeAll(async () => {
    cloud = await startCloud();
    const { key } = cloud.identities.userWithKey('mallory');
    // Hand-signed requests: ali-oss signs the exact key and the request goes out as signed.
    mallory = new OSS({
      endpoint: cloud.endpoints.oss,
      region: `oss-${cloud.region}`,
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      bucket: BUCKET,
      urllib: verbatimUrllib(),
    } as OSS.Options);
    await mallory.putBucket(BUCKET);
    await cloud.settle();
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it('are stored under the exact key, made public by upload or PutObjectAcl, and each is reverted', async () => {
    for (const [index, key] of KEYS.entries()) {
      if (index % 2 === 0) {
        await mallory.put(key, Buffer.from(key), { headers: { 'x-oss-object-acl': 'public-read' } });
      } else {
        await mallory.put(key, Buffer.from(key));
        await mallory.putACL(key, 'public-read-write');
      }
    }
    expect(cloud.oss.bucket(BUCKET)?.objectKeys).toEqual([...KEYS].sort());
    await cloud.settle();

    const records = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === BUCKET && r.actor.type !== 'assumed-role',
    );
    for (const key of KEYS) {
      expect(cloud.oss.object(BUCKET, key)?.acl, key).toBe('private');
      const decisions = records.filter((r) => r.resource.objectKey === key).map((r) => r.decision);
      expect(decisions, key).toContain('remediated');
      expect(decisions, key).not.toContain('failed');
    }
  }, 60_000);
});
