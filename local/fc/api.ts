import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionSpec, FunctionTrigger } from '../../shared/deployment/syaml';
import { AcsError, asAcsError, GATEWAY_ERRORS } from '../acs/errors';
import { authenticate, NonceRegistry } from '../acs/signature';
import { HttpEmulator } from '../http';
import type { IdentityStore } from '../identity';
import type { InvokeResult } from './host';

/**
 * The FC 3.0 API (version 2023-03-30, ROA style) that `@alicloud/fc20230330` speaks, for the calls
 * `ossguard verify` makes: GetFunction, ListTriggers and synchronous InvokeFunction. Requests carry the same
 * V3 signature (`ACS3-HMAC-SHA256`) as RAM's, so they are verified by `local/acs`. The functions are the
 * ones the s.yaml deploys, and an invocation runs on the local FC host like any other.
 */
export interface FcApiOptions {
  identities: IdentityStore;
  /** What is deployed: the rendered s.yaml. */
  functions(): Promise<readonly FunctionSpec[]>;
  invoke(functionName: string, payload: Buffer): Promise<InvokeResult>;
  clock?: () => Date;
}

const VERSION = '2023-03-30';
const ROUTE = /^\/2023-03-30\/functions\/([^/]+)(\/invocations|\/triggers)?$/;

// FC 3.0 error codes as the API reference's error tables name them; statuses UNVERIFIED.
// The code is FC 3.0's; the status and message are UNVERIFIED (F-FC-API-ENDPOINT-ERRORS).
const FUNCTION_NOT_FOUND = { status: 404, code: 'FunctionNotFound', message: 'function does not exist' };
const METHOD_NOT_ALLOWED = { status: 405, code: 'MethodNotAllowed', message: 'method not allowed' };

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

function headersOf(request: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(',') : value,
    ]),
  );
}

/** fc3 completes a bare role name to an ARN with the deployer's account, lower-cased (F-FC-ROLE-ARN). */
const roleArn = (role: string | undefined, accountId: string): string =>
  role === undefined
    ? ''
    : (role.startsWith('acs:') ? role : `acs:ram::${accountId}:role/${role}`).toLowerCase();

/** FC returns `triggerConfig` as a JSON string. */
function renderTrigger(trigger: FunctionTrigger): Record<string, unknown> {
  const config =
    trigger.type === 'eventbridge'
      ? {
          triggerEnable: trigger.enabled,
          eventRuleFilterPattern: JSON.stringify(trigger.pattern),
          eventSourceConfig: { eventSourceType: trigger.eventSourceType },
        }
      : trigger.type === 'timer'
        ? { cronExpression: trigger.cronExpression, enable: trigger.enabled, payload: trigger.payload }
        : trigger.config;
  return {
    triggerName: trigger.name,
    triggerType: trigger.type,
    triggerConfig: JSON.stringify(config),
    qualifier: 'LATEST',
    status: 'Success',
  };
}

export class FcApiEmulator extends HttpEmulator {
  private readonly nonces = new NonceRegistry();

  constructor(private readonly options: FcApiOptions) {
    super();
  }

  protected async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'x-fc-request-id': requestId, ...headers });
      response.end(body);
    };
    const json = (status: number, body: unknown) =>
      send(status, JSON.stringify(body), { 'content-type': 'application/json' });
    try {
      const body = await readBody(request);
      const headers = headersOf(request);
      const url = new URL(request.url ?? '/', 'http://fc');
      const rawPath = (request.url ?? '/').split('?')[0] ?? '/';
      if (headers['x-acs-version'] !== VERSION) throw new AcsError(GATEWAY_ERRORS.InvalidVersion);
      const caller = authenticate(
        { method: request.method ?? 'GET', path: rawPath, query: [...url.searchParams], headers, body },
        this.options.identities,
        this.options.clock?.() ?? new Date(),
        this.nonces,
      );
      const match = ROUTE.exec(rawPath);
      if (!match) throw new AcsError(GATEWAY_ERRORS.InvalidActionNotFound, rawPath);
      const name = decodeURIComponent(match[1] ?? '');
      // The functions are account A's: another account's key looks in its own FC, which has none here.
      const own = caller.accountId === this.options.identities.accountId;
      const fn = own ? (await this.options.functions()).find((f) => f.functionName === name) : undefined;
      if (!fn) throw new AcsError(FUNCTION_NOT_FOUND, name);
      const route = `${request.method} ${match[2] ?? ''}`;
      if (route === 'POST /invocations') {
        const result = await this.options.invoke(name, body);
        if (result.ok) {
          const out = Buffer.isBuffer(result.result) ? result.result : JSON.stringify(result.result ?? null);
          return send(200, out, { 'x-fc-request-id': result.requestId });
        }
        // UNVERIFIED for FC 3.0 (FC 2.0's documented form): a handler error is a 200 with x-fc-error-type.
        return send(
          200,
          JSON.stringify({ errorType: result.error.name, errorMessage: result.error.message }),
          { 'x-fc-request-id': result.requestId, 'x-fc-error-type': 'UnhandledInvocationError' },
        );
      }
      if (route === 'GET /triggers') {
        // A log trigger's source is its project, as `sourceArn` (acs:log:<region>:<uid>:project/<name>,
        // F-FC-LOGTRIGGER-SAME-REGION).
        const accountId = this.options.identities.accountId;
        const sourceArn = (t: FunctionTrigger) =>
          t.type === 'log' ? { sourceArn: `acs:log:${fn.region}:${accountId}:project/${t.project}` } : {};
        return json(200, { triggers: fn.triggers.map((t) => ({ ...renderTrigger(t), ...sourceArn(t) })) });
      }
      if (route === 'GET ') return json(200, this.renderFunction(fn));
      throw new AcsError(METHOD_NOT_ALLOWED, route);
    } catch (error) {
      const failure = asAcsError(error);
      json(failure.status, { Code: failure.code, Message: failure.message, RequestId: requestId });
    }
  }

  private renderFunction(fn: FunctionSpec): Record<string, unknown> {
    const accountId = this.options.identities.accountId;
    return {
      functionName: fn.functionName,
      functionArn: `acs:fc:${fn.region}:${accountId}:functions/${fn.functionName}`,
      runtime: fn.runtime,
      handler: fn.handler,
      memorySize: fn.memorySize,
      timeout: fn.timeout,
      role: roleArn(fn.role, accountId),
      // As `s deploy` left them, secrets in the environment included (F-FC-GETFUNCTION-ENV).
      environmentVariables: { ...fn.environmentVariables },
      state: 'Active',
    };
  }
}
