import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud, TrailModel } from '../../local/cloud';
import { auditRecords, startCloud, userClient } from './local-cloud';

/** ali-oss 6 methods its type definitions lack or type too narrowly. */
interface UploadClient {
  multipartUpload(
    name: string,
    file: Buffer,
    options: { partSize: number; headers?: Record<string, string> },
  ): Promise<unknown>;
  initMultipartUpload(name: string): Promise<{ uploadId: string }>;
  uploadPart(
    name: string,
    uploadId: string,
    partNo: number,
    file: Buffer,
    start: number,
    end: number,
  ): Promise<{ etag: string }>;
  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
    options?: { headers?: Record<string, string> },
  ): Promise<unknown>;
  putSymlink(name: string, target: string, options?: { headers?: Record<string, string> }): Promise<unknown>;
  calculatePostSignature(policy: object): { OSSAccessKeyId: string; Signature: string; policy: string };
}

const BUCKET = 'acl-by-other-calls';
const PART = 100 * 1024;

/** Every call besides PutObjectAcl that can give an object a public ACL (#19 class 8), made by a RAM user. */
async function makePublicEveryWay(cloud: LocalCloud, alice: OSS): Promise<void> {
  const uploads = alice as unknown as UploadClient;
  await uploads.multipartUpload('multipart-initiate.bin', Buffer.alloc(PART + 1, 'i'), {
    partSize: PART,
    headers: { 'x-oss-object-acl': 'public-read' },
  });
  const { uploadId } = await uploads.initMultipartUpload('multipart-complete.bin');
  const part = await uploads.uploadPart('multipart-complete.bin', uploadId, 1, Buffer.from('c'), 0, 1);
  await uploads.completeMultipartUpload(
    'multipart-complete.bin',
    uploadId,
    [{ number: 1, etag: part.etag }],
    {
      headers: { 'x-oss-object-acl': 'public-read-write' },
    },
  );
  await alice.put('source.txt', Buffer.from('s'));
  await alice.copy('copied.txt', 'source.txt', { headers: { 'x-oss-object-acl': 'public-read' } });
  await uploads.putSymlink('symlink.txt', 'source.txt', { headers: { 'x-oss-object-acl': 'public-read' } });

  const signed = uploads.calculatePostSignature({
    expiration: new Date(Date.now() + 600_000).toISOString(),
    conditions: [{ bucket: BUCKET }],
  });
  const form = new FormData();
  form.append('key', 'posted.txt');
  form.append('x-oss-object-acl', 'public-read');
  form.append('OSSAccessKeyId', signed.OSSAccessKeyId);
  form.append('policy', signed.policy);
  form.append('Signature', signed.Signature);
  form.append('file', new Blob(['p']), 'posted.txt');
  const posted = await fetch(`${cloud.endpoints.oss}/${BUCKET}`, { method: 'POST', body: form });
  expect(posted.status).toBe(204);
}

const SEEN_BY_EVERY_MODEL = ['multipart-initiate.bin', 'multipart-complete.bin', 'copied.txt', 'posted.txt'];

describe.each<[string, TrailModel, { symlinkSeen: boolean }]>([
  ['records every object call and shows the ACL', {}, { symlinkSeen: true }],
  ['records every object call but shows no ACL', { showsObjectAclHeader: false }, { symlinkSeen: true }],
  ['records only the published data events', { dataEvents: 'published' }, { symlinkSeen: false }],
  [
    'records only the published data events and shows no ACL',
    { dataEvents: 'published', showsObjectAclHeader: false },
    { symlinkSeen: false },
  ],
])(
  'objects made public by multipart, copy, form and symlink calls when the trail %s',
  (_what, trailModel, expected) => {
    let cloud: LocalCloud;

    beforeAll(async () => {
      cloud = await startCloud({}, { trailModel, eventBridge: false });
    }, 60_000);

    afterAll(async () => {
      await cloud?.stop();
    });

    it('are each reverted once the trail shows a call that wrote them', async () => {
      const alice = userClient(cloud, 'alice', BUCKET);
      await alice.putBucket(BUCKET);
      await cloud.settle();
      // One range, read after every upload completed: what a trail that omits Complete still shows.
      cloud.logTriggers.pause();
      await makePublicEveryWay(cloud, alice);
      cloud.logTriggers.resume();
      await cloud.settle();

      const records = (await auditRecords(cloud)).filter(
        (r) => r.resource.bucket === BUCKET && r.actor.type !== 'assumed-role',
      );
      for (const key of SEEN_BY_EVERY_MODEL) {
        expect(cloud.oss.object(BUCKET, key)?.acl, key).toBe('private');
        // ali-oss sends the ACL header on every call of a multipart upload, and records of one range about
        // one object are judged side by side: each may say remediated; none may say failed.
        const decisions = records.filter((r) => r.resource.objectKey === key).map((r) => r.decision);
        expect(decisions, key).toContain('remediated');
        expect(decisions, key).not.toContain('failed');
      }
      // A trail that records no PutSymlink shows nothing of the link: ossguard cannot see it (local README).
      expect(cloud.oss.object(BUCKET, 'symlink.txt')?.acl).toBe(
        expected.symlinkSeen ? 'private' : 'public-read',
      );
      expect(cloud.logTriggers.deadLetters()).toEqual([]);
    }, 60_000);
  },
);
