import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { CloudApiError } from '../../shared/errors';
import { type Credentials, OssRig, verbatimUrllib } from '../helpers/oss';

/**
 * ossguard's object ACL calls address the exact key (F-ALIOSS-PATH-NORMALISED, F-OSS-OBJECT-NAMES), on both
 * endpoint forms ali-oss knows (F-OSS-ADDRESSING), with long-term keys and STS sessions.
 */
const KEYS = ['a/../b.txt', './c.txt', 'd//e.txt', 'f/..', 'sp ace?#%&+ü.txt'];
const BUCKET = 'exact-keys';

describe.each([
  { endpoint: 'an IP endpoint', ip: true },
  { endpoint: 'a host-name endpoint', ip: false },
])('OssGateway object ACLs on $endpoint', ({ ip }) => {
  let rig: OssRig;

  beforeAll(async () => {
    rig = await new OssRig().start();
    const owner = rig.client(rig.root, { ipEndpoint: true, bucket: BUCKET, urllib: verbatimUrllib() });
    await rig.client(rig.root).putBucket(BUCKET);
    for (const key of [...KEYS, 'x.txt']) await owner.put(key, Buffer.from(key));
  });
  afterAll(() => rig.close());

  const gateway = (credentials: Credentials, calls = new CallLog()) =>
    new OssGateway(
      new OssClientFactory({
        credentials,
        endpoint: ip ? `http://127.0.0.1:${rig.emulator.port}` : `http://localhost:${rig.emulator.port}`,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
      rig.emulator.region,
      calls,
    );

  it.each(KEYS)('reads and sets the ACL of %j itself, with a request id in the call log', async (key) => {
    const calls = new CallLog();
    const oss = gateway(rig.assumedRole(), calls);
    await oss.putObjectAcl(BUCKET, key, 'public-read');
    expect(rig.emulator.object(BUCKET, key)?.acl).toBe('public-read');
    expect(await oss.getObjectAcl(BUCKET, key)).toBe('public-read');
    await oss.putObjectAcl(BUCKET, key, 'private');
    expect(rig.emulator.object(BUCKET, key)?.acl).toBe('private');
    expect(calls.entries.map((c) => [c.operation, c.ok, Boolean(c.requestId)])).toEqual([
      ['PutObjectAcl', true, true],
      ['GetObjectAcl', true, true],
      ['PutObjectAcl', true, true],
    ]);
  });

  it('never takes a leading slash for another object: /x.txt is not x.txt', async () => {
    const failure = await gateway(rig.root)
      .getObjectAcl(BUCKET, '/x.txt')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CloudApiError);
    expect(failure).toMatchObject({ code: 'NoSuchKey', status: 404, retryable: false });
  });

  it('reports a refused call with the code, status and request id OSS answered', async () => {
    const outsider = { accessKeyId: 'LTAIunknown', accessKeySecret: 'fake' };
    const failure = await gateway(outsider)
      .getObjectAcl(BUCKET, 'x.txt')
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'InvalidAccessKeyId', status: 403, retryable: false });
    expect((failure as CloudApiError).context.requestId).toBeTruthy();
  });
});
