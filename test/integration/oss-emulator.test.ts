import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Credentials,
  expectOssError,
  type OssClient,
  OssRig,
  PUBLIC_ACCESS_BLOCK,
  SIGNERS,
} from '../helpers/oss';

/**
 * Every emulated OSS operation driven by the real ali-oss 6.x client, signed V1 and V4, with a long-term
 * AccessKey and with STS credentials (x-oss-security-token).
 */
const PRINCIPALS = [
  { name: 'the root AccessKey', credentials: (rig: OssRig): Credentials => rig.root },
  { name: 'an STS session', credentials: (rig: OssRig): Credentials => rig.assumedRole() },
] as const;

const CASES = SIGNERS.flatMap((signer) => PRINCIPALS.map((principal) => ({ signer, principal })));

describe.each(CASES)(
  'OSS emulator operations, $signer.name signing with $principal.name',
  ({ signer, principal }) => {
    let rig: OssRig;
    let oss: OssClient;
    let sequence = 0;
    const newBucket = (label: string) => `${label}-${signer.name.toLowerCase()}-${++sequence}`;
    const objectClient = (bucket: string) =>
      rig.client(principal.credentials(rig), { v4: signer.v4, bucket });

    beforeAll(async () => {
      rig = await new OssRig().start();
      oss = rig.client(principal.credentials(rig), { v4: signer.v4 });
    });
    afterAll(() => rig.close());

    it('creates a bucket with an ACL and describes it through GetBucketAcl, GetBucketInfo and ListBuckets', async () => {
      const name = newBucket('created');
      expect((await oss.putBucket(name, { acl: 'public-read' })).bucket).toBe(name);

      const acl = await oss.getBucketACL(name);
      expect(acl).toMatchObject({ acl: 'public-read', owner: { id: rig.identities.accountId } });

      const { bucket } = await oss.getBucketInfo(name);
      expect(bucket).toMatchObject({
        Name: name,
        Location: 'oss-cn-hangzhou',
        ExtranetEndpoint: 'oss-cn-hangzhou.aliyuncs.com',
        IntranetEndpoint: 'oss-cn-hangzhou-internal.aliyuncs.com',
        StorageClass: 'Standard',
        AccessControlList: { Grant: 'public-read' },
        BlockPublicAccess: 'false',
      });

      const listed = await oss.listBuckets({ prefix: name }, {});
      expect(listed.owner.id).toBe(rig.identities.accountId);
      expect(listed.buckets).toEqual([expect.objectContaining({ name, region: 'oss-cn-hangzhou' })]);
    });

    it('answers a repeated PutBucket by the owner with success and refuses an invalid bucket name', async () => {
      const name = newBucket('again');
      await oss.putBucket(name);
      expect((await oss.putBucket(name)).bucket).toBe(name);
      // ali-oss checks names client-side; the low-level route shows the server-side check.
      await expectOssError(oss.request({ method: 'PUT', bucket: 'Bad_Name', successStatuses: [200] }), {
        code: 'InvalidBucketName',
        status: 400,
      });
      expect(rig.emulator.bucket('Bad_Name')).toBeUndefined();
    });

    it('refuses to delete a non-empty bucket with BucketNotEmpty and deletes it once empty', async () => {
      const name = newBucket('delete');
      await oss.putBucket(name);
      const objects = objectClient(name);
      await objects.put('k.txt', Buffer.from('x'));
      await expectOssError(oss.deleteBucket(name), { code: 'BucketNotEmpty', status: 409 });
      await objects.delete('k.txt');
      expect((await oss.deleteBucket(name)).res.status).toBe(204);
      await expectOssError(oss.getBucketInfo(name), { code: 'NoSuchBucket', status: 404 });
    });

    it('pages ListBuckets with prefix, marker and max-keys', async () => {
      const prefix = newBucket('page');
      for (const suffix of ['a', 'b', 'c']) await oss.putBucket(`${prefix}-${suffix}`);
      const first = await oss.listBuckets({ prefix, 'max-keys': '2' }, {});
      expect(first.buckets?.map((b) => b.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
      expect(first).toMatchObject({ isTruncated: true, nextMarker: `${prefix}-b` });
      const second = await oss.listBuckets({ prefix, marker: first.nextMarker ?? '', 'max-keys': '2' }, {});
      expect(second.buckets?.map((b) => b.name)).toEqual([`${prefix}-c`]);
      expect(second).toMatchObject({ isTruncated: false, nextMarker: null });
    });

    it('creates a missing bucket on PutBucketAcl and changes the ACL of an existing one', async () => {
      const name = newBucket('acl');
      expect((await oss.putBucketACL(name, 'public-read-write')).bucket).toBe(name);
      expect((await oss.getBucketACL(name)).acl).toBe('public-read-write');
      await oss.putBucketACL(name, 'private');
      expect((await oss.getBucketACL(name)).acl).toBe('private');
      await expectOssError(oss.putBucketACL(name, 'world-writable'), {
        code: 'InvalidArgument',
        status: 400,
      });
    });

    it('reports a fresh object ACL as default and sets it to each valid value', async () => {
      const name = newBucket('objacl');
      await oss.putBucket(name);
      const objects = objectClient(name);
      await objects.put('a/b.txt', Buffer.from('x'));
      expect(await objects.getACL('a/b.txt')).toMatchObject({
        acl: 'default',
        owner: { id: rig.identities.accountId },
      });
      for (const acl of ['public-read', 'private', 'public-read-write', 'default']) {
        await objects.putACL('a/b.txt', acl);
        expect((await objects.getACL('a/b.txt')).acl).toBe(acl);
      }
      await expectOssError(objects.putACL('missing.txt', 'private'), { code: 'NoSuchKey', status: 404 });
    });

    it('stores a bucket policy as sent, reads a missing one as {policy: null, status: 404}, and deletes with 204', async () => {
      const name = newBucket('policy');
      await oss.putBucket(name);
      expect(await oss.getBucketPolicy(name)).toMatchObject({ policy: null, status: 404 });
      const policy = {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['oss:GetObject'],
            Principal: ['20214760404935xxxx'],
            Resource: [`acs:oss:*:*:${name}/*`],
          },
        ],
      };
      expect((await oss.putBucketPolicy(name, policy)).status).toBe(200);
      expect(rig.emulator.bucket(name)?.policy).toBe(JSON.stringify(policy));
      expect(await oss.getBucketPolicy(name)).toMatchObject({ policy, status: 200 });
      expect((await oss.deleteBucketPolicy(name)).status).toBe(204);
      expect((await oss.getBucketPolicy(name)).policy).toBeNull();
    });

    it('rejects a policy that is not Version "1" with Statements with InvalidPolicyDocument', async () => {
      const name = newBucket('badpolicy');
      await oss.putBucket(name);
      await expectOssError(oss.putBucketPolicy(name, { Version: '2', Statement: [] }), {
        code: 'InvalidPolicyDocument',
        status: 400,
      });
      await expectOssError(oss.putBucketPolicy(name, { Version: '1' }), { code: 'InvalidPolicyDocument' });
      await expectOssError(
        oss.putBucketPolicy(name, {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: '*' }],
        }),
        { code: 'InvalidPolicyDocument' },
      );
    });

    it('reports GetBucketPolicyStatus through the signed low-level request', async () => {
      const name = newBucket('status');
      await oss.putBucket(name);
      const status = () =>
        oss.request({
          method: 'GET',
          bucket: name,
          subres: 'policyStatus',
          successStatuses: [200],
          xmlResponse: true,
        });
      expect((await status()).data.IsPublic).toBe('false');
      await oss.putBucketPolicy(name, {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['oss:GetObject'],
            Principal: ['*'],
            Resource: [`acs:oss:*:*:${name}/*`],
          },
        ],
      });
      expect((await status()).data.IsPublic).toBe('true');
    });

    it('switches bucket-level Block Public Access on and off', async () => {
      const name = newBucket('bpa');
      await oss.putBucket(name);
      const get = () =>
        oss.request({
          method: 'GET',
          bucket: name,
          subres: 'publicAccessBlock',
          successStatuses: [200],
          xmlResponse: true,
        });
      expect((await get()).data.BlockPublicAccess).toBe('false');
      const put = await oss.request({
        method: 'PUT',
        bucket: name,
        subres: 'publicAccessBlock',
        content: PUBLIC_ACCESS_BLOCK(true),
        mime: 'xml',
        successStatuses: [200],
      });
      expect(put.status).toBe(200);
      expect((await get()).data.BlockPublicAccess).toBe('true');
      expect((await oss.getBucketInfo(name)).bucket.BlockPublicAccess).toBe('true');
      const deleted = await oss.request({
        method: 'DELETE',
        bucket: name,
        subres: 'publicAccessBlock',
        successStatuses: [204],
      });
      expect(deleted.status).toBe(204);
      expect((await get()).data.BlockPublicAccess).toBe('false');
    });

    it('switches account-level Block Public Access on and off on the service endpoint', async () => {
      const get = () =>
        oss.request({
          method: 'GET',
          subres: 'publicAccessBlock',
          successStatuses: [200],
          xmlResponse: true,
        });
      await oss.request({
        method: 'PUT',
        subres: 'publicAccessBlock',
        content: PUBLIC_ACCESS_BLOCK(true),
        mime: 'xml',
        successStatuses: [200],
      });
      expect((await get()).data.BlockPublicAccess).toBe('true');
      expect(rig.emulator.accountBlockPublicAccess).toBe(true);
      await oss.request({ method: 'DELETE', subres: 'publicAccessBlock', successStatuses: [204] });
      expect((await get()).data.BlockPublicAccess).toBe('false');
    });

    it('puts, gets and deletes bucket tags, reading no tags as an empty map', async () => {
      const name = newBucket('tags');
      await oss.putBucket(name);
      expect(await oss.getBucketTags(name)).toMatchObject({ status: 200, tag: {} });
      await oss.putBucketTags(name, { 'ossguard-exception': 'until=2027-01-31;reason=web', team: '42' });
      expect((await oss.getBucketTags(name)).tag).toEqual({
        'ossguard-exception': 'until=2027-01-31;reason=web',
        team: '42',
      });
      await oss.putBucketTags(name, { only: 'one' });
      expect((await oss.getBucketTags(name)).tag).toEqual({ only: 'one' });
      expect((await oss.deleteBucketTags(name)).status).toBe(204);
      expect((await oss.getBucketTags(name)).tag).toEqual({});
    });

    it('puts an object with metadata and an object ACL, and gets, heads, copies and deletes it', async () => {
      const name = newBucket('objects');
      await oss.putBucket(name);
      const objects = objectClient(name);
      const key = 'dir/a b+c(1)&é.txt';
      const put = await objects.put(key, Buffer.from('hello world'), {
        meta: { owner: 'team-x' },
        headers: { 'x-oss-object-acl': 'private' },
      });
      expect(put.res.headers.etag).toBe('"5EB63BBBE01EEED093CB22BB8F5ACDC3"');
      expect((await objects.getACL(key)).acl).toBe('private');

      const got = await objects.get(key);
      expect(got.content.toString()).toBe('hello world');
      expect(got.res.headers).toMatchObject({ 'content-type': 'text/plain', 'x-oss-meta-owner': 'team-x' });

      const ranged = await objects.get(key, { headers: { Range: 'bytes=6-' } });
      expect(ranged.res.status).toBe(206);
      expect(ranged.content.toString()).toBe('world');

      const head = await objects.head(key);
      expect(head).toMatchObject({ status: 200, meta: { owner: 'team-x' } });
      expect(head.res.headers['content-length']).toBe('11');

      const copied = await objects.copy('copy.txt', key, { meta: { copied: 'yes' } });
      expect(copied.data?.etag).toBe('"5EB63BBBE01EEED093CB22BB8F5ACDC3"');
      expect((await objects.head('copy.txt')).meta).toEqual({ copied: 'yes' });
      expect((await objects.get('copy.txt')).content.toString()).toBe('hello world');

      expect((await objects.delete(key)).res.status).toBe(204);
      await expectOssError(objects.get(key), { code: 'NoSuchKey', status: 404 });
      await expectOssError(objects.head(key), { code: 'NoSuchKey', status: 404 });
      expect((await objects.delete('never-existed')).res.status).toBe(204);
    });

    it('refuses to overwrite with x-oss-forbid-overwrite with FileAlreadyExists', async () => {
      const name = newBucket('forbid');
      await oss.putBucket(name);
      const objects = objectClient(name);
      const once = { headers: { 'x-oss-forbid-overwrite': 'true' } };
      await objects.put('audit.json', Buffer.from('{}'), once);
      await expectOssError(objects.put('audit.json', Buffer.from('{"x":1}'), once), {
        code: 'FileAlreadyExists',
        status: 409,
      });
      expect((await objects.get('audit.json')).content.toString()).toBe('{}');
    });

    it('lists objects (v1) with prefix, delimiter and marker paging, every entry with an Owner', async () => {
      const name = newBucket('list');
      await oss.putBucket(name);
      const objects = objectClient(name);
      for (const key of ['a/1', 'a/2', 'b/1', 'c', 'd']) await objects.put(key, Buffer.from(key));

      const all = await objects.list({ delimiter: '/' }, {});
      expect(all.prefixes).toEqual(['a/', 'b/']);
      expect(all.objects.map((o) => o.name)).toEqual(['c', 'd']);
      expect(all.objects[0]?.owner?.id).toBe(rig.identities.accountId);

      const first = await objects.list({ delimiter: '/', 'max-keys': '2' }, {});
      expect(first).toMatchObject({ isTruncated: true, nextMarker: 'b/', prefixes: ['a/', 'b/'] });
      const rest = await objects.list({ delimiter: '/', marker: first.nextMarker ?? '' }, {});
      expect(rest.objects.map((o) => o.name)).toEqual(['c', 'd']);
      expect(rest.isTruncated).toBe(false);

      const underA = await objects.list({ prefix: 'a/' }, {});
      expect(underA.objects.map((o) => o.name)).toEqual(['a/1', 'a/2']);
    });

    it('lists objects (v2) with continuation tokens, start-after and fetch-owner', async () => {
      const name = newBucket('listv2');
      await oss.putBucket(name);
      const objects = objectClient(name);
      for (const key of ['p/1', 'p/2', 'p/3', 'q']) await objects.put(key, Buffer.from(key));

      const first = await objects.listV2({ prefix: 'p/', 'max-keys': '2' });
      expect(first.objects.map((o) => o.name)).toEqual(['p/1', 'p/2']);
      expect(first).toMatchObject({ isTruncated: true, keyCount: 2 });
      expect(first.objects[0]?.owner).toBeNull();
      const second = await objects.listV2({
        prefix: 'p/',
        'continuation-token': first.nextContinuationToken ?? '',
        'fetch-owner': 'true',
      });
      expect(second.objects.map((o) => o.name)).toEqual(['p/3']);
      expect(second).toMatchObject({ isTruncated: false, continuationToken: first.nextContinuationToken });
      expect(second.objects[0]?.owner?.id).toBe(rig.identities.accountId);

      const after = await objects.listV2({ 'start-after': 'p/2' });
      expect(after.objects.map((o) => o.name)).toEqual(['p/3', 'q']);
    });

    it('runs a retention policy through initiate, get, complete and extend, and refuses to abort a locked one', async () => {
      const name = newBucket('worm');
      await oss.putBucket(name);
      const { wormId, status } = await oss.initiateBucketWorm(name, '1');
      expect(status).toBe(200);
      expect(wormId).toMatch(/^[0-9A-F]+$/);
      expect(await oss.getBucketWorm(name)).toMatchObject({ wormId, state: 'InProgress', days: '1' });

      expect((await oss.completeBucketWorm(name, wormId)).status).toBe(200);
      expect((await oss.getBucketWorm(name)).state).toBe('Locked');
      expect((await oss.extendBucketWorm(name, wormId, '3')).status).toBe(200);
      expect((await oss.getBucketWorm(name)).days).toBe('3');
      // ali-oss never throws for AbortBucketWorm / CompleteBucketWorm; it returns the status.
      expect((await oss.abortBucketWorm(name)).status).toBe(403);
    });

    it('aborts an unlocked retention policy, after which GetBucketWorm answers NoSuchWORMConfiguration', async () => {
      const name = newBucket('abort');
      await oss.putBucket(name);
      await oss.initiateBucketWorm(name, '10');
      expect((await oss.abortBucketWorm(name)).status).toBe(204);
      await expectOssError(oss.getBucketWorm(name), { code: 'NoSuchWORMConfiguration', status: 404 });
    });

    it('names missing buckets and keys the way ali-oss callers check them', async () => {
      const missing = newBucket('missing');
      await expectOssError(oss.getBucketACL(missing), { code: 'NoSuchBucket', status: 404 });
      await expectOssError(objectClient(missing).get('k'), { code: 'NoSuchBucket', status: 404 });
      const name = newBucket('nokey');
      await oss.putBucket(name);
      await expectOssError(objectClient(name).get('nope'), { code: 'NoSuchKey', status: 404 });
    });
  },
);
