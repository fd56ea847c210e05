import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOssError, OssRig, SIGNERS } from '../helpers/oss';

/**
 * The calls besides PutObject, CopyObject and PutObjectAcl that create an object and can give it an ACL
 * (#19 class 8): multipart upload, PostObject and symlinks, driven by the real ali-oss client, V1 and V4.
 */

interface UploadClient {
  initMultipartUpload(
    name: string,
    options?: { headers?: Record<string, string> },
  ): Promise<{ uploadId: string }>;
  uploadPart(
    name: string,
    uploadId: string,
    partNo: number,
    file: Buffer,
    start: number,
    end: number,
  ): Promise<{ name: string; etag: string }>;
  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
    options?: { headers?: Record<string, string> },
  ): Promise<{ res: { status: number }; data: { ETag?: string } }>;
  abortMultipartUpload(name: string, uploadId: string): Promise<{ res: { status: number } }>;
  listUploads(query: Record<string, string>): Promise<{ uploads: Array<{ name: string; uploadId: string }> }>;
  listParts(name: string, uploadId: string): Promise<{ parts: Array<{ PartNumber: string; Size: string }> }>;
  multipartUpload(
    name: string,
    file: Buffer,
    options: { partSize: number; headers?: Record<string, string> },
  ): Promise<unknown>;
  putSymlink(
    name: string,
    target: string,
    options?: { headers?: Record<string, string> },
  ): Promise<{ res: { status: number } }>;
  getSymlink(name: string): Promise<{ targetName: string }>;
  get(name: string): Promise<{ content: Buffer }>;
  getACL(name: string): Promise<{ acl: string }>;
  head(name: string): Promise<{ res: { headers: Record<string, string> } }>;
  calculatePostSignature(policy: object): { OSSAccessKeyId: string; Signature: string; policy: string };
  signPostObjectPolicyV4(policy: object, date: Date): string;
}

const PART = 100 * 1024;
/** The form's `${filename}` placeholder, which OSS replaces with the uploaded file's name. */
const FILENAME = ['$', '{filename}'].join('');

describe.each(SIGNERS)('uploads that can set an object ACL, signed $name', ({ v4 }) => {
  let rig: OssRig;
  let oss: UploadClient;
  const bucket = `uploads-${v4 ? 'v4' : 'v1'}`;

  beforeAll(async () => {
    rig = await new OssRig().start();
    await rig.client(rig.root, { v4 }).putBucket(bucket);
    oss = rig.client(rig.root, { v4, bucket }) as unknown as UploadClient;
  });
  afterAll(() => rig.close());

  it('assembles a multipart upload from its parts, with the ACL Initiate asked for, and lists it only while in progress', async () => {
    const body = Buffer.alloc(PART + 10, 'a');
    const { uploadId } = await oss.initMultipartUpload('big.bin', {
      headers: { 'x-oss-object-acl': 'public-read' },
    });
    const first = await oss.uploadPart('big.bin', uploadId, 1, body, 0, PART);
    const second = await oss.uploadPart('big.bin', uploadId, 2, body, PART, body.length);
    expect((await oss.listUploads({ prefix: 'big' })).uploads).toEqual([
      expect.objectContaining({ name: 'big.bin', uploadId }),
    ]);
    expect((await oss.listParts('big.bin', uploadId)).parts.map((p) => [p.PartNumber, p.Size])).toEqual([
      ['1', String(PART)],
      ['2', '10'],
    ]);
    expect(rig.emulator.object(bucket, 'big.bin')).toBeUndefined();

    const done = await oss.completeMultipartUpload('big.bin', uploadId, [
      { number: 1, etag: first.etag },
      { number: 2, etag: second.etag },
    ]);
    expect(done.res.status).toBe(200);
    expect((await oss.get('big.bin')).content.equals(body)).toBe(true);
    expect((await oss.getACL('big.bin')).acl).toBe('public-read');
    expect((await oss.head('big.bin')).res.headers['x-oss-object-type']).toBe('Multipart');
    expect((await oss.listUploads({ prefix: 'big' })).uploads ?? []).toEqual([]);
  });

  it('takes the ACL on CompleteMultipartUpload over the one Initiate asked for, as the Go SDK v2 uploader sends it', async () => {
    const body = Buffer.from('small');
    const { uploadId } = await oss.initMultipartUpload('late.bin');
    const part = await oss.uploadPart('late.bin', uploadId, 1, body, 0, body.length);
    await oss.completeMultipartUpload('late.bin', uploadId, [{ number: 1, etag: part.etag }], {
      headers: { 'x-oss-object-acl': 'public-read-write' },
    });
    expect(rig.emulator.object(bucket, 'late.bin')?.acl).toBe('public-read-write');
  });

  it('uploads with ali-oss multipartUpload and sends the header on every call', async () => {
    const body = Buffer.alloc(2 * PART + 1, 'm');
    await oss.multipartUpload('managed.bin', body, {
      partSize: PART,
      headers: { 'x-oss-object-acl': 'private' },
    });
    expect(rig.emulator.object(bucket, 'managed.bin')).toMatchObject({ size: body.length, acl: 'private' });
  });

  it('refuses unknown or too small parts and an unknown upload id, with the documented codes', async () => {
    const body = Buffer.alloc(PART, 'b');
    const { uploadId } = await oss.initMultipartUpload('bad.bin');
    const small = await oss.uploadPart('bad.bin', uploadId, 1, body, 0, 10);
    const full = await oss.uploadPart('bad.bin', uploadId, 2, body, 0, PART);
    const complete = (parts: Array<{ number: number; etag: string }>) =>
      oss.completeMultipartUpload('bad.bin', uploadId, parts);
    // ali-oss sorts the part list before sending it, so InvalidPartOrder cannot be reached through it.
    await expectOssError(complete([{ number: 3, etag: full.etag }]), { code: 'InvalidPart', status: 400 });
    await expectOssError(
      complete([
        { number: 1, etag: small.etag },
        { number: 2, etag: full.etag },
      ]),
      {
        code: 'EntityTooSmall',
        status: 400,
      },
    );
    expect((await oss.abortMultipartUpload('bad.bin', uploadId)).res.status).toBe(204);
    await expectOssError(complete([{ number: 2, etag: full.etag }]), { code: 'NoSuchUpload', status: 404 });
  });

  it('creates a symlink with its own ACL, reads the target through it, and answers GetSymlink', async () => {
    await rig.client(rig.root, { v4, bucket }).put('target.txt', Buffer.from('behind the link'));
    await oss.putSymlink('link.txt', 'target.txt', { headers: { 'x-oss-object-acl': 'public-read' } });
    expect((await oss.getSymlink('link.txt')).targetName).toBe('target.txt');
    expect((await oss.get('link.txt')).content.toString()).toBe('behind the link');
    expect((await oss.getACL('link.txt')).acl).toBe('public-read');
    expect(rig.emulator.object(bucket, 'target.txt')?.acl).toBe('default');
    // Anonymous reads through the link need the target public too.
    const anonymous = (key: string) => fetch(`http://localhost:${rig.emulator.port}/${bucket}/${key}`);
    expect((await anonymous('link.txt')).status).toBe(403);
    await oss.putSymlink('open-link.txt', 'open.txt', { headers: { 'x-oss-object-acl': 'public-read' } });
    await rig.client(rig.root, { v4, bucket }).put('open.txt', Buffer.from('public'), {
      headers: { 'x-oss-object-acl': 'public-read' },
    });
    expect(await (await anonymous('open-link.txt')).text()).toBe('public');
    await oss.putSymlink('dangling.txt', 'nowhere.txt');
    await expectOssError(oss.get('dangling.txt'), { code: 'SymlinkTargetNotExist', status: 404 });
  });

  /** The form fields that sign a policy: V1 as ali-oss calculatePostSignature, V4 as signPostObjectPolicyV4. */
  const signedForm = (policy: object): Record<string, string> => {
    if (!v4) {
      const signed = oss.calculatePostSignature(policy);
      return { OSSAccessKeyId: signed.OSSAccessKeyId, policy: signed.policy, Signature: signed.Signature };
    }
    const now = new Date();
    const date = `${now.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
    const credential = `${rig.root.accessKeyId}/${date.slice(0, 8)}/${rig.emulator.region}/oss/aliyun_v4_request`;
    const withScope = {
      ...policy,
      conditions: [
        ...(policy as { conditions: unknown[] }).conditions,
        { 'x-oss-signature-version': 'OSS4-HMAC-SHA256' },
        { 'x-oss-credential': credential },
        { 'x-oss-date': date },
      ],
    };
    return {
      'x-oss-signature-version': 'OSS4-HMAC-SHA256',
      'x-oss-credential': credential,
      'x-oss-date': date,
      policy: Buffer.from(JSON.stringify(withScope)).toString('base64'),
      'x-oss-signature': oss.signPostObjectPolicyV4(withScope, now),
    };
  };

  it('accepts a PostObject form signed with its policy, with the ACL field, and refuses a broken condition or signature', async () => {
    const policy = {
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket }, ['starts-with', '$key', 'forms/'], ['content-length-range', 1, 1024]],
    };
    const post = (fields: Record<string, string>, file = 'form body') => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append('file', new Blob([file]), 'upload.txt');
      return fetch(`http://localhost:${rig.emulator.port}/${bucket}`, { method: 'POST', body: form });
    };
    const signatureField = v4 ? 'x-oss-signature' : 'Signature';
    const fields = { key: `forms/${FILENAME}`, 'x-oss-object-acl': 'public-read', ...signedForm(policy) };
    expect((await post(fields)).status).toBe(204);
    expect(rig.emulator.object(bucket, 'forms/upload.txt')).toMatchObject({ acl: 'public-read', size: 9 });
    expect(rig.eventNames()).toContain('PostObject');

    const outside = await post({ ...fields, key: 'elsewhere.txt' });
    expect(outside.status).toBe(403);
    expect(await outside.text()).toContain('<Code>AccessDenied</Code>');
    const forged = await post({ ...fields, [signatureField]: 'AAAA' });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await post(fields, '')).status).toBe(400);
  });
});
