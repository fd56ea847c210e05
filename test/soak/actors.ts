import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import type { LocalCloud } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import { type Change, policyDocument, type UploadVia } from './world';

/**
 * The people of the soak: RAM users making changes through the real SDKs. Injected faults hit their calls
 * too, since the emulators cannot tell them from ossguard's; people retry until the cloud answers, so each
 * planned change happens exactly once and the oracle stays exact.
 */

type Key = Pick<AccessKey, 'accessKeyId' | 'accessKeySecret'>;

export interface Outcome {
  /** The request id OSS or RAM answered with: ActionTrail records it, so it finds the change's event. */
  requestId: string;
  /** The AccessKey a CreateAccessKey made. */
  accessKeyId?: string;
  /** Attempts that met an injected fault before the change went through. */
  retries: number;
  /** Request ids of the calls that led up to the change: a multipart upload's Initiate and UploadPart. */
  precedingRequestIds?: string[];
}

interface SdkError {
  status?: number;
  statusCode?: number;
  code?: string;
  requestId?: string;
  data?: { RequestId?: string };
}

/** Faults a person retries: 5xx, throttling and network failures. A refusal (4xx) is the cloud's answer. */
function isTransient(error: SdkError): boolean {
  const status = error.status ?? error.statusCode;
  if (/Throttling/.test(error.code ?? '')) return true;
  return status === undefined || status < 0 || status >= 500;
}

const MAX_ATTEMPTS = 30;

async function persist<T>(call: () => Promise<T>): Promise<{ value: T; retries: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await call(), retries: attempt - 1 };
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isTransient(error as SdkError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const ossRequestId = (result: unknown): string =>
  String((result as { res?: { headers?: Record<string, string> } }).res?.headers?.['x-oss-request-id'] ?? '');

/** ali-oss has no Block Public Access methods; its signed low-level request does it, as ossguard's gateway does. */
type RawRequest = (params: Record<string, unknown>) => Promise<{ res?: { headers?: unknown } }>;

/** ali-oss 6 methods for the other ACL-setting calls, which its type definitions lack. */
interface UploadCalls {
  initMultipartUpload(name: string): Promise<{ uploadId: string; res: unknown }>;
  uploadPart(
    name: string,
    uploadId: string,
    partNo: number,
    file: Buffer,
    start: number,
    end: number,
  ): Promise<{ etag: string; res: unknown }>;
  completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
    options: { headers: Record<string, string> },
  ): Promise<{ res: unknown }>;
  putSymlink(
    name: string,
    target: string,
    options: { headers: Record<string, string> },
  ): Promise<{ res: unknown }>;
  calculatePostSignature(policy: object): { OSSAccessKeyId: string; Signature: string; policy: string };
}

const BPA_XML = (on: boolean) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration><BlockPublicAccess>${on}</BlockPublicAccess></PublicAccessBlockConfiguration>`;

export class Actors {
  private readonly ossClients = new Map<string, OSS>();
  private readonly ramClients = new Map<string, Ram>();
  private readonly keys = new Map<string, Key>();

  constructor(private readonly cloud: LocalCloud) {}

  /** A RAM user with a key of their own (created in the identity store: setup, not a change). */
  key(user: string): Key {
    let key = this.keys.get(user);
    if (!key) {
      key = this.cloud.identities.userWithKey(user).key;
      this.keys.set(user, key);
    }
    return key;
  }

  oss(user: string, bucket?: string): OSS {
    const id = `${user}/${bucket ?? ''}`;
    let client = this.ossClients.get(id);
    if (!client) {
      client = this.cloud.ossClient(this.key(user), bucket);
      this.ossClients.set(id, client);
    }
    return client;
  }

  ram(user: string): Ram {
    let client = this.ramClients.get(user);
    if (!client) {
      const key = this.key(user);
      // vitest hands the class as the default import; Node's CommonJS interop would hand the module.
      const Client = (Ram as unknown as { default?: typeof Ram }).default ?? Ram;
      client = new Client(
        new $OpenApiUtil.Config({
          accessKeyId: key.accessKeyId,
          accessKeySecret: key.accessKeySecret,
          endpoint: new URL(this.cloud.endpoints.ram).host,
          protocol: 'http',
          regionId: 'cn-shanghai',
          // Longer than any injected delay: people wait for slow answers instead of creating a key twice.
          readTimeout: 60_000,
          connectTimeout: 10_000,
        }),
      );
      this.ramClients.set(user, client);
    }
    return client;
  }

  /** Makes one planned change as `user` and returns the request id of the call that did it. */
  async make(user: string, change: Change): Promise<Outcome> {
    switch (change.kind) {
      case 'bucket-acl': {
        const done = await persist(() => this.oss(user).putBucketACL(change.bucket, change.acl));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'object-acl': {
        const client = this.oss(user, change.bucket);
        // @types/ali-oss omits 'default', which OSS accepts.
        const done = await persist(() => client.putACL(change.key, change.acl as 'private'));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'new-bucket': {
        // @types/ali-oss requires every PutBucketOptions field; ali-oss reads only those given.
        const options = { acl: change.acl } as unknown as OSS.PutBucketOptions;
        const done = await persist(() => this.oss(user).putBucket(change.bucket, options));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'bucket-bpa': {
        const request = (this.oss(user) as unknown as { request: RawRequest }).request.bind(this.oss(user));
        const done = await persist(() =>
          request({
            method: change.action === 'delete' ? 'DELETE' : 'PUT',
            bucket: change.bucket,
            subres: 'publicAccessBlock',
            ...(change.action === 'delete'
              ? { successStatuses: [204] }
              : {
                  content: Buffer.from(BPA_XML(change.action === 'on')),
                  mime: 'application/xml',
                  successStatuses: [200],
                }),
          }),
        );
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'bucket-policy': {
        const client = this.oss(user);
        const document = policyDocument(change.bucket, change.policy);
        const done = await persist(() =>
          document
            ? client.putBucketPolicy(change.bucket, document as OSS.BucketPolicy)
            : client.deleteBucketPolicy(change.bucket),
        );
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'object-upload':
        return this.upload(user, change.via, change.bucket, change.key, change.from, change.acl);
      case 'failed-call':
        return this.refused(() => this.oss(user, change.bucket).putACL(change.key, 'public-read'));
      case 'access-key':
        return this.createKey(change.creator, change.owner);
    }
  }

  /** Writes `key` with `acl` by another call than PutObject or PutObjectAcl; the last call is the one to judge. */
  private async upload(
    user: string,
    via: UploadVia,
    bucket: string,
    key: string,
    from: string,
    acl: string,
  ): Promise<Outcome> {
    const client = this.oss(user, bucket);
    const calls = client as unknown as UploadCalls;
    const headers = { 'x-oss-object-acl': acl };
    const body = Buffer.from(`${via} ${key}`);
    switch (via) {
      case 'copy': {
        const done = await persist(() => client.copy(key, from, { headers }));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'symlink': {
        const done = await persist(() => calls.putSymlink(key, from, { headers }));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'multipart': {
        const started = await persist(() => calls.initMultipartUpload(key));
        const { uploadId } = started.value;
        const part = await persist(() => calls.uploadPart(key, uploadId, 1, body, 0, body.length));
        const etag = part.value.etag;
        const done = await persist(() =>
          calls.completeMultipartUpload(key, uploadId, [{ number: 1, etag }], { headers }),
        );
        return {
          requestId: ossRequestId(done.value),
          retries: started.retries + part.retries + done.retries,
          precedingRequestIds: [ossRequestId(started.value), ossRequestId(part.value)],
        };
      }
      case 'post': {
        const done = await persist(() => this.postObject(calls, bucket, key, acl, body));
        return { requestId: done.value, retries: done.retries };
      }
    }
  }

  /** A browser form upload, signed as ali-oss signs one (it has no method that sends it). */
  private async postObject(calls: UploadCalls, bucket: string, key: string, acl: string, body: Buffer) {
    const signed = calls.calculatePostSignature({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket }],
    });
    const form = new FormData();
    form.append('key', key);
    form.append('x-oss-object-acl', acl);
    form.append('OSSAccessKeyId', signed.OSSAccessKeyId);
    form.append('policy', signed.policy);
    form.append('Signature', signed.Signature);
    form.append('file', new Blob([body]), key);
    const response = await fetch(`${this.cloud.endpoints.oss}/${bucket}`, { method: 'POST', body: form });
    const requestId = response.headers.get('x-oss-request-id') ?? '';
    if (response.status !== 204) {
      const code = /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1];
      throw Object.assign(new Error(`PostObject answered ${response.status}`), {
        status: response.status,
        ...(code ? { code } : {}),
        requestId,
      });
    }
    return requestId;
  }

  /** A call the cloud refuses (NoSuchKey): ActionTrail still records it, with its error code. */
  private async refused(call: () => Promise<unknown>): Promise<Outcome> {
    try {
      await persist(call);
    } catch (error) {
      const requestId = (error as SdkError).requestId;
      if (requestId) return { requestId, retries: 0 };
      throw error;
    }
    throw new Error('the call was expected to be refused');
  }

  /** RAM allows two keys per user: the keys the soak made before go first, as a person would tidy up. */
  private async createKey(creator: string, owner: string): Promise<Outcome> {
    const ram = this.ram(creator);
    const own = this.keys.get(owner)?.accessKeyId;
    const listed = await persist(() =>
      ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: owner })),
    );
    const existing = listed.value.body?.accessKeys?.accessKey ?? [];
    const spare = existing.filter((k) => k.accessKeyId && k.accessKeyId !== own);
    for (const victim of spare.slice(0, Math.max(0, existing.length - 1))) {
      const userAccessKeyId = victim.accessKeyId as string;
      await persist(() =>
        ram.deleteAccessKey(new $Ram.DeleteAccessKeyRequest({ userName: owner, userAccessKeyId })),
      );
    }
    const request =
      creator === owner
        ? new $Ram.CreateAccessKeyRequest({})
        : new $Ram.CreateAccessKeyRequest({ userName: owner });
    const done = await persist(() => ram.createAccessKey(request));
    const body = done.value.body;
    return {
      requestId: body?.requestId ?? '',
      ...(body?.accessKey?.accessKeyId ? { accessKeyId: body.accessKey.accessKeyId } : {}),
      retries: done.retries + listed.retries,
    };
  }
}
