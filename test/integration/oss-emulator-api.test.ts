import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOssError, OssRig, SIGNERS } from '../helpers/oss';

/**
 * The OSS API users' own code calls (#24), through the real ali-oss client signed V1 and V4: conditional
 * reads and copies, streamed uploads, and a clear refusal of what the local cloud does not emulate.
 */

interface ApiClient {
  put(name: string, body: Buffer): Promise<{ res: { headers: Record<string, string> } }>;
  get(
    name: string,
    options?: { headers?: Record<string, string>; process?: string },
  ): Promise<{ content: Buffer; res: { status: number } }>;
  copy(
    name: string,
    source: string,
    options?: { headers?: Record<string, string> },
  ): Promise<{ data: { etag: string } | null; res: { status: number } }>;
  putStream(
    name: string,
    stream: Readable,
    options?: { headers?: Record<string, string> },
  ): Promise<{ res: { status: number } }>;
}

const HOUR_MS = 3600_000;
const httpDate = (offsetMs: number) => new Date(Date.now() + offsetMs).toUTCString();

describe.each(SIGNERS)('the local OSS API, signed $name', ({ v4 }) => {
  let rig: OssRig;
  let oss: ApiClient;
  let etag: string;
  const bucket = `api-${v4 ? 'v4' : 'v1'}`;

  beforeAll(async () => {
    rig = await new OssRig().start();
    await rig.client(rig.root, { v4 }).putBucket(bucket);
    oss = rig.client(rig.root, { v4, bucket }) as unknown as ApiClient;
    etag = (await oss.put('doc.txt', Buffer.from('conditional'))).res.headers.etag ?? '';
  });
  afterAll(() => rig.close());

  it('answers conditional reads with 200, 304 Not Modified or 412 PreconditionFailed (EC 0017-00001001)', async () => {
    const read = (headers: Record<string, string>) => oss.get('doc.txt', { headers });
    expect((await read({ 'If-Modified-Since': httpDate(-HOUR_MS) })).res.status).toBe(200);
    expect((await read({ 'If-Modified-Since': httpDate(HOUR_MS) })).res.status).toBe(304);
    expect((await read({ 'If-None-Match': etag })).res.status).toBe(304);
    expect((await read({ 'If-Match': etag, 'If-Unmodified-Since': httpDate(-HOUR_MS) })).res.status).toBe(
      200,
    );
    expect((await read({ 'If-Unmodified-Since': httpDate(HOUR_MS) })).content.toString()).toBe('conditional');
    const failed = await expectOssError(read({ 'If-Unmodified-Since': httpDate(-HOUR_MS) }), {
      code: 'PreconditionFailed',
      status: 412,
    });
    expect(failed.ecCode).toBe('0017-00001001');
    await expectOssError(read({ 'If-Match': '"0000"' }), { code: 'PreconditionFailed', status: 412 });
  });

  it('copies only when the x-oss-copy-source-if-* conditions hold: 304 leaves the target alone, 412 refuses', async () => {
    const copy = (target: string, headers: Record<string, string>) =>
      oss.copy(target, 'doc.txt', { headers });
    expect((await copy('copy-1.txt', { 'x-oss-copy-source-if-match': etag })).res.status).toBe(200);
    expect(rig.emulator.object(bucket, 'copy-1.txt')).toBeDefined();

    const skipped = await copy('copy-2.txt', { 'x-oss-copy-source-if-none-match': etag });
    expect(skipped.res.status).toBe(304);
    expect(skipped.data).toBeNull();
    await copy('copy-2.txt', { 'x-oss-copy-source-if-modified-since': httpDate(HOUR_MS) });
    expect(rig.emulator.object(bucket, 'copy-2.txt')).toBeUndefined();

    await expectOssError(copy('copy-3.txt', { 'x-oss-copy-source-if-match': '"0000"' }), {
      code: 'PreconditionFailed',
      status: 412,
    });
    await expectOssError(
      copy('copy-3.txt', { 'x-oss-copy-source-if-unmodified-since': httpDate(-HOUR_MS) }),
      {
        code: 'PreconditionFailed',
        status: 412,
      },
    );
    expect(rig.emulator.object(bucket, 'copy-3.txt')).toBeUndefined();
  });

  it('reads a streamed upload that carries both Content-Length and chunked transfer encoding as chunked', async () => {
    const done = await oss.putStream(
      'streamed.txt',
      Readable.from([Buffer.from('str'), Buffer.from('eam')]),
      {
        headers: { 'Content-Length': '6' },
      },
    );
    expect(done.res.status).toBe(200);
    expect(rig.emulator.object(bucket, 'streamed.txt')?.body.toString()).toBe('stream');
  });

  it('refuses image processing and versioned reads it does not emulate with NotImplemented, never a 200', async () => {
    const refused = await expectOssError(oss.get('doc.txt', { process: 'image/resize,w_100' }), {
      code: 'NotImplemented',
      status: 501,
    });
    expect(refused.message).toContain('does not emulate x-oss-process');
    await expectOssError(
      (oss as unknown as { get(n: string, o: object): Promise<unknown> }).get('doc.txt', { versionId: 'v1' }),
      { code: 'NotImplemented', status: 501 },
    );
  });
});
