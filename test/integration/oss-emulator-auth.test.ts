import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capturingUrllib,
  expectOssError,
  type OssClient,
  OssRig,
  PUBLIC_ACCESS_BLOCK,
  rawRequest,
  SIGNERS,
} from '../helpers/oss';

const xml = new XMLParser({ parseTagValue: false });

describe.each(SIGNERS)('OSS emulator authentication, $name signing', ({ v4 }) => {
  let rig: OssRig;
  let root: OssClient;
  let bucket: string;

  beforeAll(async () => {
    rig = await new OssRig().start();
    root = rig.client(rig.root, { v4 });
    bucket = `auth-${v4 ? 'v4' : 'v1'}`;
    await root.putBucket(bucket);
    await rig.client(rig.root, { v4, bucket }).put('file.txt', Buffer.from('data'));
  });
  afterAll(() => rig.close());

  it('accepts a RAM user key and an STS session with its token', async () => {
    await rig.client(rig.ramUser(), { v4 }).getBucketACL(bucket);
    await rig.client(rig.assumedRole(), { v4 }).getBucketACL(bucket);
  });

  it('rejects a request signed with the wrong secret with SignatureDoesNotMatch', async () => {
    const wrong = rig.client({ ...rig.root, accessKeySecret: 'not-the-secret' }, { v4 });
    const error = await expectOssError(wrong.getBucketACL(bucket), {
      code: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(error).toMatchObject({ ecCode: '0002-00000040' });
  });

  it('rejects a HEAD signed with the wrong secret with SignatureDoesNotMatch decoded from x-oss-err', async () => {
    const wrong = rig.client({ ...rig.root, accessKeySecret: 'not-the-secret' }, { v4, bucket });
    await expectOssError(wrong.head('file.txt'), { code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('rejects a signed request replayed with x-oss-acl changed with SignatureDoesNotMatch, showing its StringToSign', async () => {
    const { urllib, captured } = capturingUrllib();
    await rig.client(rig.root, { v4, urllib }).putBucketACL(bucket, 'private');
    const [signed] = captured;
    if (!signed) throw new Error('no request captured');
    const send = (acl: string) =>
      rawRequest(signed.url, {
        method: signed.params.method,
        headers: { ...signed.params.headers, 'x-oss-acl': acl },
      });

    const tampered = await send('public-read-write');
    expect(tampered.status).toBe(403);
    const body = xml.parse(tampered.body).Error;
    expect(body).toMatchObject({ Code: 'SignatureDoesNotMatch', OSSAccessKeyId: rig.root.accessKeyId });
    expect(body.StringToSign).toContain(v4 ? 'OSS4-HMAC-SHA256' : 'x-oss-acl:public-read-write');
    expect(body).toHaveProperty('StringToSignBytes');
    expect((await root.getBucketACL(bucket)).acl).toBe('private');

    expect((await send('private')).status).toBe(200);
  });

  it('rejects an expired STS token with SecurityTokenExpired', async () => {
    const expired = rig.assumedRole('ossguard-fn', 'expired', -1000);
    await expectOssError(rig.client(expired, { v4 }).getBucketACL(bucket), {
      code: 'SecurityTokenExpired',
      status: 403,
    });
  });

  it('rejects an STS key with another session token with InvalidSecurityToken', async () => {
    const session = rig.assumedRole();
    const other = rig.assumedRole('other-role', 'other');
    const client = rig.client({ ...session, securityToken: other.securityToken }, { v4 });
    await expectOssError(client.getBucketACL(bucket), { code: 'InvalidSecurityToken', status: 403 });
  });

  it('rejects an STS key sent without its token, and a long-term key sent with one, with InvalidAccessKeyId', async () => {
    const { securityToken, ...withoutToken } = rig.assumedRole();
    await expectOssError(rig.client(withoutToken, { v4 }).getBucketACL(bucket), {
      code: 'InvalidAccessKeyId',
      status: 403,
    });
    await expectOssError(rig.client({ ...rig.ramUser(), securityToken }, { v4 }).getBucketACL(bucket), {
      code: 'InvalidAccessKeyId',
      status: 403,
    });
  });

  it('rejects a disabled key and an unknown key with InvalidAccessKeyId', async () => {
    const { key } = rig.identities.userWithKey('disabled-user');
    const client = rig.client(key, { v4 });
    await client.getBucketACL(bucket);
    key.status = 'Inactive';
    const error = await expectOssError(client.getBucketACL(bucket), {
      code: 'InvalidAccessKeyId',
      status: 403,
    });
    expect(error.message).toContain('disabled');
    await expectOssError(
      rig.client({ accessKeyId: 'LTAI-unknown', accessKeySecret: 'x' }, { v4 }).listBuckets(),
      {
        code: 'InvalidAccessKeyId',
        status: 403,
      },
    );
  });

  it('rejects a request signed more than 15 minutes off the server clock with RequestTimeTooSkewed', async () => {
    const client = rig.client(rig.root, { v4 });
    client.options.amendTimeSkewed = -16 * 60_000;
    await expectOssError(client.getBucketACL(bucket), { code: 'RequestTimeTooSkewed', status: 403 });
    client.options.amendTimeSkewed = -14 * 60_000;
    await client.getBucketACL(bucket);
  });

  it('serves the bucket named in the Host header when ali-oss is given a bare-IP endpoint', async () => {
    const ip = rig.client(rig.assumedRole(), { v4, ipEndpoint: true });
    const name = `ip-mode-${v4 ? 'v4' : 'v1'}`;
    expect((await ip.putBucket(name)).bucket).toBe(name);
    const objects = rig.client(rig.root, { v4, ipEndpoint: true, bucket: name });
    await objects.put('dir/x y.txt', Buffer.from('via host header'));
    expect((await objects.get('dir/x y.txt')).content.toString()).toBe('via host header');
    expect((await objects.list({ prefix: 'dir/' }, {})).objects.map((o) => o.name)).toEqual(['dir/x y.txt']);
    expect((await ip.listBuckets({ prefix: name }, {})).buckets?.map((b) => b.name)).toEqual([name]);
    expect(rig.emulator.object(name, 'dir/x y.txt')?.size).toBe(15);
  });
});

describe('OSS emulator wire format and anonymous access', () => {
  let rig: OssRig;
  let root: OssClient;
  let base: string;
  let sequence = 0;
  const url = (bucket: string, key = '') => `${base}/${bucket}/${key}`;

  async function bucketWith(acl: string, objects: Record<string, string> = {}): Promise<string> {
    const name = `anon-${++sequence}`;
    await root.putBucket(name, { acl });
    const client = rig.client(rig.root, { bucket: name });
    for (const [key, objectAcl] of Object.entries(objects)) {
      await client.put(key, Buffer.from(key), { headers: { 'x-oss-object-acl': objectAcl } });
    }
    return name;
  }

  beforeAll(async () => {
    rig = await new OssRig().start();
    root = rig.client(rig.root);
    base = `http://localhost:${rig.emulator.port}`;
  });
  afterAll(() => rig.close());

  it('answers with x-oss-request-id, Server: AliyunOSS, Date and application/xml, and errors with Code, Message, RequestId, HostId and EC', async () => {
    const missing = await rawRequest(url('no-such-bucket', 'k'), { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(missing.headers).toMatchObject({
      server: 'AliyunOSS',
      'content-type': 'application/xml',
      'x-oss-ec': '0015-00000101',
    });
    expect(missing.headers['x-oss-request-id']).toMatch(/^[0-9A-F]{24}$/);
    expect(Date.parse(String(missing.headers.date))).not.toBeNaN();
    expect(xml.parse(missing.body).Error).toEqual({
      Code: 'NoSuchBucket',
      Message: 'The specified bucket does not exist.',
      RequestId: missing.headers['x-oss-request-id'],
      HostId: 'no-such-bucket.oss-cn-hangzhou.aliyuncs.com',
      BucketName: 'no-such-bucket',
      EC: '0015-00000101',
      RecommendDoc: 'https://api.aliyun.com/troubleshoot?q=0015-00000101',
    });
  });

  it('denies anonymous reads of a private object with AccessDenied, in x-oss-err for HEAD', async () => {
    const name = await bucketWith('private', { 'secret.txt': 'default' });
    const get = await rawRequest(url(name, 'secret.txt'), { method: 'GET' });
    expect(get.status).toBe(403);
    expect(xml.parse(get.body).Error.Code).toBe('AccessDenied');
    const head = await rawRequest(url(name, 'secret.txt'), { method: 'HEAD' });
    expect(head.status).toBe(403);
    expect(head.body).toBe('');
    const decoded = Buffer.from(String(head.headers['x-oss-err']), 'base64').toString();
    expect(xml.parse(decoded).Error.Code).toBe('AccessDenied');
  });

  it('lets anonymous reads through a public object ACL or a default ACL on a public bucket, but not a private object ACL', async () => {
    const privateBucket = await bucketWith('private', { 'open.txt': 'public-read' });
    expect((await rawRequest(url(privateBucket, 'open.txt'), { method: 'GET' })).body).toBe('open.txt');

    const publicBucket = await bucketWith('public-read', {
      'inherits.txt': 'default',
      'closed.txt': 'private',
    });
    expect((await rawRequest(url(publicBucket, 'inherits.txt'), { method: 'GET' })).status).toBe(200);
    expect((await rawRequest(url(publicBucket, 'closed.txt'), { method: 'GET' })).status).toBe(403);
    expect((await rawRequest(url(publicBucket, 'absent.txt'), { method: 'GET' })).status).toBe(404);
  });

  it('refuses anonymous writes and listings even on a public-read-write bucket', async () => {
    const name = await bucketWith('public-read-write');
    const put = await rawRequest(url(name, 'new.txt'), { method: 'PUT', body: 'x' });
    expect(put.status).toBe(403);
    expect(xml.parse(put.body).Error.Code).toBe('AccessDenied');
    expect((await rawRequest(url(name), { method: 'GET' })).status).toBe(403);
    expect(rig.emulator.object(name, 'new.txt')).toBeUndefined();
  });

  it('ignores public ACLs for anonymous reads while Block Public Access is on', async () => {
    const name = await bucketWith('public-read', { 'pub.txt': 'public-read' });
    await root.request({
      method: 'PUT',
      bucket: name,
      subres: 'publicAccessBlock',
      content: PUBLIC_ACCESS_BLOCK(true),
      mime: 'xml',
      successStatuses: [200],
    });
    expect((await rawRequest(url(name, 'pub.txt'), { method: 'GET' })).status).toBe(403);
  });

  it('lets anonymous reads through a bucket policy that allows * and lets a policy Deny win over a public ACL', async () => {
    const name = await bucketWith('private', { 'docs/a.txt': 'default', 'docs/b.txt': 'public-read' });
    await root.putBucketPolicy(name, {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['oss:GetObject'],
          Principal: ['*'],
          Resource: [`acs:oss:*:*:${name}/docs/*`],
        },
        { Effect: 'Deny', Action: ['oss:*'], Principal: ['*'], Resource: [`acs:oss:*:*:${name}/docs/b.txt`] },
      ],
    });
    expect((await rawRequest(url(name, 'docs/a.txt'), { method: 'GET' })).status).toBe(200);
    const denied = await rawRequest(url(name, 'docs/b.txt'), { method: 'GET' });
    expect(denied.status).toBe(403);
    expect(xml.parse(denied.body).Error.Message).toBe('Access denied by bucket policy.');
  });

  it('serves V1 presigned URLs until they expire', async () => {
    const name = await bucketWith('private', { 'shared.txt': 'default' });
    for (const credentials of [rig.root, rig.assumedRole()]) {
      const client = rig.client(credentials, { bucket: name });
      const valid = await rawRequest(client.signatureUrl('shared.txt', { expires: 60 }), { method: 'GET' });
      expect(valid).toMatchObject({ status: 200, body: 'shared.txt' });
      const expired = await rawRequest(client.signatureUrl('shared.txt', { expires: -60 }), {
        method: 'GET',
      });
      expect(expired.status).toBe(403);
      expect(xml.parse(expired.body).Error.Message).toBe('Request has expired.');
    }
  });
});
