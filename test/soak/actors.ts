import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import type { LocalCloud } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import { type Change, policyDocument } from './world';

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
      case 'failed-call':
        return this.refused(() => this.oss(user, change.bucket).putACL(change.key, 'public-read'));
      case 'access-key':
        return this.createKey(change.creator, change.owner);
    }
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
