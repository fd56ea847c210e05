import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOssError, OssRig, SIGNERS } from '../helpers/oss';

/**
 * The OSS API users' own code calls (#24), through the real ali-oss client signed V1 and V4: conditional
 * reads and copies, streamed uploads, and a clear refusal of what the local cloud does not emulate.
 */

interface ApiClient {
  put(
    name: string,
    body: Buffer,
    options?: { headers?: Record<string, string> },
  ): Promise<{ res: { headers: Record<string, string> } }>;
  get(
    name: string,
    options?: { headers?: Record<string, string>; process?: string },
  ): Promise<{ content: Buffer; res: { status: number } }>;
  copy(
    name: string,
    source: string,
    options?: { headers?: Record<string, string> },
  ): Promise<{ data: { etag: string } | null; res: { status: number } }>;
  deleteMulti(
    names: string[],
    options?: { quiet?: boolean },
  ): Promise<{ deleted: Array<{ Key: string }> | string[] }>;
  append(
    name: string,
    body: Buffer,
    options?: { position?: string; headers?: Record<string, string> },
  ): Promise<{
    nextAppendPosition: string;
  }>;
  putObjectTagging(name: string, tag: Record<string, string>): Promise<{ status: number }>;
  getObjectTagging(name: string): Promise<{ tag: Record<string, string> }>;
  deleteObjectTagging(name: string): Promise<{ status: number }>;
  head(name: string): Promise<{ res: { headers: Record<string, string> } }>;
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

  it('refuses image processing, which it does not emulate, with NotImplemented, never a 200', async () => {
    const refused = await expectOssError(oss.get('doc.txt', { process: 'image/resize,w_100' }), {
      code: 'NotImplemented',
      status: 501,
    });
    expect(refused.message).toContain('does not emulate x-oss-process');
  });

  it('deletes many objects in one DeleteMultipleObjects, listing them unless quiet', async () => {
    for (const key of ['many/a', 'many/b', 'many/c']) await oss.put(key, Buffer.from(key));
    const loud = await oss.deleteMulti(['many/a', 'many/b', 'many/missing']);
    expect(loud.deleted.map((d) => (typeof d === 'string' ? d : d.Key)).sort()).toEqual([
      'many/a',
      'many/b',
      'many/missing',
    ]);
    expect((await oss.deleteMulti(['many/c'], { quiet: true })).deleted ?? []).toEqual([]);
    expect(rig.emulator.bucket(bucket)?.objectKeys.filter((k) => k.startsWith('many/'))).toEqual([]);
  });

  it('appends at the current length, refusing another position or a Normal object with 409', async () => {
    const first = await oss.append('log.txt', Buffer.from('one,'), {
      headers: { 'x-oss-object-acl': 'private' },
    });
    expect(first.nextAppendPosition).toBe('4');
    const second = await oss.append('log.txt', Buffer.from('two'), { position: first.nextAppendPosition });
    expect(second.nextAppendPosition).toBe('7');
    expect(rig.emulator.object(bucket, 'log.txt')?.body.toString()).toBe('one,two');
    expect((await oss.head('log.txt')).res.headers['x-oss-object-type']).toBe('Appendable');
    await expectOssError(oss.append('log.txt', Buffer.from('x'), { position: '1' }), {
      code: 'PositionNotEqualToLength',
      status: 409,
    });
    await expectOssError(oss.append('doc.txt', Buffer.from('x'), { position: '11' }), {
      code: 'ObjectNotAppendable',
      status: 409,
    });
  });

  it('tags objects by PutObjectTagging and by x-oss-tagging on put and copy, and counts them on reads', async () => {
    await oss.put('tagged.txt', Buffer.from('t'), {
      headers: { 'x-oss-tagging': 'team=data&stage=raw%20input' },
    });
    expect((await oss.getObjectTagging('tagged.txt')).tag).toEqual({ team: 'data', stage: 'raw input' });
    expect((await oss.head('tagged.txt')).res.headers['x-oss-tagging-count']).toBe('2');

    await oss.copy('tagged-copy.txt', 'tagged.txt');
    expect((await oss.getObjectTagging('tagged-copy.txt')).tag).toEqual({ team: 'data', stage: 'raw input' });
    await oss.copy('tagged-replaced.txt', 'tagged.txt', {
      headers: { 'x-oss-tagging-directive': 'REPLACE', 'x-oss-tagging': 'team=web' },
    });
    expect((await oss.getObjectTagging('tagged-replaced.txt')).tag).toEqual({ team: 'web' });

    await oss.putObjectTagging('tagged.txt', { owner: 'alice' });
    expect((await oss.getObjectTagging('tagged.txt')).tag).toEqual({ owner: 'alice' });
    expect((await oss.deleteObjectTagging('tagged.txt')).status).toBe(204);
    expect((await oss.getObjectTagging('tagged.txt')).tag).toEqual({});
    // ali-oss refuses an 11th tag itself; the header reaches the server as sent.
    const tooMany = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&');
    await expectOssError(oss.put('tagged.txt', Buffer.from('t'), { headers: { 'x-oss-tagging': tooMany } }), {
      code: 'InvalidTag',
      status: 400,
    });
  });

  it('lists only the buckets with a tag, by tag-key and tag-value or by tagging', async () => {
    const service = rig.client(rig.root, { v4 }) as unknown as {
      putBucket(name: string): Promise<unknown>;
      putBucketTags(name: string, tags: Record<string, string>): Promise<unknown>;
      listBuckets(
        query: Record<string, unknown>,
        options?: object,
      ): Promise<{ buckets: Array<{ name: string }> | null }>;
    };
    const prod = `${bucket}-prod`;
    await service.putBucket(prod);
    await service.putBucketTags(prod, { env: 'prod' });
    const names = async (query: Record<string, unknown>) =>
      ((await service.listBuckets(query, {})).buckets ?? []).map((b) => b.name);
    expect(await names({ 'tag-key': 'env', 'tag-value': 'prod' })).toEqual([prod]);
    expect(await names({ 'tag-key': 'env' })).toEqual([prod]);
    expect(await names({ subres: { tagging: '"env":"prod"' } })).toEqual([prod]);
    expect(await names({ 'tag-key': 'env', 'tag-value': 'dev' })).toEqual([]);
    expect(await names({})).toContain(bucket);
  });

  it('serves presigned GET and PUT URLs, V1 and V4, and applies response-* overrides on a presigned GET', async () => {
    const signer = oss as unknown as {
      signatureUrl(name: string, options: object): string;
      signatureUrlV4(method: string, expires: number, request: object, name: string): Promise<string>;
    };
    const response = { 'content-disposition': 'attachment; filename="d.txt"', 'cache-control': 'no-store' };
    const getUrl = v4
      ? await signer.signatureUrlV4(
          'GET',
          600,
          {
            queries: {
              'response-content-disposition': response['content-disposition'],
              'response-cache-control': 'no-store',
            },
          },
          'doc.txt',
        )
      : signer.signatureUrl('doc.txt', { expires: 600, response });
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('conditional');
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="d.txt"');
    expect(got.headers.get('cache-control')).toBe('no-store');

    const putUrl = v4
      ? await signer.signatureUrlV4(
          'PUT',
          600,
          { headers: { 'Content-Type': 'text/plain' } },
          'presigned.txt',
        )
      : signer.signatureUrl('presigned.txt', { expires: 600, method: 'PUT', 'Content-Type': 'text/plain' });
    const put = await fetch(putUrl, {
      method: 'PUT',
      body: 'uploaded',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(put.status).toBe(200);
    expect(rig.emulator.object(bucket, 'presigned.txt')?.body.toString()).toBe('uploaded');

    const tampered = await fetch(getUrl.replace('doc.txt', 'presigned.txt'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('keeps versions once versioning is on: delete markers, versioned reads and deletes, NoSuchVersion', async () => {
    const admin = rig.client(rig.root, { v4 }) as unknown as {
      putBucket(name: string): Promise<unknown>;
      putBucketVersioning(name: string, status: string): Promise<unknown>;
      getBucketVersioning(name: string): Promise<{ versionStatus?: string }>;
      getBucketInfo(name: string): Promise<{ bucket: { Versioning?: string } }>;
    };
    const versioned = `${bucket}-versions`;
    await admin.putBucket(versioned);
    expect((await admin.getBucketVersioning(versioned)).versionStatus).toBeUndefined();
    const objects = rig.client(rig.root, { v4, bucket: versioned }) as unknown as {
      put(name: string, body: Buffer): Promise<{ res: { headers: Record<string, string> } }>;
      get(name: string, options?: { versionId?: string }): Promise<{ content: Buffer }>;
      delete(
        name: string,
        options?: { versionId?: string },
      ): Promise<{ res: { headers: Record<string, string> } }>;
      getACL(name: string, options?: { versionId?: string }): Promise<{ acl: string }>;
      putACL(name: string, acl: string, options?: { versionId?: string }): Promise<unknown>;
      getBucketVersions(query: object): Promise<{
        objects: Array<{ name: string; versionId: string; isLatest: boolean }>;
        deleteMarker: Array<{ name: string; versionId: string }>;
      }>;
    };
    await objects.put('v.txt', Buffer.from('before'));
    await admin.putBucketVersioning(versioned, 'Enabled');
    expect((await admin.getBucketVersioning(versioned)).versionStatus).toBe('Enabled');
    expect((await admin.getBucketInfo(versioned)).bucket.Versioning).toBe('Enabled');

    const second = (await objects.put('v.txt', Buffer.from('after'))).res.headers['x-oss-version-id'] ?? '';
    expect(second).not.toBe('');
    expect((await objects.get('v.txt', { versionId: 'null' })).content.toString()).toBe('before');
    await objects.putACL('v.txt', 'public-read', { versionId: 'null' });
    expect((await objects.getACL('v.txt', { versionId: 'null' })).acl).toBe('public-read');
    expect((await objects.getACL('v.txt')).acl).toBe('default');

    const deleted = await objects.delete('v.txt');
    expect(deleted.res.headers['x-oss-delete-marker']).toBe('true');
    await expectOssError(objects.get('v.txt'), { code: 'NoSuchKey', status: 404 });
    const listed = await objects.getBucketVersions({});
    expect(listed.objects.map((o) => [o.versionId, o.isLatest])).toEqual([
      [second, false],
      ['null', false],
    ]);
    expect(listed.deleteMarker).toHaveLength(1);

    await objects.delete('v.txt', { versionId: listed.deleteMarker[0]?.versionId ?? '' });
    expect((await objects.get('v.txt')).content.toString()).toBe('after');
    await expectOssError(objects.get('v.txt', { versionId: 'CAEQnone' }), {
      code: 'NoSuchVersion',
      status: 404,
    });
  });
});
