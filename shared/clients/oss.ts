import OSS from 'ali-oss';
import { CloudApiError } from '../errors';
import type { BucketAcl, ObjectAcl } from '../rules';
import type { CallLog } from './calllog';
import { type ExactKeyCall, type ExactKeyTarget, exactKeyRequest, grantOf, isIpHost } from './oss-exact-key';
import { DEFAULT_RETRY, isRetryable, type RetryOptions, withRetry } from './retry';

/** STS credentials as FC passes them in `context.credentials`. */
export interface CloudCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface OssClientOptions {
  credentials: CloudCredentials;
  /** Overrides Alibaba Cloud's regional endpoints (the local cloud, or a private endpoint). */
  endpoint?: string;
  timeoutMs?: number;
  retry?: RetryOptions;
}

interface AliOssResult {
  res?: { status?: number; headers?: Record<string, string | string[] | undefined> };
  status?: number;
  data?: unknown;
}

interface AliOssError {
  name?: string;
  code?: string;
  status?: number;
  requestId?: string;
  message?: string;
}

const NOT_FOUND_CODES = new Set([
  'NoSuchBucket',
  'NoSuchKey',
  'NoSuchBucketPolicy',
  'NoSuchPublicAccessBlock',
]);

export const isNotFound = (error: unknown): boolean =>
  error instanceof CloudApiError && NOT_FOUND_CODES.has(error.code);

/**
 * The most ossguard reads of one object: an object at a key anyone who can write the audit bucket can compute
 * (record, intent, claim, mark, queue item, checkpoint) must not exhaust a function's memory. 8 MiB is far
 * above the largest object ossguard writes there, a deferred-work item of at most 50 trail records
 * (shared/pipeline/deferred.ts), each of which would have to exceed 160 KB to reach it.
 */
export const MAX_OBJECT_BYTES = 8 * 1024 * 1024;

/** ossguard's own code, not OSS's: an object larger than the reader's cap, refused unread. */
export const OBJECT_TOO_LARGE = 'ObjectTooLarge';

export const isTooLarge = (error: unknown): boolean =>
  error instanceof CloudApiError && error.code === OBJECT_TOO_LARGE;

/** ali-oss refreshes only through a `refreshSTSToken` function, which ossguard never passes. */
const STS_NO_REFRESH_MS = 3_600_000;

/**
 * ali-oss clients, one per region and bucket: ali-oss binds object calls to `options.bucket`, and
 * `useBucket()` mutates a shared client, which is unsafe when changes are handled concurrently.
 */
export class OssClientFactory {
  private readonly clients = new Map<string, OSS>();

  constructor(private readonly options: OssClientOptions) {}

  get retry(): RetryOptions {
    return this.options.retry ?? DEFAULT_RETRY;
  }

  client(region: string, bucket?: string): OSS {
    const cacheKey = `${region}/${bucket ?? ''}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      const { credentials, endpoint } = this.options;
      client = new OSS({
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.accessKeySecret,
        // No refresh: FC passes each invocation its session, and the CLI resolves one per run. Naming an
        // interval without a `refreshSTSToken` keeps ali-oss from warning on every client it builds.
        ...(credentials.securityToken
          ? { stsToken: credentials.securityToken, refreshSTSTokenInterval: STS_NO_REFRESH_MS }
          : {}),
        region: `oss-${region}`,
        secure: true,
        timeout: this.options.timeoutMs ?? 10_000,
        ...(bucket ? { bucket } : {}),
        ...(endpoint ? endpointOptions(endpoint) : {}),
      });
      this.clients.set(cacheKey, client);
    }
    return client;
  }

  /** The same credentials and endpoint, for calls signed outside ali-oss (oss-exact-key.ts). */
  exactKeyTarget(region: string): ExactKeyTarget {
    const { credentials, endpoint } = this.options;
    return {
      credentials,
      region,
      timeoutMs: this.options.timeoutMs ?? 10_000,
      ...(endpoint ? { endpoint } : {}),
    };
  }
}

/**
 * A host name endpoint goes path-style (`sldEnable`), an IP endpoint keeps the bucket in the Host header;
 * combining an IP with `sldEnable` would put the bucket in both (F-OSS-ADDRESSING).
 */
function endpointOptions(endpoint: string): { endpoint: string; sldEnable?: boolean } {
  return isIpHost(new URL(endpoint).hostname) ? { endpoint } : { endpoint, sldEnable: true };
}

const PUBLIC_ACCESS_BLOCK_XML = (on: boolean) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration><BlockPublicAccess>${on}</BlockPublicAccess></PublicAccessBlockConfiguration>`;

/** The OSS calls ossguard makes, with retries, typed errors and a request-id log for the audit record. */
export class OssGateway {
  constructor(
    private readonly factory: OssClientFactory,
    readonly region: string,
    private readonly log: CallLog,
  ) {}

  async getBucketAcl(bucket: string): Promise<BucketAcl> {
    const result = await this.call('GetBucketAcl', { bucket }, (c) => c.getBucketACL(bucket));
    return result.acl as BucketAcl;
  }

  async putBucketAcl(bucket: string, acl: BucketAcl): Promise<void> {
    await this.call('PutBucketAcl', { bucket }, (c) => c.putBucketACL(bucket, acl));
  }

  /**
   * Object ACLs are read and written on the exact key, signed outside ali-oss, which cannot address every key
   * OSS accepts (F-ALIOSS-PATH-NORMALISED): a public object whose key it rewrites must not stay public.
   */
  async getObjectAcl(bucket: string, key: string): Promise<ObjectAcl> {
    const answer = await this.exactKeyCall('GetObjectAcl', {
      method: 'GET',
      bucket,
      key,
      subresource: 'acl',
    });
    return grantOf(answer) as ObjectAcl;
  }

  async putObjectAcl(bucket: string, key: string, acl: ObjectAcl): Promise<void> {
    await this.exactKeyCall('PutObjectAcl', {
      method: 'PUT',
      bucket,
      key,
      subresource: 'acl',
      headers: { 'x-oss-object-acl': acl },
    });
  }

  async getBucketTags(bucket: string): Promise<Record<string, string>> {
    // @types/ali-oss lacks the tagging methods that ali-oss 6 has.
    const result = await this.call('GetBucketTags', { bucket }, (c) =>
      (
        c as unknown as { getBucketTags(name: string): Promise<{ tag?: Record<string, string> }> }
      ).getBucketTags(bucket),
    );
    return result.tag ?? {};
  }

  /** ali-oss has no Block Public Access methods; these go through its signed low-level `request`. */
  async getBucketPublicAccessBlock(bucket: string): Promise<boolean> {
    return this.getPublicAccessBlock('GetBucketPublicAccessBlock', bucket);
  }

  async putBucketPublicAccessBlock(bucket: string, on: boolean): Promise<void> {
    await this.rawRequest(
      'PutBucketPublicAccessBlock',
      bucket,
      'PUT',
      'publicAccessBlock',
      PUBLIC_ACCESS_BLOCK_XML(on),
    );
  }

  async getAccountPublicAccessBlock(): Promise<boolean> {
    return this.getPublicAccessBlock('GetPublicAccessBlock');
  }

  async putAccountPublicAccessBlock(on: boolean): Promise<void> {
    await this.rawRequest(
      'PutPublicAccessBlock',
      undefined,
      'PUT',
      'publicAccessBlock',
      PUBLIC_ACCESS_BLOCK_XML(on),
    );
  }

  /**
   * The policy text as OSS stores it, or null when the bucket has none (F-OSS-GETBUCKETPOLICY). Not ali-oss's
   * getBucketPolicy: it sets successStatuses only after sending, so an AccessDenied or a 503 would read as
   * "no policy".
   */
  async getBucketPolicy(bucket: string): Promise<string | null> {
    try {
      const result = await this.rawRequest('GetBucketPolicy', bucket, 'GET', 'policy', undefined, false);
      return Buffer.from(result.data as Buffer).toString('utf8');
    } catch (error) {
      if (error instanceof CloudApiError && error.code === 'NoSuchBucketPolicy') return null;
      throw error;
    }
  }

  async putBucketPolicy(bucket: string, policy: string): Promise<void> {
    await this.call('PutBucketPolicy', { bucket }, (c) => c.putBucketPolicy(bucket, JSON.parse(policy)));
  }

  async deleteBucketPolicy(bucket: string): Promise<void> {
    await this.call('DeleteBucketPolicy', { bucket }, (c) => c.deleteBucketPolicy(bucket));
  }

  /** When the bucket was created and which account owns it (F-OSS-GETBUCKETINFO). */
  async getBucketInfo(bucket: string): Promise<{ createdAt: string; ownerId: string }> {
    const result = await this.call('GetBucketInfo', { bucket }, (c) => c.getBucketInfo(bucket));
    const info = (result as { bucket?: { CreationDate?: unknown; Owner?: { ID?: unknown } } }).bucket;
    return { createdAt: String(info?.CreationDate ?? ''), ownerId: String(info?.Owner?.ID ?? '') };
  }

  /** OSS's own verdict, `IsPublic` (F-OSS-POLICY-STATUS). */
  async getBucketPolicyStatus(bucket: string): Promise<boolean> {
    const result = await this.rawRequest('GetBucketPolicyStatus', bucket, 'GET', 'policyStatus');
    return String((result.data as { IsPublic?: unknown } | undefined)?.IsPublic) === 'true';
  }

  /** Writes only if the key is free (`x-oss-forbid-overwrite`); `exists` means a record is already there. */
  async putObjectIfAbsent(bucket: string, key: string, body: string): Promise<'created' | 'exists'> {
    try {
      await this.exactKeyCall('PutObject', {
        method: 'PUT',
        bucket,
        key,
        headers: { 'x-oss-forbid-overwrite': 'true' },
        body: { content: Buffer.from(body), contentType: 'application/json' },
      });
      return 'created';
    } catch (error) {
      if (error instanceof CloudApiError && error.code === 'FileAlreadyExists') return 'exists';
      throw error;
    }
  }

  async objectExists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.exactKeyCall('HeadObject', { method: 'HEAD', bucket, key });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * The object's bytes, at most `maxBytes` of them: the range asked for is one byte more, so that OSS sends no
   * more than that whatever the object's size (F-OSS-GETOBJECT-RANGE), the bytes are counted as they arrive,
   * never inflated (oss-exact-key.ts), and an object that fills the range is refused.
   */
  async getObject(bucket: string, key: string, maxBytes = MAX_OBJECT_BYTES): Promise<Buffer> {
    const answer = await this.exactKeyCall('GetObject', {
      method: 'GET',
      bucket,
      key,
      range: `bytes=0-${maxBytes}`,
      maxBodyBytes: maxBytes,
    });
    if (!answer.tooLarge && answer.content.length <= maxBytes) return answer.content;
    throw new CloudApiError({
      service: 'oss',
      operation: 'GetObject',
      code: OBJECT_TOO_LARGE,
      retryable: false,
      message: `${key} is larger than ${maxBytes} bytes, more than ossguard ever writes there: not read`,
      bucket,
      objectKey: key,
    });
  }

  /** `getObject`, or undefined for an object larger than `maxBytes`: planted, since ossguard writes none. */
  async getObjectWithin(
    bucket: string,
    key: string,
    maxBytes = MAX_OBJECT_BYTES,
  ): Promise<Buffer | undefined> {
    try {
      return await this.getObject(bucket, key, maxBytes);
    } catch (error) {
      if (isTooLarge(error)) return undefined;
      throw error;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.call('DeleteObject', { bucket, objectKey: key }, (c) => c.delete(key), bucket);
  }

  /** One page of keys under a prefix (ListObjectsV2), from the first key after `startAfter` (F-OSS-LIST-START-AFTER). */
  async listObjects(
    bucket: string,
    prefix: string,
    continuationToken?: string,
    maxKeys = 1000,
    startAfter?: string,
  ): Promise<{ keys: Array<{ key: string; size: number; lastModified: string }>; next?: string }> {
    const result = await this.call(
      'ListObjects',
      { bucket },
      (c) =>
        c.listV2(
          {
            prefix,
            'max-keys': String(maxKeys),
            ...(continuationToken ? { 'continuation-token': continuationToken } : {}),
            ...(startAfter ? { 'start-after': startAfter } : {}),
          },
          {},
        ),
      bucket,
    );
    const keys = (result.objects ?? []).map((o) => ({
      key: o.name,
      size: o.size,
      lastModified: o.lastModified,
    }));
    return { keys, ...(result.nextContinuationToken ? { next: result.nextContinuationToken } : {}) };
  }

  /** One page of buckets in the account (ListBuckets), across regions. */
  async listBuckets(
    marker?: string,
    maxKeys = 1000,
  ): Promise<{ buckets: Array<{ name: string; region: string }>; next?: string }> {
    const result = await this.call('ListBuckets', {}, (c) =>
      c.listBuckets({ 'max-keys': String(maxKeys), ...(marker ? { marker } : {}) }, {}),
    );
    const page = result as unknown as {
      buckets: Array<{ name: string; region: string }> | null;
      isTruncated?: boolean;
      nextMarker?: string;
    };
    const buckets = (page.buckets ?? []).map((b) => ({
      name: b.name,
      region: b.region.replace(/^oss-/, ''),
    }));
    return { buckets, ...(page.isTruncated && page.nextMarker ? { next: page.nextMarker } : {}) };
  }

  private async getPublicAccessBlock(operation: string, bucket?: string): Promise<boolean> {
    try {
      const result = await this.rawRequest(operation, bucket, 'GET', 'publicAccessBlock');
      return (
        String((result.data as { BlockPublicAccess?: unknown } | undefined)?.BlockPublicAccess) === 'true'
      );
    } catch (error) {
      // UNVERIFIED whether OSS answers "never configured" with 404 or with BlockPublicAccess=false: both mean off.
      if (error instanceof CloudApiError && error.status === 404 && error.code !== 'NoSuchBucket')
        return false;
      throw error;
    }
  }

  private rawRequest(
    operation: string,
    bucket: string | undefined,
    method: 'GET' | 'PUT',
    subres: string,
    body?: string,
    xmlResponse = method === 'GET',
  ) {
    return this.call(operation, { bucket }, (c) =>
      (c as unknown as { request(params: Record<string, unknown>): Promise<AliOssResult> }).request({
        method,
        // Account-level calls still need `bucket: ''`: with an IP endpoint ali-oss would otherwise send
        // `Host: undefined.oss-<region>.aliyuncs.com` and the signature would not match.
        bucket: bucket ?? '',
        subres,
        ...(body ? { content: Buffer.from(body), mime: 'application/xml' } : {}),
        successStatuses: [200],
        xmlResponse,
      }),
    );
  }

  private exactKeyCall(operation: string, call: ExactKeyCall) {
    return this.call(operation, { bucket: call.bucket, objectKey: call.key }, () =>
      exactKeyRequest(this.factory.exactKeyTarget(this.region), call),
    );
  }

  private async call<T>(
    operation: string,
    context: { bucket?: string; objectKey?: string },
    send: (client: OSS) => Promise<T>,
    clientBucket?: string,
  ): Promise<T> {
    const client = this.factory.client(this.region, clientBucket);
    return withRetry(async () => {
      try {
        const result = await send(client);
        this.log.record({ service: 'oss', operation, requestId: requestIdOf(result), ok: true });
        return result;
      } catch (error) {
        const failure = toCloudApiError(operation, context, error);
        this.log.record({ service: 'oss', operation, requestId: failure.context.requestId, ok: false });
        throw failure;
      }
    }, this.factory.retry);
  }
}

function requestIdOf(result: unknown): string | undefined {
  const headers = (result as AliOssResult | undefined)?.res?.headers;
  const id = headers?.['x-oss-request-id'];
  return Array.isArray(id) ? id[0] : id;
}

/** The code of a call the SDK refused to send: invalid input, final, audited rather than retried. */
export const CLIENT_REFUSED = 'RequestRefusedByClient';

function toCloudApiError(
  operation: string,
  context: { bucket?: string; objectKey?: string },
  error: unknown,
): CloudApiError {
  const e = (error ?? {}) as AliOssError;
  const message = e.message ?? String(error);
  const reported = e.code || e.name || 'UnknownError';
  const retryable = isRetryable(e.status, reported, message);
  const answered = e.status !== undefined && e.status >= 100;
  // ali-oss throws a bare Error (or urllib's TypeError) for requests it will not send; name that plainly.
  const code = answered || retryable ? reported : CLIENT_REFUSED;
  return new CloudApiError(
    {
      service: 'oss',
      operation,
      code,
      ...(e.status !== undefined ? { status: e.status } : {}),
      retryable,
      message: message.split('\n')[0] ?? '',
      ...(e.requestId ? { requestId: e.requestId } : {}),
      ...context,
    },
    { cause: error },
  );
}
