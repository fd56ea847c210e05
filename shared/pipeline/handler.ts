import { createAlertDispatcher } from '../alerts/dispatch';
import { type CloudCredentials, OssClientFactory } from '../clients/oss';
import { RamClientFactory } from '../clients/ram';
import { loadRuntime, type Runtime } from '../config/load';
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
export function createHandler<State>(guard: Guard<State>, runtime: Runtime = loadRuntime()): FcHandler {
  const dispatch = createAlertDispatcher(runtime);
  let factory: { accessKeyId: string; oss: OssClientFactory; ram: RamClientFactory } | undefined;

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
        ram: new RamClientFactory({
          credentials,
          ...(runtime.endpoints.ram ? { ramEndpoint: runtime.endpoints.ram } : {}),
          ...(runtime.endpoints.ims ? { imsEndpoint: runtime.endpoints.ims } : {}),
        }),
      };
    }
    const log = createLogger({ guard: guard.name, requestId: context.requestId });
    const result = await runGuard(guard, event, {
      runtime,
      oss: factory.oss,
      ram: factory.ram,
      region: context.region,
      dispatch,
      log,
      invocationId: context.requestId,
    });
    if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
    return result;
  };
}
