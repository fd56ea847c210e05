import { createAlertDispatcher } from '../alerts/dispatch';
import { type CloudCredentials, OssClientFactory } from '../clients/oss';
import type { RamApi } from '../clients/ram';
import { type Endpoints, loadRuntime, type Runtime } from '../config/load';
import { GuardError } from '../errors';
import { createLogger } from '../log';
import { type InvocationResult, runGuard } from './run';
import type { Guard } from './types';

/** The FC `context` fields ossguard uses (../shared/reference/actiontrail-events.md §3). */
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

/** Some changes met cloud faults that outlasted the retries; failing the invocation makes EventBridge redeliver. */
export class InvocationFailedError extends GuardError {
  readonly failures: InvocationResult['retryableFailures'];

  constructor(failures: InvocationResult['retryableFailures']) {
    super(
      `${failures.length} change(s) hit cloud faults after retries: ${failures.map((f) => f.eventId).join(', ')}`,
    );
    this.failures = failures;
  }
}

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
  const dispatch = createAlertDispatcher(runtime);
  let factory: { accessKeyId: string; oss: OssClientFactory; ram?: RamApi } | undefined;

  return async (event, context) => {
    const { credentials } = context;
    if (!credentials?.accessKeyId || !credentials.accessKeySecret) {
      throw new InvocationFailedError([
        { eventId: context.requestId, error: 'FC passed no role credentials: give the function a role' },
      ]);
    }
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
      invocationId: context.requestId,
    });
    if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
    return result;
  };
}
