import { type AlertDispatcher, createAlertDispatcher } from '../alerts/dispatch';
import { type CloudCredentials, OssClientFactory } from '../clients/oss';
import type { RamApi } from '../clients/ram';
import { type Endpoints, loadRuntime, type Runtime } from '../config/load';
import { GuardError } from '../errors';
import { createLogger } from '../log';
import { type InvocationResult, runGuard } from './run';
import type { Guard } from './types';

/** The FC `context` fields ossguard uses (F-FC-CONTEXT-FIELDS). */
export interface FcContext {
  requestId: string;
  region: string;
  accountId?: string;
  credentials: CloudCredentials;
  function?: { name?: string };
}

/**
 * SDK clients beyond OSS, passed in by the function's entry point so that a bundle only carries the SDKs
 * its guard uses.
 */
export interface HandlerClients {
  ram?: (credentials: CloudCredentials, endpoints: Endpoints) => RamApi;
}

export type FcHandler = (event: Buffer | string, context: FcContext) => Promise<InvocationResult>;

/**
 * Some changes could not be finished (cloud faults that outlasted the retries, or another delivery of the
 * same event holding its intent); failing the invocation makes EventBridge redeliver.
 */
export class InvocationFailedError extends GuardError {
  readonly failures: InvocationResult['retryableFailures'];

  constructor(failures: InvocationResult['retryableFailures']) {
    super(
      `${failures.length} change(s) not finished: ${failures
        .slice(0, 3)
        .map((f) => `${f.eventId} (${f.error})`)
        .join(', ')}${failures.length > 3 ? ', …' : ''}`,
    );
    this.failures = failures;
  }
}

/** Runs the pipeline over a body the caller already has; FC handlers and the log-trigger handler share it. */
export type GuardInvoker = (
  body: unknown,
  context: FcContext,
  /** Names input without event ids in audit keys; default the FC request id. */
  invocationId?: string,
) => Promise<InvocationResult>;

/**
 * Wraps a guard as an FC event handler. The config is loaded and validated when the module loads (cold
 * start), so a misconfigured guard fails at init. Credentials are the STS credentials FC passes for the
 * function's role: ossguard never holds an AccessKey of its own.
 */
export function createHandler<State>(
  guard: Guard<State>,
  clients: HandlerClients = {},
  runtime: Runtime = loadRuntime(),
): FcHandler {
  const invoke = createGuardInvoker(guard, clients, runtime);
  return (event, context) => invoke(event, context);
}

/** The pipeline behind an FC handler, taking the body as parsed input (records) or as FC's raw event. */
export function createGuardInvoker<State>(
  guard: Guard<State>,
  clients: HandlerClients,
  runtime: Runtime,
  /** One per function: guards sharing a function share its channels' rate limits (DingTalk's per robot). */
  dispatch: AlertDispatcher = createAlertDispatcher(runtime),
): GuardInvoker {
  let factory: { accessKeyId: string; oss: OssClientFactory; ram?: RamApi } | undefined;

  return async (event, context, invocationId = context.requestId) => {
    const credentials = roleCredentials(context);
    // STS credentials rotate; reuse clients only while FC hands us the same ones.
    if (factory?.accessKeyId !== credentials.accessKeyId) {
      factory = {
        accessKeyId: credentials.accessKeyId,
        oss: new OssClientFactory({
          credentials,
          ...(runtime.endpoints.oss ? { endpoint: runtime.endpoints.oss } : {}),
        }),
        ...(clients.ram ? { ram: clients.ram(credentials, runtime.endpoints) } : {}),
      };
    }
    const log = createLogger({ guard: guard.name, requestId: context.requestId });
    const result = await runGuard(guard, event, {
      runtime,
      oss: factory.oss,
      ...(factory.ram ? { ram: factory.ram } : {}),
      region: context.region,
      dispatch,
      log,
      invocationId,
    });
    if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
    return result;
  };
}

/** The function role's STS credentials from the FC context; without a role there is nothing to act with. */
export function roleCredentials(context: FcContext): CloudCredentials {
  const { credentials } = context;
  if (!credentials?.accessKeyId || !credentials.accessKeySecret) {
    throw new InvocationFailedError([
      { eventId: context.requestId, error: 'FC passed no role credentials: give the function a role' },
    ]);
  }
  return credentials;
}
