import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EmittedRecord, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import type { EventSink } from '../eventbus/bus';
import { closeServer, listenOn } from '../http';
import { type Caller, type IdentityStore, newRequestId } from '../identity';
import { withRecipient } from '../recipient';
import { authenticate } from './auth';
import { type Authorize, ramActionOf, resourceOf } from './authorization';
import { ERR, OssError, PLACEHOLDER_EC, renderError } from './errors';
import type { OpContext, Operation, OssReply } from './operation';
import { OPERATIONS, type OperationName, resolveOperation } from './operations';
import { authorizeAnonymous, authorizeOtherAccount } from './public-access';
import {
  assertContentMd5,
  type OssRequest,
  parseTarget,
  readHeaders,
  sourceIpOf,
  withPostForm,
} from './request';
import { type BucketAcl, type ObjectAcl, OssState, type WormConfiguration } from './state';
import { hostOf, ossRecord } from './trail';

export interface InterceptedOperation {
  operation: OperationName;
  bucket?: string;
  key?: string;
}

/**
 * An error OSS answers instead of running the operation, a connection reset, or a delay after which the
 * operation runs and is answered as usual: a slow response, or a timeout once it outlasts the client's.
 * `until`: the operation runs once the promise settles, so that another caller's change (made inside the
 * hook) lands exactly before it, whatever the machine's load; a test of a race needs that order, not a guess.
 */
export type InjectedFault =
  | { status: number; code: string; message: string }
  | 'reset'
  | { delayMs: number }
  | { until: Promise<unknown> };

export interface OssEmulatorOptions {
  identities: IdentityStore;
  events?: EventSink;
  /** Region id without the `oss-` prefix. Default `cn-hangzhou`. */
  region?: string;
  /** Added to every response, for benchmarks. */
  latencyMs?: number;
  now?: () => Date;
  /**
   * Fault injection, consulted once the operation is known and before authentication. A fault models a
   * failure in front of OSS, so the request changes nothing and ActionTrail records nothing.
   */
  intercept?: (operation: InterceptedOperation) => InjectedFault | undefined;
  /**
   * RAM authorisation of signed requests, after authentication: false answers AccessDenied. Without it every
   * authenticated caller may do everything, as the account's root may.
   */
  authorize?: Authorize;
  /**
   * Where OSS data events go: the ActionTrail record of every authenticated object-level call, reads
   * included (a trail with data events delivers them to its SLS logstore, never to EventBridge).
   */
  dataEvents?: (record: EmittedRecord) => void;
}

export interface BucketSnapshot {
  name: string;
  createdAt: Date;
  acl: BucketAcl;
  storageClass: string;
  blockPublicAccess: boolean;
  policy?: string;
  tags: Record<string, string>;
  worm?: Readonly<WormConfiguration>;
  objectKeys: string[];
}

export interface ObjectSnapshot {
  key: string;
  acl: ObjectAcl;
  etag: string;
  size: number;
  contentType: string;
  lastModified: Date;
  meta: Record<string, string>;
  body: Buffer;
}

/**
 * The OSS endpoint of the local cloud: an HTTP server that the unmodified ali-oss SDK talks to, verifying V1
 * and V4 signatures (with STS tokens) against the shared IdentityStore, keeping buckets and objects in
 * memory, and publishing an ActionTrail CloudEvent for every authenticated write.
 */
export class OssEmulator {
  readonly region: string;
  private readonly state = new OssState();
  private readonly server: Server;
  private readonly now: () => Date;
  private address?: AddressInfo;

  constructor(private readonly options: OssEmulatorOptions) {
    this.region = options.region ?? 'cn-hangzhou';
    this.now = options.now ?? (() => new Date());
    // A request with both Content-Length and `Transfer-Encoding: chunked` (ali-oss putStream sends both when
    // the caller sets Content-Length) is read as chunked, as RFC 9112 says; Node's strict parser would answer
    // 400 and close the connection (F-OSS-CHUNKED-WITH-LENGTH).
    this.server = createServer({ insecureHTTPParser: true }, (message, response) => {
      this.serve(message, response).catch((error: unknown) => {
        process.emitWarning(`OSS emulator could not answer a request: ${String(error)}`);
        response.destroy();
      });
    });
  }

  /** Resolves to the endpoint URL, e.g. `http://127.0.0.1:PORT`. Port 0 picks a free port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await listenOn(this.server, port, host);
    this.address = this.server.address() as AddressInfo;
    return this.endpoint;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  get port(): number {
    if (!this.address) throw new Error('the OSS emulator is not listening');
    return this.address.port;
  }

  get endpoint(): string {
    const host = this.address?.family === 'IPv6' ? `[${this.address.address}]` : this.address?.address;
    return `http://${host}:${this.port}`;
  }

  /** Whether the default account's (the emulator's `identities`) account-level Block Public Access is on. */
  get accountBlockPublicAccess(): boolean {
    return this.state.accountsBlockingPublicAccess.has(this.options.identities.accountId);
  }

  /** The account that owns a bucket, if it exists. */
  ownerOf(bucketName: string): string | undefined {
    return this.state.buckets.get(bucketName)?.owner;
  }

  bucketNames(): string[] {
    return [...this.state.buckets.keys()].sort();
  }

  /** What a quota increase request does: lets the account own more than the default 100 buckets. */
  raiseBucketQuota(maxBuckets: number): void {
    this.state.maxBuckets = maxBuckets;
  }

  bucket(name: string): BucketSnapshot | undefined {
    const bucket = this.state.buckets.get(name);
    if (!bucket) return undefined;
    const worm = this.state.activeWorm(bucket, this.now());
    return {
      name: bucket.name,
      createdAt: bucket.createdAt,
      acl: bucket.acl,
      storageClass: bucket.storageClass,
      blockPublicAccess: bucket.blockPublicAccess,
      ...(bucket.policy === undefined ? {} : { policy: bucket.policy }),
      tags: Object.fromEntries(bucket.tags),
      ...(worm ? { worm: { ...worm } } : {}),
      objectKeys: [...bucket.objects.keys()].sort(),
    };
  }

  object(bucketName: string, key: string): ObjectSnapshot | undefined {
    const object = this.state.buckets.get(bucketName)?.objects.get(key);
    if (!object) return undefined;
    return {
      key: object.key,
      acl: object.acl,
      etag: object.etag,
      size: object.body.length,
      contentType: object.contentType,
      lastModified: object.lastModified,
      meta: { ...object.meta },
      body: Buffer.from(object.body),
    };
  }

  private async serve(message: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(message);
    const requestId = newRequestId();
    const now = this.now();
    const method = message.method ?? 'GET';
    let request: OssRequest | undefined;
    let operation: OperationName | undefined;
    let caller: Caller | undefined;
    let owner: string | undefined;
    let failure: OssError | undefined;
    let reply: OssReply;
    try {
      const headers = readHeaders(message);
      request = withPostForm({
        method,
        ...parseTarget(headers.host ?? '', message.url ?? '/'),
        headers,
        body,
        sourceIp: sourceIpOf(message),
        userAgent: headers['user-agent'] ?? '',
      });
      operation = resolveOperation(request);
      const fault = this.options.intercept?.({
        operation,
        ...(request.bucket === undefined ? {} : { bucket: request.bucket }),
        ...(request.key === undefined ? {} : { key: request.key }),
      });
      if (fault === 'reset') {
        message.socket.destroy();
        return;
      }
      if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
      else if (fault && 'until' in fault) await fault.until.catch(() => undefined);
      else if (fault) throw new OssError({ ...fault, ec: PLACEHOLDER_EC });
      caller = authenticate(request, this.options.identities, this.region, now);
      const existing = request.bucket === undefined ? undefined : this.state.buckets.get(request.bucket);
      // Bucket names are global; a bucket belongs to the account that created it, and a call on it acts on
      // that account's resource whoever signs it (the trail's recipient account, F-ORG-TRAIL-RECIPIENT).
      owner = existing?.owner ?? caller?.accountId ?? this.options.identities.accountId;
      if (
        caller &&
        this.options.authorize &&
        !this.options.authorize(
          caller,
          ramActionOf(operation),
          resourceOf(this.region, owner, request.bucket, request.key),
        )
      ) {
        // UNVERIFIED: the message, recalled from ossutil output for RAM-denied requests.
        throw new OssError(ERR.AccessDenied, {
          message: 'You are not authorized to do this action. You should be authorized by RAM.',
        });
      }
      const ctx: OpContext = {
        request,
        ...(caller ? { caller } : {}),
        state: this.state,
        now,
        region: this.region,
        owner,
        bucketName: request.bucket ?? '',
        key: request.key ?? '',
      };
      if (!caller) authorizeAnonymous(ctx, operation);
      else if (caller.accountId !== owner) authorizeOtherAccount(ctx, operation);
      assertContentMd5(request);
      reply = OPERATIONS[operation].handle(ctx);
    } catch (error) {
      failure = asOssError(error);
      reply = errorReply(failure, method, requestId, hostOf(this.region, request?.bucket));
    }
    if (request && caller && operation) {
      this.record(operation, caller, owner ?? caller.accountId, request, requestId, failure);
    }
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    send(response, method, reply, requestId, now);
  }

  /**
   * What ActionTrail records of an authenticated call: bucket and account writes as management events on the
   * event bus, and every object-level call (reads included) as a data event for the trail's logstore, which
   * is the only place a trail delivers data events (F-ACTIONTRAIL-OSS-DATA-EVENTS). Without a `dataEvents`
   * sink (a bare emulator in the OSS tests), object writes go to the bus too, so one stream shows every write.
   */
  private record(
    operation: OperationName,
    caller: Caller,
    owner: string,
    request: OssRequest,
    requestId: string,
    failure: OssError | undefined,
  ): void {
    const { write, objectLevel } = OPERATIONS[operation] as Operation;
    const { events, dataEvents } = this.options;
    const isData = (request.key !== undefined || objectLevel === true) && dataEvents !== undefined;
    if (!(write && events) && !isData) return;
    const record = withRecipient(
      ossRecord({
        operation,
        caller,
        request,
        region: this.region,
        requestId,
        ...(failure ? { error: { code: failure.code, message: failure.message } } : {}),
      }),
      owner,
    );
    // A broken subscriber must not turn a completed call into an error for the OSS caller.
    try {
      if (write && !isData) events?.publish(wrapCloudEvent(record));
      if (isData) dataEvents({ ...record, eventCategory: 'Data', eventRW: write ? 'Write' : 'Read' });
    } catch (error) {
      process.emitWarning(`OSS emulator could not record ${operation}: ${String(error)}`);
    }
  }
}

async function readBody(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function asOssError(error: unknown): OssError {
  if (error instanceof OssError) return error;
  process.emitWarning(`OSS emulator internal error: ${error instanceof Error ? error.stack : String(error)}`);
  return new OssError(ERR.InternalError);
}

/** HEAD has no body: OSS sends the error document base64-encoded in `x-oss-err` (F-OSS-ERROR-FORMAT). */
function errorReply(error: OssError, method: string, requestId: string, hostId: string): OssReply {
  const document = renderError(error, requestId, hostId);
  if (method === 'HEAD') {
    return {
      status: error.status,
      headers: { 'x-oss-ec': error.ec, 'x-oss-err': Buffer.from(document).toString('base64') },
    };
  }
  return {
    status: error.status,
    headers: { 'x-oss-ec': error.ec, 'content-type': 'application/xml' },
    body: document,
  };
}

const BODILESS_STATUSES = new Set([204, 304]);

function send(response: ServerResponse, method: string, reply: OssReply, requestId: string, now: Date): void {
  const body = reply.body === undefined ? undefined : Buffer.from(reply.body);
  const headers: Record<string, string> = {
    server: 'AliyunOSS',
    date: now.toUTCString(),
    'x-oss-request-id': requestId,
    ...reply.headers,
  };
  if (!BODILESS_STATUSES.has(reply.status)) headers['content-length'] ??= String(body?.length ?? 0);
  response.writeHead(reply.status, headers);
  response.end(method === 'HEAD' ? undefined : body);
}
