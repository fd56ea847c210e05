import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpEmulator } from '../http';
import type { Caller, IdentityStore } from '../identity';
import { AcsError, asAcsError, errorBody, GATEWAY_ERRORS } from './errors';
import { authenticate, NonceRegistry } from './signature';

/** What a fault-injection hook sees: the call as sent, before authentication. */
export interface PopOperation {
  action: string;
  version: string;
  params: Readonly<Record<string, string>>;
}

export interface InjectedFault {
  status: number;
  code: string;
  message: string;
}

/**
 * Answers the call with `fault`, drops the connection (`'reset'`), runs it after `delayMs` (a slow answer, or a
 * timeout once the delay outlasts the client's), or lets it through (`undefined`).
 */
export type Intercept = (op: PopOperation) => InjectedFault | 'reset' | { delayMs: number } | undefined;

/** An authenticated call, as an action handler receives it. */
export interface PopCall extends PopOperation {
  caller: Caller;
  requestId: string;
  sourceIp: string;
  userAgent: string;
}

/** Returns the response fields besides `RequestId`, or throws AcsError. */
export type PopHandler = (call: PopCall) => Record<string, unknown>;

/** What the local cloud gives every POP emulator. */
export interface PopEmulatorOptions {
  identities: IdentityStore;
  /** Delay before each answer. */
  latencyMs?: number;
  intercept?: Intercept;
  /** The server's clock, for the x-acs-date skew check; tests move it to exercise InvalidTimeStamp.Expired. */
  clock?: () => Date;
}

/** What an emulated product answers as: its API versions and what its errors name. */
export interface PopProduct {
  versions: readonly string[];
  /** Product code, for the `Recommend` link of errors (`Ram`, `Ims`, `Actiontrail`). */
  product: (version: string) => string;
  /** The `HostId` of errors: the service endpoint the real API answers on. */
  hostId: (version: string) => string;
}

/** Form bodies are how RPC-style `callApi` sends parameters when it has a `body` (reqBodyType formData). */
function paramsOf(
  query: URLSearchParams,
  contentType: string | undefined,
  body: Buffer,
): Record<string, string> {
  const params = Object.fromEntries(query);
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  }
  return params;
}

function headersOf(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/**
 * An HTTP server speaking the POP (RPC-style, JSON) protocol the Alibaba SDKs use: it routes on the
 * `x-acs-action` / `x-acs-version` headers, verifies the V3 signature against the identity store and renders
 * successes as `{RequestId, …}` and failures as the gateway's JSON error. Each emulator extends it and
 * supplies `route`: the handler for `x-acs-action` at API `x-acs-version`, if it implements it.
 */
export abstract class PopEmulator extends HttpEmulator {
  private readonly nonces = new NonceRegistry();

  protected constructor(
    private readonly pop: PopProduct,
    private readonly popOptions: PopEmulatorOptions,
  ) {
    super();
  }

  protected abstract route(version: string, action: string): PopHandler | undefined;

  protected async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID().toUpperCase();
    const headers = headersOf(request);
    const version = headers['x-acs-version'] ?? '';
    const reply = (status: number, body: Record<string, unknown>, retryAfterMs?: number): void => {
      response.writeHead(status, {
        'content-type': 'application/json;charset=utf-8',
        'x-acs-request-id': requestId,
        ...(retryAfterMs !== undefined ? { 'x-acs-retry-after': String(retryAfterMs) } : {}),
      });
      response.end(JSON.stringify(body));
    };
    try {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', 'http://emulator');
      // The signature covers the path as sent; URL would normalise it.
      const rawPath = (request.url ?? '/').split('?')[0] ?? '/';
      const op: PopOperation = {
        action: headers['x-acs-action'] ?? '',
        version,
        params: paramsOf(url.searchParams, headers['content-type'], body),
      };
      if (this.popOptions.latencyMs) await sleep(this.popOptions.latencyMs);

      if (!this.pop.versions.includes(version)) throw new AcsError(GATEWAY_ERRORS.InvalidVersion, version);
      const handler = this.route(version, op.action);
      if (!handler) throw new AcsError(GATEWAY_ERRORS.InvalidActionNotFound, op.action);

      const fault = this.popOptions.intercept?.(op);
      if (fault === 'reset') {
        request.socket.destroy();
        return;
      }
      if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
      else if (fault) throw new AcsError(fault);

      const caller = authenticate(
        { method: request.method ?? 'GET', path: rawPath, query: [...url.searchParams], headers, body },
        this.popOptions.identities,
        this.popOptions.clock?.() ?? new Date(),
        this.nonces,
      );
      const result = handler({
        ...op,
        caller,
        requestId,
        sourceIp: (request.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      });
      reply(200, { RequestId: requestId, ...result });
    } catch (error) {
      const failure = asAcsError(error);
      reply(
        failure.status,
        errorBody(failure, requestId, this.pop.hostId(version), this.pop.product(version)),
        failure.retryAfterMs,
      );
    }
  }
}
