import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectedFault, InterceptedOperation } from '../../local/oss';
import { expectOssError, type OssClient, OssRig, PUBLIC_ACCESS_BLOCK } from '../helpers/oss';

const statement = (fields: Record<string, unknown>) => ({
  Effect: 'Allow',
  Action: ['oss:GetObject'],
  Principal: ['*'],
  Resource: ['acs:oss:*:*:examplebucket/*'],
  ...fields,
});

/** The public / non-public criteria of Block Public Access (F-OSS-PUBLIC-DEFINITION), one case each. */
const POLICY_STATUS_CASES: Array<[string, boolean, unknown[]]> = [
  ['Principal * without conditions', true, [statement({})]],
  ['Principal [] (everyone)', true, [statement({ Principal: [] })]],
  ['only fixed principals', false, [statement({ Principal: ['27737962156157xxxx', '20214760404935xxxx'] })]],
  ['a principal with a wildcard', true, [statement({ Principal: ['2773796215615*'] })]],
  ['a Deny for everyone', false, [statement({ Effect: 'Deny' })]],
  [
    'Principal * pinned to a fixed VPC',
    false,
    [statement({ Condition: { StringEquals: { 'acs:SourceVpc': ['vpc-t4nlw426y44rd3iq4abcd'] } } })],
  ],
  [
    'Principal * with a VPC wildcard',
    true,
    [statement({ Condition: { StringLike: { 'acs:SourceVpc': ['vpc-*'] } } })],
  ],
  [
    'Principal * pinned to fixed AccessKeys',
    false,
    [statement({ Condition: { StringEquals: { 'acs:AccessId': ['LTAI5t'] } } })],
  ],
  [
    'Principal * from one IP address',
    false,
    [statement({ Condition: { IpAddress: { 'acs:SourceIp': ['10.10.10.10'] } } })],
  ],
  [
    'Principal * from a /8 network',
    false,
    [statement({ Condition: { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] } } })],
  ],
  [
    'Principal * from a /7 network',
    true,
    [statement({ Condition: { IpAddress: { 'acs:SourceIp': ['10.0.0.0/7'] } } })],
  ],
  [
    'Principal * from every IPv4 address written as the mapped IPv6 block ::ffff:0.0.0.0/96',
    true,
    [statement({ Condition: { IpAddress: { 'acs:SourceIp': ['::ffff:0.0.0.0/96'] } } })],
  ],
  [
    'Principal * from anywhere (0.0.0.0/0)',
    true,
    [statement({ Condition: { IpAddress: { 'acs:SourceIp': ['0.0.0.0/0'] } } })],
  ],
  [
    'Principal * from a /16 network outside any VPC (the doc example)',
    false,
    [
      statement({
        Condition: {
          IpAddress: { 'acs:SourceIp': ['192.168.0.0/16'] },
          StringNotLike: { 'acs:SourceVpc': ['vpc-*'] },
        },
      }),
    ],
  ],
  [
    'one VPC-wildcard statement next to a fixed-principal one (Example 2)',
    true,
    [
      statement({ Condition: { StringLike: { 'acs:SourceVpc': ['vpc-*'] } } }),
      statement({ Principal: ['27737962156157xxxx'] }),
    ],
  ],
];

describe('OSS emulator public access', () => {
  let rig: OssRig;
  let oss: OssClient;
  let sequence = 0;
  const newBucket = async (acl = 'private') => {
    const name = `pub-${++sequence}`;
    await oss.putBucket(name, { acl });
    return name;
  };
  const blockPublicAccess = (on: boolean, bucket?: string) =>
    oss.request({
      method: 'PUT',
      ...(bucket ? { bucket } : {}),
      subres: 'publicAccessBlock',
      content: PUBLIC_ACCESS_BLOCK(on),
      mime: 'xml',
      successStatuses: [200],
    });
  const policyStatus = async (bucket: string) =>
    (
      await oss.request({
        method: 'GET',
        bucket,
        subres: 'policyStatus',
        successStatuses: [200],
        xmlResponse: true,
      })
    ).data.IsPublic;

  beforeAll(async () => {
    rig = await new OssRig().start();
    oss = rig.client(rig.root);
  });
  afterAll(() => rig.close());

  it.each(POLICY_STATUS_CASES)(
    'reports a policy with %s as IsPublic=%s',
    async (_case, isPublic, statements) => {
      const bucket = await newBucket();
      await oss.putBucketPolicy(bucket, { Version: '1', Statement: statements });
      expect(await policyStatus(bucket)).toBe(String(isPublic));
    },
  );

  it('reports a bucket without a policy as not public', async () => {
    expect(await policyStatus(await newBucket())).toBe('false');
  });

  it('refuses public bucket ACLs, object ACLs and policies while bucket Block Public Access is on, and allows private ones', async () => {
    const bucket = await newBucket();
    const objects = rig.client(rig.root, { bucket });
    await objects.put('k.txt', Buffer.from('x'));
    await blockPublicAccess(true, bucket);

    await expectOssError(oss.putBucketACL(bucket, 'public-read'), { code: 'AccessDenied', status: 403 });
    await expectOssError(objects.putACL('k.txt', 'public-read-write'), { code: 'AccessDenied', status: 403 });
    await expectOssError(
      objects.put('new.txt', Buffer.from('x'), { headers: { 'x-oss-object-acl': 'public-read' } }),
      {
        code: 'AccessDenied',
        status: 403,
      },
    );
    await expectOssError(oss.putBucketPolicy(bucket, { Version: '1', Statement: [statement({})] }), {
      code: 'AccessDenied',
      status: 403,
    });
    expect(rig.emulator.bucket(bucket)).toMatchObject({ acl: 'private', objectKeys: ['k.txt'] });

    await oss.putBucketACL(bucket, 'private');
    await objects.putACL('k.txt', 'default');
    await oss.putBucketPolicy(bucket, { Version: '1', Statement: [statement({ Principal: ['1234'] })] });

    await blockPublicAccess(false, bucket);
    await oss.putBucketACL(bucket, 'public-read');
    expect(rig.emulator.bucket(bucket)?.acl).toBe('public-read');
  });

  it('refuses a public ACL on a new bucket while account Block Public Access is on', async () => {
    await blockPublicAccess(true);
    try {
      await expectOssError(oss.putBucket(`pub-new-${++sequence}`, { acl: 'public-read-write' }), {
        code: 'AccessDenied',
        status: 403,
      });
      const bucket = await newBucket('private');
      await expectOssError(oss.putBucketACL(bucket, 'public-read'), { code: 'AccessDenied' });
    } finally {
      await oss.request({ method: 'DELETE', subres: 'publicAccessBlock', successStatuses: [204] });
    }
  });
});

describe('OSS emulator retention (WORM)', () => {
  const DAY = 24 * 3600_000;
  let offset = 0;
  let rig: OssRig;
  let oss: OssClient;

  /** Moves the emulator clock and the client's signing clock together, so requests stay within the skew. */
  const travel = (ms: number) => {
    offset += ms;
    oss.options.amendTimeSkewed = offset;
  };

  beforeAll(async () => {
    rig = await new OssRig({ now: () => new Date(Date.now() + offset) }).start();
    oss = rig.client(rig.root, { bucket: 'retained' });
    await oss.putBucket('retained');
    await oss.put('old.txt', Buffer.from('v1'));
    const { wormId } = await oss.initiateBucketWorm('retained', '1');
    await oss.completeBucketWorm('retained', wormId);
  });
  afterAll(() => rig.close());

  it('refuses to delete, overwrite or copy over a retained object with FileImmutable, and the bucket with BucketNotEmpty', async () => {
    await expectOssError(oss.delete('old.txt'), { code: 'FileImmutable', status: 409 });
    await expectOssError(oss.put('old.txt', Buffer.from('v2')), { code: 'FileImmutable', status: 409 });
    await oss.put('other.txt', Buffer.from('other'));
    await expectOssError(oss.copy('old.txt', 'other.txt'), { code: 'FileImmutable', status: 409 });
    await expectOssError(oss.deleteBucket('retained'), { code: 'BucketNotEmpty', status: 409 });
    expect((await oss.get('old.txt')).content.toString()).toBe('v1');
  });

  it('allows deletes once the retention period has passed', async () => {
    travel(DAY + 60_000);
    await oss.delete('old.txt');
    await oss.delete('other.txt');
    await oss.deleteBucket('retained');
  });

  it('lets an unlocked retention policy lapse after 24 hours', async () => {
    await oss.putBucket('lapsing');
    await oss.initiateBucketWorm('lapsing', '30');
    travel(DAY);
    await expectOssError(oss.getBucketWorm('lapsing'), { code: 'NoSuchWORMConfiguration', status: 404 });
  });
});

describe('OSS emulator fault injection and latency', () => {
  let fault: InjectedFault | undefined;
  const seen: InterceptedOperation[] = [];
  let rig: OssRig;
  let oss: OssClient;

  beforeAll(async () => {
    rig = await new OssRig({
      latencyMs: 60,
      intercept: (operation) => {
        seen.push(operation);
        return operation.operation === 'PutObjectAcl' ? fault : undefined;
      },
    }).start();
    oss = rig.client(rig.root, { bucket: 'faults' });
    await oss.putBucket('faults');
    await oss.put('k.txt', Buffer.from('x'));
  });
  afterAll(() => rig.close());

  it('tells the hook each operation by its API name with its bucket and key', () => {
    expect(seen).toContainEqual({ operation: 'PutBucket', bucket: 'faults' });
    expect(seen).toContainEqual({ operation: 'PutObject', bucket: 'faults', key: 'k.txt' });
  });

  it('answers an injected error as OSS error XML, changing nothing and publishing nothing', async () => {
    fault = { status: 503, code: 'ServiceUnavailable', message: 'Please reduce your request rate.' };
    const before = rig.events.length;
    const error = await expectOssError(oss.putACL('k.txt', 'public-read'), {
      code: 'ServiceUnavailable',
      status: 503,
    });
    expect(error.message).toBe('Please reduce your request rate.');
    expect(rig.events.length).toBe(before);
    expect((await oss.getACL('k.txt')).acl).toBe('default');
  });

  it('drops the connection for an injected reset', async () => {
    fault = 'reset';
    const error = await oss.putACL('k.txt', 'private').then(
      () => undefined,
      (e: { status?: number }) => e,
    );
    expect(error?.status).toBe(-1);
  });

  it('adds the configured latency to every response', async () => {
    const started = Date.now();
    await oss.getACL('k.txt');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});
