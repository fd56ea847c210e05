import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import { type Credentials, type OssClient, OssRig, PUBLIC_ACCESS_BLOCK, SIGNERS } from '../helpers/oss';

/** Each authenticated OSS write publishes exactly one ActionTrail record, wrapped as an EventBridge CloudEvent. */
describe.each(SIGNERS)('OSS emulator ActionTrail events, $name signing', ({ v4 }) => {
  let rig: OssRig;
  let oss: OssClient;
  let sequence = 0;
  const bucket = () => `events-${v4 ? 'v4' : 'v1'}-${sequence}`;

  /** Runs `call` and returns the single event it published. */
  async function only(call: () => Promise<unknown>): Promise<CloudEvent> {
    const before = rig.events.length;
    await call();
    const published = rig.events.slice(before);
    expect(published).toHaveLength(1);
    return published[0]!;
  }

  beforeAll(async () => {
    rig = await new OssRig().start();
    oss = rig.client(rig.root, { v4 });
  });
  afterAll(() => rig.close());
  beforeEach(async () => {
    sequence += 1;
    await oss.putBucket(bucket());
  });

  it('describes a bucket write: type, eventName, service, source, region, resources, parameters and request id', async () => {
    let requestId: unknown;
    const event = await only(async () => {
      const result = await oss.putBucketACL(bucket(), 'public-read');
      requestId = result.res.headers['x-oss-request-id'];
    });
    expect(event).toMatchObject({
      specversion: '1.0',
      source: 'acs.oss',
      type: 'oss:ActionTrail:ApiCall',
      aliyunaccountid: rig.identities.accountId,
      aliyunregionid: 'cn-hangzhou',
      data: {
        eventName: 'PutBucketAcl',
        eventType: 'ApiCall',
        eventRW: 'Write',
        serviceName: 'Oss',
        eventSource: `${bucket()}.oss-cn-hangzhou.aliyuncs.com`,
        acsRegion: 'cn-hangzhou',
        requestId,
        sourceIpAddress: '127.0.0.1',
        referencedResources: { 'ACS::OSS::Bucket': [bucket()] },
        requestParameters: { bucketName: bucket(), 'x-oss-acl': 'public-read' },
      },
    });
    expect(event.data.userAgent).toContain('aliyun-sdk-nodejs');
    expect(event.data).not.toHaveProperty('errorCode');
  });

  it('names the object of an object write as ACS::OSS::Object <bucket>/<key>', async () => {
    const objects = rig.client(rig.root, { v4, bucket: bucket() });
    await objects.put('a/b.txt', Buffer.from('x'));
    const event = await only(() => objects.putACL('a/b.txt', 'public-read'));
    expect(event.data).toMatchObject({
      eventName: 'PutObjectAcl',
      referencedResources: { 'ACS::OSS::Bucket': [bucket()], 'ACS::OSS::Object': [`${bucket()}/a/b.txt`] },
      requestParameters: { bucketName: bucket(), objectKey: 'a/b.txt', 'x-oss-object-acl': 'public-read' },
    });
  });

  it('publishes one event named after the API for every write operation, and none for reads', async () => {
    const name = bucket();
    const objects = rig.client(rig.root, { v4, bucket: name });
    const policy = {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Principal: ['1234'], Resource: ['*'] }],
    };
    const pab = (method: string, on?: boolean, onBucket = true) =>
      oss.request({
        method,
        ...(onBucket ? { bucket: name } : {}),
        subres: 'publicAccessBlock',
        ...(on === undefined ? {} : { content: PUBLIC_ACCESS_BLOCK(on), mime: 'xml' }),
        successStatuses: [200, 204],
      });
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['PutBucketAcl', () => oss.putBucketACL(name, 'private')],
      ['PutBucketPolicy', () => oss.putBucketPolicy(name, policy)],
      ['DeleteBucketPolicy', () => oss.deleteBucketPolicy(name)],
      ['PutBucketPublicAccessBlock', () => pab('PUT', true)],
      ['DeleteBucketPublicAccessBlock', () => pab('DELETE')],
      ['PutPublicAccessBlock', () => pab('PUT', false, false)],
      ['DeletePublicAccessBlock', () => pab('DELETE', undefined, false)],
      ['PutBucketTags', () => oss.putBucketTags(name, { a: 'b' })],
      ['DeleteBucketTags', () => oss.deleteBucketTags(name)],
      ['PutObject', () => objects.put('k.txt', Buffer.from('x'))],
      ['CopyObject', () => objects.copy('k2.txt', 'k.txt')],
      ['PutObjectAcl', () => objects.putACL('k.txt', 'private')],
      ['DeleteObject', () => objects.delete('k2.txt')],
      ['DeleteObject', () => objects.delete('k.txt')],
      ['InitiateBucketWorm', () => oss.initiateBucketWorm(name, '1')],
      ['AbortBucketWorm', () => oss.abortBucketWorm(name)],
      ['DeleteBucket', () => oss.deleteBucket(name)],
      ['PutBucket', () => oss.putBucket(name)],
    ];
    for (const [eventName, call] of writes) {
      expect((await only(call)).data.eventName, eventName).toBe(eventName);
    }

    const before = rig.events.length;
    await oss.getBucketACL(name);
    await oss.getBucketInfo(name);
    await oss.getBucketPolicy(name);
    await oss.getBucketTags(name);
    await oss.listBuckets({}, {});
    await objects.list({}, {});
    await objects.put('r.txt', Buffer.from('x'));
    await objects.get('r.txt');
    await objects.head('r.txt');
    await objects.getACL('r.txt');
    expect(rig.eventNames().slice(before)).toEqual(['PutObject']);
  });

  it('records the WORM lock and extension as CompleteBucketWorm and ExtendBucketWorm', async () => {
    const { wormId } = await oss.initiateBucketWorm(bucket(), '1');
    expect((await only(() => oss.completeBucketWorm(bucket(), wormId))).data.eventName).toBe(
      'CompleteBucketWorm',
    );
    expect((await only(() => oss.extendBucketWorm(bucket(), wormId, '2'))).data.eventName).toBe(
      'ExtendBucketWorm',
    );
  });

  it('names the service endpoint and no bucket for account-level Block Public Access', async () => {
    const event = await only(() =>
      oss.request({
        method: 'PUT',
        subres: 'publicAccessBlock',
        content: PUBLIC_ACCESS_BLOCK(true),
        mime: 'xml',
        successStatuses: [200],
      }),
    );
    expect(event.data).toMatchObject({
      eventName: 'PutPublicAccessBlock',
      eventSource: 'oss-cn-hangzhou.aliyuncs.com',
      referencedResources: {},
      requestParameters: {},
    });
    await oss.request({ method: 'DELETE', subres: 'publicAccessBlock', successStatuses: [204] });
  });

  it('records a write refused after authentication once, with errorCode and errorMessage', async () => {
    await oss.request({
      method: 'PUT',
      bucket: bucket(),
      subres: 'publicAccessBlock',
      content: PUBLIC_ACCESS_BLOCK(true),
      mime: 'xml',
      successStatuses: [200],
    });
    const event = await only(() => oss.putBucketACL(bucket(), 'public-read').catch(() => undefined));
    expect(event.data).toMatchObject({ eventName: 'PutBucketAcl', errorCode: 'AccessDenied' });
    expect(event.data.errorMessage).toContain('public access is blocked');
    const missing = await only(() =>
      oss.putBucketPolicy('no-such-bucket-x', { Version: '1', Statement: [] }).catch(() => undefined),
    );
    expect(missing.data).toMatchObject({ eventName: 'PutBucketPolicy', errorCode: 'NoSuchBucket' });
  });

  it('publishes nothing for writes that fail authentication or come anonymously', async () => {
    const before = rig.events.length;
    const wrong = rig.client({ ...rig.root, accessKeySecret: 'wrong' }, { v4 });
    await wrong.putBucketACL(bucket(), 'public-read').catch(() => undefined);
    await fetch(`http://localhost:${rig.emulator.port}/${bucket()}/anon.txt`, { method: 'PUT', body: 'x' });
    expect(rig.events.length).toBe(before);
  });

  const CALLERS: Array<[string, (r: OssRig) => Credentials, Record<string, unknown>]> = [
    ['the root account', (r) => r.root, { type: 'root-account', userName: 'root' }],
    ['a RAM user', (r) => r.ramUser('alice'), { type: 'ram-user', userName: 'alice' }],
    [
      'an assumed role',
      (r) => r.assumedRole('ossguard-fn', 'remediate'),
      { type: 'assumed-role', userName: 'ossguard-fn:remediate' },
    ],
  ];

  it.each(CALLERS)('identifies %s as the caller', async (_name, credentials, identity) => {
    const creds = credentials(rig);
    const event = await only(() => rig.client(creds, { v4 }).putBucketACL(bucket(), 'private'));
    expect(event.data.userIdentity).toMatchObject({
      ...identity,
      accountId: rig.identities.accountId,
      accessKeyId: creds.accessKeyId,
    });
  });
});
