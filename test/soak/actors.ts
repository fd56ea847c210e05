import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import type { LocalCloud, TrailDataEvent } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import { ALL_OSS, type Change, type MemberChange, policyDocument, type UploadVia, WORLD } from './world';

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
  /** Request ids of the calls that carried the change through: UploadPart and Complete after an ACL on Initiate. */
  followingRequestIds?: string[];
  /** A record the trail alone holds, as it landed there (a console sign-in has no API answer). */
  trail?: TrailDataEvent;
}

/** Who makes a change: the RAM user it names, else the soak's everyday user. */
export function actorOf(change: Change): string {
  switch (change.kind) {
    case 'access-key':
      return change.creator;
    case 'key-reenable':
    case 'policy-attach':
    case 'broad-policy':
      return change.actor;
    default:
      return 'soak-alice';
  }
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
  initMultipartUpload(
    name: string,
    options?: { headers: Record<string, string> },
  ): Promise<{ uploadId: string; res: unknown }>;
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
    options?: { headers: Record<string, string> },
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
  private readonly rootKeys: Key[] = [];

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

  /** The `index`th root AccessKey of the account (created in the identity store: setup, not a change). */
  rootKey(index: number): Key {
    while (this.rootKeys.length <= index) this.rootKeys.push(this.cloud.identities.createRootAccessKey());
    return this.rootKeys[index] as Key;
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

  /** The RAM user of a member account who makes its changes (created in its identity store: setup). */
  memberOss(account: string, bucket?: string): OSS {
    const id = `${account}:${WORLD.memberUser}/${bucket ?? ''}`;
    let client = this.ossClients.get(id);
    if (!client) {
      const identities = this.cloud.account(account).identities;
      const key =
        identities.users.get(WORLD.memberUser)?.accessKeys[0] ?? identities.userWithKey(WORLD.memberUser).key;
      client = this.cloud.ossClient(key, bucket);
      this.ossClients.set(id, client);
    }
    return client;
  }

  /** Makes one planned change as `user` and returns the request id of the call that did it. */
  async make(user: string, change: Change): Promise<Outcome> {
    switch (change.kind) {
      case 'bucket-acl':
      case 'object-acl':
        return this.bucketChange((bucket) => this.oss(user, bucket), change);
      case 'member':
        return this.bucketChange(
          (bucket) => this.memberOss(change.account, bucket),
          change.change,
          change.account,
        );
      case 'new-bucket': {
        // @types/ali-oss requires every PutBucketOptions field; ali-oss reads only those given.
        const options = { acl: change.acl } as unknown as OSS.PutBucketOptions;
        const done = await persist(() => this.oss(user).putBucket(change.bucket, options));
        return { requestId: ossRequestId(done.value), retries: done.retries };
      }
      case 'bucket-bpa':
        return this.publicAccessBlock(user, change.bucket, change.action);
      case 'account-bpa':
        return this.publicAccessBlock(user, undefined, change.action);
      case 'bucket-policy':
        return this.bucketChange((bucket) => this.oss(user, bucket), change);
      case 'object-upload':
        return this.upload(user, change.via, change.bucket, change.key, change.from, change.acl);
      case 'failed-call':
        return this.refused(() => this.oss(user, change.bucket).putACL(change.key, 'public-read'));
      case 'access-key':
        return this.createKey(change.creator, change.owner);
      case 'key-reenable':
        return this.reenableKey(change.actor, change.owner);
      case 'root-key-use': {
        const key = this.rootKey(change.root);
        const client = this.cloud.ossClient(key, WORLD.rootBucket);
        const done = await persist(() => client.put(change.key, Buffer.from(change.key)));
        return { requestId: ossRequestId(done.value), accessKeyId: key.accessKeyId, retries: done.retries };
      }
      case 'key-outside-network':
        return this.roam(change.user);
      case 'policy-attach': {
        const request = new $Ram.AttachPolicyToUserRequest({
          policyType: 'System',
          policyName: 'AliyunOSSFullAccess',
          userName: change.user,
        });
        const done = await persist(() => this.ram(user).attachPolicyToUser(request));
        return { requestId: done.value.body?.requestId ?? '', retries: done.retries };
      }
      case 'broad-policy': {
        const ram = this.ram(user);
        const policyDocument = JSON.stringify(ALL_OSS);
        if (change.how === 'create') {
          const request = new $Ram.CreatePolicyRequest({ policyName: change.policy, policyDocument });
          const done = await persist(() => ram.createPolicy(request));
          return { requestId: done.value.body?.requestId ?? '', retries: done.retries };
        }
        const request = new $Ram.CreatePolicyVersionRequest({
          policyName: change.policy,
          policyDocument,
          setAsDefault: true,
        });
        const done = await persist(() => ram.createPolicyVersion(request));
        return { requestId: done.value.body?.requestId ?? '', retries: done.retries };
      }
      case 'console-signin': {
        const trail = this.cloud.consoleSignin({ userName: change.user }, { mfa: false });
        if (!trail) throw new Error('the trail recorded no sign-in');
        return { requestId: trail.record.requestId, retries: 0, trail };
      }
    }
  }

  /** An ACL or policy change through `client` (ali-oss clients of the acting user, one per bucket). */
  private async bucketChange(
    client: (bucket?: string) => OSS,
    change: MemberChange,
    account?: string,
  ): Promise<Outcome> {
    const call = (): Promise<unknown> => {
      switch (change.kind) {
        case 'bucket-acl':
          return client().putBucketACL(change.bucket, change.acl);
        // @types/ali-oss omits 'default', which OSS accepts.
        case 'object-acl':
          return client(change.bucket).putACL(change.key, change.acl as 'private');
        case 'bucket-policy': {
          const document = policyDocument(change.bucket, change.policy, account);
          return document
            ? client().putBucketPolicy(change.bucket, document as OSS.BucketPolicy)
            : client().deleteBucketPolicy(change.bucket);
        }
      }
    };
    const done = await persist(call);
    return { requestId: ossRequestId(done.value), retries: done.retries };
  }

  /** Block Public Access of a bucket, or of the account without one, switched on, off or deleted. */
  private async publicAccessBlock(
    user: string,
    bucket: string | undefined,
    action: 'on' | 'off' | 'delete',
  ): Promise<Outcome> {
    const request = (this.oss(user) as unknown as { request: RawRequest }).request.bind(this.oss(user));
    const done = await persist(() =>
      request({
        method: action === 'delete' ? 'DELETE' : 'PUT',
        // ali-oss signs the account's resource (`/`) when the bucket is empty.
        bucket: bucket ?? '',
        subres: 'publicAccessBlock',
        ...(action === 'delete'
          ? { successStatuses: [204] }
          : {
              content: Buffer.from(BPA_XML(action === 'on')),
              mime: 'application/xml',
              successStatuses: [200],
            }),
      }),
    );
    return { requestId: ossRequestId(done.value), retries: done.retries };
  }

  /** Switches back on the owner's key that ossguard disabled (the soak made it for the owner before). */
  private async reenableKey(actor: string, owner: string): Promise<Outcome> {
    const ram = this.ram(actor);
    const own = this.keys.get(owner)?.accessKeyId;
    const listed = await persist(() =>
      ram.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: owner })),
    );
    const target = (listed.value.body?.accessKeys?.accessKey ?? []).find(
      (k) => k.accessKeyId !== own && k.status === 'Inactive',
    )?.accessKeyId;
    if (!target) throw new Error(`${owner} has no disabled key to switch back on`);
    const done = await persist(() =>
      ram.updateAccessKey(
        new $Ram.UpdateAccessKeyRequest({ userName: owner, userAccessKeyId: target, status: 'Active' }),
      ),
    );
    return {
      requestId: done.value.body?.requestId ?? '',
      accessKeyId: target,
      retries: listed.retries + done.retries,
    };
  }

  /**
   * A write signed by a new user's key from outside the user's allowed network. An attempt whose answer was
   * lost (a slow answer the client gave up on) may already have had the key disabled, so that the retry is
   * refused: the change is then that attempt's, as the trail recorded it.
   */
  private async roam(user: string): Promise<Outcome> {
    const key = this.key(user);
    const client = this.cloud.ossClient(key, WORLD.roamBucket);
    try {
      const done = await persist(() => client.put(`roam/${user}.txt`, Buffer.from(user)));
      return { requestId: ossRequestId(done.value), accessKeyId: key.accessKeyId, retries: done.retries };
    } catch (error) {
      const landed = this.cloud
        .trailDataEvents()
        .find(
          (d) =>
            d.record.eventName === 'PutObject' &&
            !d.record.errorCode &&
            JSON.stringify(d.record.userIdentity).includes(key.accessKeyId),
        );
      if (landed) return { requestId: landed.record.requestId, accessKeyId: key.accessKeyId, retries: 1 };
      throw error;
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
      case 'multipart':
      case 'multipart-initiate': {
        const onInitiate = via === 'multipart-initiate';
        const started = await persist(() =>
          calls.initMultipartUpload(key, onInitiate ? { headers } : undefined),
        );
        const { uploadId } = started.value;
        const part = await persist(() => calls.uploadPart(key, uploadId, 1, body, 0, body.length));
        const etag = part.value.etag;
        const done = await persist(() =>
          calls.completeMultipartUpload(
            key,
            uploadId,
            [{ number: 1, etag }],
            onInitiate ? undefined : { headers },
          ),
        );
        const retries = started.retries + part.retries + done.retries;
        const ids = [ossRequestId(started.value), ossRequestId(part.value), ossRequestId(done.value)];
        // The call that asked for the ACL is the change; the others led up to it or carried it through.
        return onInitiate
          ? { requestId: ids[0] as string, retries, followingRequestIds: ids.slice(1) }
          : { requestId: ids[2] as string, retries, precedingRequestIds: ids.slice(0, 2) };
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
