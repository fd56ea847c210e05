import { ROBOT_MESSAGES_PER_MINUTE } from '../alerts/dingtalk';
import { type AlertDispatcher, createAlertDispatcher, type SharedBudgetFor } from '../alerts/dispatch';
import { OssWindowBudget } from '../alerts/shared-budget';
import { CallLog } from '../clients/calllog';
import type { KmsSecrets } from '../clients/kms';
import type { OrganizationApi } from '../clients/organization-api';
import { type CloudCredentials, OssClientFactory, OssGateway } from '../clients/oss';
import type { RamApi } from '../clients/ram';
import { type Endpoints, loadRuntime, type Runtime } from '../config/load';
import { KmsSecretCache, kmsSecretNames, previousRuntimeAuditKey, runtimeAuditKey } from '../config/secrets';
import { GuardError } from '../errors';
import { createLogger, type Logger } from '../log';
import { MemberAccounts } from './accounts';
import type { InvocationDeps, InvocationResult } from './invocation';

/** The FC `context` fields ossguard uses (F-FC-CONTEXT-FIELDS). */
export interface FcContext {
  requestId: string;
  region: string;
  accountId?: string;
  credentials: CloudCredentials;
  /** The function's settings; the sweeper reads its timeout. */
  function?: { name?: string; timeout?: number };
}

/**
 * SDK clients beyond OSS, passed in by the function's entry point so that a bundle only carries the SDKs
 * its guard uses.
 */
export interface HandlerClients {
  ram?: (credentials: CloudCredentials, endpoints: Endpoints) => RamApi;
}

export type FcHandler<Result = InvocationResult> = (
  event: Buffer | string,
  context: FcContext,
) => Promise<Result>;

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

/** What the handler gives a source for one invocation: the role's clients and the pipeline's dependencies. */
export interface SourceEnv {
  runtime: Runtime;
  credentials: CloudCredentials;
  /** Pipeline dependencies; `invocationId` is the FC request id, `log` is bound to the source's name. */
  deps: InvocationDeps;
  log: Logger;
}

/**
 * Where a function's changes come from (EventBridge or LookupEvents bodies, a log-trigger range, the sweep's
 * timer): a small adapter that turns the FC event into typed changes and runs them through the pipeline.
 */
export interface ChangeSource<Result> {
  /** Names the function in its logs. */
  name: string;
  run(event: Buffer | string, context: FcContext, env: SourceEnv): Promise<Result>;
}

/**
 * The one FC handler factory: every function is a source adapter behind it. The config is loaded and
 * validated when the module loads (cold start), so a misconfigured function fails at init. Credentials are
 * the STS credentials FC passes for the function's role: ossguard never holds an AccessKey of its own.
 */
export function createFunctionHandler<Result>(
  source: ChangeSource<Result>,
  clients: HandlerClients = {},
  runtime: Runtime = loadRuntime(),
): FcHandler<Result> {
  // One per function: guards sharing a function share its channels' rate limits (DingTalk's per robot).
  // With secrets in KMS, built once they are read (the first invocation has the role's credentials).
  // DingTalk's budget is shared by every instance through the audit bucket, with the clients of the latest
  // invocation (any instance's role credentials will do).
  // Its windows are keyed with the audit key of the runtime the dispatcher was built with (read from KMS with
  // the other secrets), so that a writer of the audit bucket cannot fill them ahead of time, and with its
  // previous version too while there is one, so that instances on either side of a rotation share one budget.
  let budgetGateway: OssGateway | undefined;
  const sharedBudget =
    (live: Runtime): SharedBudgetFor =>
    (webhook) => {
      const key = runtimeAuditKey(live);
      const previousKey = previousRuntimeAuditKey(live);
      return (
        budgetGateway &&
        new OssWindowBudget({
          gateway: budgetGateway,
          bucket: runtime.config.audit.bucket,
          prefix: runtime.config.audit.prefix,
          webhook,
          ...sharedDingTalkWindow(runtime.config.alerts.dingtalk?.messagesPerMinute),
          ...(key ? { key } : {}),
          ...(previousKey ? { previousKey } : {}),
        })
      );
    };
  const kmsCache = new KmsSecretCache(kmsSecretNames(runtime.config));
  let current: { runtime: Runtime; dispatch: AlertDispatcher; values?: object } | undefined =
    kmsCache.configured
      ? undefined
      : { runtime, dispatch: createAlertDispatcher(runtime, sharedBudget(runtime)) };
  let factory: { accessKeyId: string; oss: OssClientFactory; ram?: RamApi } | undefined;
  // STS and Resource Directory with the function role's credentials of the latest invocation.
  let latest: CloudCredentials | undefined;
  let organizationApi: { accessKeyId: string; api: OrganizationApi } | undefined;
  const api = (): OrganizationApi => {
    const credentials = latest as CloudCredentials;
    if (organizationApi?.accessKeyId !== credentials.accessKeyId)
      organizationApi = {
        accessKeyId: credentials.accessKeyId,
        api: organizationClient(credentials, runtime.endpoints),
      };
    return organizationApi.api;
  };
  let accounts: MemberAccounts | undefined;

  return async (event, context) => {
    const credentials = roleCredentials(context);
    latest = credentials;
    accounts ??= new MemberAccounts({
      organization: runtime.config.organization,
      homeAccountId: context.accountId,
      api,
      clientsFor: (session) => ({
        oss: new OssClientFactory({
          credentials: session,
          ...(runtime.endpoints.oss ? { endpoint: runtime.endpoints.oss } : {}),
        }),
        ...(clients.ram ? { ram: clients.ram(session, runtime.endpoints) } : {}),
      }),
    });
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
      budgetGateway = new OssGateway(
        factory.oss,
        runtime.config.audit.region ?? context.region,
        new CallLog(),
      );
    }
    const log = createLogger({ guard: source.name, requestId: context.requestId });
    if (kmsCache.configured) {
      const values = await kmsCache.get(
        () => kmsClient(credentials, runtime.config.secrets?.region ?? context.region, runtime.endpoints.kms),
        (error) =>
          log.warn('KMS secrets could not be refreshed; keeping the values read before', {
            error: String(error),
          }),
      );
      if (current?.values !== values) {
        const withSecrets = {
          ...runtime,
          secrets: { ...runtime.secrets, ...values },
          secretVersions: kmsCache.versions,
          ...(kmsCache.previousAuditKey ? { previousAuditKey: kmsCache.previousAuditKey } : {}),
        };
        current = {
          runtime: withSecrets,
          dispatch: createAlertDispatcher(withSecrets, sharedBudget(withSecrets)),
          values,
        };
      }
    }
    const { runtime: live, dispatch } = current as NonNullable<typeof current>;
    const deps: InvocationDeps = {
      runtime: live,
      oss: factory.oss,
      ...(factory.ram ? { ram: factory.ram } : {}),
      region: context.region,
      ...(context.accountId ? { accountId: context.accountId } : {}),
      accounts,
      dispatch,
      log,
      invocationId: context.requestId,
    };
    return source.run(event, context, { runtime: live, credentials, deps, log });
  };
}

/**
 * The KMS client, loaded only where the config names secrets: a CommonJS require, which the function bundles
 * leave to a file beside them (scripts/bundle-plugins.mjs, besideBundle), so a function without KMS neither
 * carries nor evaluates openapi-core.
 */
function kmsClient(credentials: CloudCredentials, region: string, endpoint: string | undefined): KmsSecrets {
  const { kmsSecrets } = require('../clients/kms') as typeof import('../clients/kms');
  return kmsSecrets(credentials, region, endpoint);
}

/** STS and Resource Directory, loaded (like the KMS client) only where the config has an organization. */
function organizationClient(credentials: CloudCredentials, endpoints: Endpoints): OrganizationApi {
  const { organizationApi } =
    require('../clients/organization-api') as typeof import('../clients/organization-api');
  return organizationApi(credentials, endpoints);
}

/**
 * Half the robot's messages per minute (20, F-DINGTALK-RATE-LIMIT, unless `alerts.dingtalk.messagesPerMinute`
 * says otherwise) per fixed minute: any 60 s overlaps at most two such windows, so all instances together stay
 * within the robot's limit.
 */
const sharedDingTalkWindow = (perMinute = ROBOT_MESSAGES_PER_MINUTE) => ({
  limit: Math.floor(perMinute / 2),
  windowMs: 60_000,
});

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
