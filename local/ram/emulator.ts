import { isAllowed, parseRamPolicy, type RamStatement } from '../../shared/deployment/ram-policy';
import { buildRecord, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { AcsError, asAcsError } from '../acs/errors';
import { type PopCall, PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { EventSink } from '../eventbus/bus';
import type { Caller, IdentityStore } from '../identity';
import { withRecipient } from '../recipient';
import {
  type ActionResult,
  type ActionTable,
  mergeResources,
  type Params,
  type RamAction,
  type Resources,
} from './actions';
import { IMS, RAM, type RamApi } from './apis';
import { RoleCatalog } from './catalog';
import { RAM_ERRORS } from './errors';
import { GROUP_MEMBERSHIP_ACTIONS, POLICY_ACTIONS } from './policies';
import { ROLE_ACTIONS } from './roles';
import { USER_ACTIONS, USER_TAG_ACTIONS } from './users';

export interface RamEmulatorOptions extends PopEmulatorOptions {
  identities: IdentityStore;
  /** Where write calls are published as ActionTrail events; none are published without it. */
  events?: EventSink;
  /**
   * RAM authorisation after authentication (`ram:<Action>` for RAM and IMS alike, on the ARN of the user,
   * role or policy the call names): false answers NoPermission. Without it every caller may do everything.
   */
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
}

/** RAM and IMS are global; their events are recorded in cn-shanghai (F-ACTIONTRAIL-GLOBAL-REGION). */
const EVENT_REGION = 'cn-shanghai';

const endpointOf = (api: RamApi, actions: ActionTable) =>
  [api.version, { api, actions: new Map(Object.entries(actions)) }] as const;

/** Adding an operation is one entry in one of these tables. */
const APIS = new Map([
  endpointOf(RAM, { ...USER_ACTIONS, ...ROLE_ACTIONS, ...POLICY_ACTIONS }),
  endpointOf(IMS, {
    ...USER_ACTIONS,
    ...USER_TAG_ACTIONS,
    ...GROUP_MEMBERSHIP_ACTIONS,
  }),
]);

/** Never recorded, as ActionTrail keeps no secrets a caller sends. */
const SECRET_PARAMETERS = new Set(['Password']);

/** The resources a call's parameters name, so failed calls are recorded against them too. */
function namedResources(api: RamApi, params: Params): Resources {
  const resources: Resources = {};
  const add = (type: string, name: string | undefined) => {
    if (name) resources[type] = [...(resources[type] ?? []), name];
  };
  add('ACS::RAM::User', params[api.userParam]);
  add('ACS::RAM::AccessKey', params.UserAccessKeyId);
  // UNVERIFIED: the resource types ActionTrail uses for roles and policies.
  add('ACS::RAM::Role', params.RoleName);
  add('ACS::RAM::Group', params.GroupName);
  add('ACS::RAM::Policy', params.PolicyName);
  return resources;
}

/**
 * `acs:ram:*:{account}:role/{name}`, `…:group/{name}`, `…:policy/{name}` or `…:user/{name}`; `user/*` when no
 * user is named.
 */
function resourceOf(api: RamApi, params: Params, identities: IdentityStore): string {
  const arn = (path: string) => `acs:ram:*:${identities.accountId}:${path}`;
  if (params.RoleName) return arn(`role/${params.RoleName}`);
  if (params.GroupName) return arn(`group/${params.GroupName}`);
  if (params.PolicyName) return arn(`policy/${params.PolicyName}`);
  const named = params[api.userParam];
  const keyId = params.UserAccessKeyId;
  const owner = named
    ? api.userNameOf(named, identities)
    : [...identities.users.values()].find((u) => u.accessKeys.some((k) => k.accessKeyId === keyId))?.userName;
  return arn(`user/${owner ?? '*'}`);
}

/**
 * RAM (2015-05-01) and IMS (2019-08-15) on one endpoint, routed by `x-acs-version`, over the identity store:
 * a key created here signs requests to every emulator, a key disabled here stops working everywhere. Every
 * write, successful or refused after authentication, is published as one ActionTrail event.
 */
export class RamEmulator extends PopEmulator {
  /** Each account's roles and policies; a call acts in the account of the key that signed it. */
  private readonly catalogs = new Map<string, RoleCatalog>();

  constructor(private readonly options: RamEmulatorOptions) {
    super(
      {
        versions: [...APIS.keys()],
        product: (version) => APIS.get(version)?.api.serviceName ?? RAM.serviceName,
        hostId: (version) => APIS.get(version)?.api.host ?? RAM.host,
      },
      options,
    );
  }

  /** The RAM catalog of an account (created empty on first use). */
  catalogOf(accountId: string): RoleCatalog {
    let catalog = this.catalogs.get(accountId);
    if (!catalog) {
      catalog = new RoleCatalog();
      this.catalogs.set(accountId, catalog);
    }
    return catalog;
  }

  /**
   * What a role's attached policies allow: the default versions of its custom policies, and
   * AdministratorAccess as everything. Other system policies are not modelled, so they allow nothing here.
   */
  roleAllows(accountId: string, roleName: string, action: string, resource: string): boolean {
    const catalog = this.catalogOf(accountId);
    const statements = (catalog.attachments.get(roleName) ?? []).flatMap((attached): RamStatement[] => {
      if (attached.policyType === 'System') {
        return attached.policyName === 'AdministratorAccess'
          ? [{ effect: 'Allow', actions: ['*'], resources: ['*'] }]
          : [];
      }
      const policy = catalog.policies.get(attached.policyName);
      const version = policy?.versions.find((v) => v.versionId === policy.defaultVersion);
      return version ? parseRamPolicy(version.document) : [];
    });
    return isAllowed(statements, action, resource);
  }

  /** The default account's catalog: what the setup helpers below write. */
  private get catalog(): RoleCatalog {
    return this.catalogOf(this.options.identities.accountId);
  }

  /** The store of the account a call acts in: the signer's. */
  private identitiesOf(caller: Caller): IdentityStore {
    return this.options.identities.storeOf(caller.accountId) ?? this.options.identities;
  }

  /**
   * What fc3 does when a log trigger names no `invocationRole` (F-FC-LOGTRIGGER-ROLE): if AliyunLogETLRole is
   * missing, create it trusted by log.aliyuncs.com and attach the system policy AliyunLogETLRolePolicy.
   */
  ensureLogTriggerRole(): void {
    this.ensureRole(
      'AliyunLogETLRole',
      JSON.stringify({
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['log.aliyuncs.com'] } },
        ],
        Version: '1',
      }),
      'Log Service ETL role, created by fc3 for a log trigger',
      [{ policyType: 'System', policyName: 'AliyunLogETLRolePolicy' }],
    );
  }

  /**
   * Creates a custom policy with one version and attaches it to an existing role, unless a policy of that
   * name exists (setup, not a call): what bootstrap leaves for the function role.
   */
  ensureCustomPolicy(policyName: string, document: string, description: string, roleName: string): void {
    if (this.catalog.policies.has(policyName)) return;
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.catalog.policies.set(policyName, {
      policyName,
      description,
      createDate: created,
      updateDate: created,
      defaultVersion: 'v1',
      versions: [{ versionId: 'v1', document, createDate: created }],
      nextVersion: 2,
    });
    const attached = this.catalog.attachments.get(roleName) ?? [];
    this.catalog.attachments.set(roleName, [
      ...attached,
      { policyType: 'Custom', policyName, attachDate: created },
    ]);
  }

  /** Creates a role with its trust policy and attachments, unless one of that name exists (setup, not a call). */
  ensureRole(
    roleName: string,
    trust: string,
    description: string,
    policies: ReadonlyArray<{ policyType: 'System' | 'Custom'; policyName: string }> = [],
  ): void {
    if (this.options.identities.roles.has(roleName) && this.catalog.roles.has(roleName)) return;
    this.options.identities.createRole(roleName);
    const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.catalog.roles.set(roleName, {
      assumeRolePolicyDocument: trust,
      description,
      maxSessionDuration: 3600,
      createDate: created,
      updateDate: created,
    });
    this.catalog.attachments.set(
      roleName,
      policies.map((p) => ({ ...p, attachDate: created })),
    );
  }

  protected route(version: string, action: string): PopHandler | undefined {
    const entry = APIS.get(version);
    const spec = entry?.actions.get(action);
    if (!entry || !spec) return undefined;
    return (call) => this.perform(entry.api, spec, call);
  }

  private perform(api: RamApi, spec: RamAction, call: PopCall): Record<string, unknown> {
    const identities = this.identitiesOf(call.caller);
    const ctx = {
      api,
      params: call.params,
      caller: call.caller,
      identities,
      catalog: this.catalogOf(identities.accountId),
    };
    let result: ActionResult;
    try {
      const action = `ram:${call.action}`;
      const resource = resourceOf(api, call.params, identities);
      if (this.options.authorize && !this.options.authorize(call.caller, action, resource)) {
        throw new AcsError(RAM_ERRORS.NoPermission, `Resource: ${resource} Action: ${action}`);
      }
      result = spec.run(ctx);
    } catch (error) {
      const failure = asAcsError(error);
      if (spec.write) this.record(api, call, { failure });
      throw failure;
    }
    if (spec.write) this.record(api, call, { result });
    return result.body;
  }

  private record(
    api: RamApi,
    call: PopCall,
    outcome: { result: ActionResult } | { failure: AcsError },
  ): void {
    if (!this.options.events) return;
    const succeeded = 'result' in outcome;
    // RAM and IMS act on the caller's own account: it is the recipient (F-ORG-TRAIL-RECIPIENT).
    this.options.events.publish(
      wrapCloudEvent(
        withRecipient(
          buildRecord({
            caller: call.caller,
            eventName: call.action,
            serviceName: api.serviceName,
            eventSource: api.eventSource,
            region: EVENT_REGION,
            requestId: call.requestId,
            sourceIp: call.sourceIp,
            userAgent: call.userAgent,
            apiVersion: api.version,
            isGlobal: true,
            requestParameters: Object.fromEntries(
              Object.entries(call.params).filter(([name]) => !SECRET_PARAMETERS.has(name)),
            ),
            referencedResources: mergeResources(
              namedResources(api, call.params),
              succeeded ? outcome.result.resources : undefined,
            ),
            ...(succeeded
              ? { responseElements: { RequestId: call.requestId, ...outcome.result.body } }
              : { errorCode: outcome.failure.code, errorMessage: outcome.failure.message }),
          }),
          call.caller.accountId,
        ),
      ),
    );
  }
}
