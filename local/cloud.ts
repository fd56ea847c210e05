import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import OSS from 'ali-oss';
import { stringify as toYaml } from 'yaml';
import rolePolicy from '../deploy/role-policy.json';
import trustPolicy from '../deploy/trust-policy.json';
import { DEFAULT_AUDIT_PREFIX } from '../shared/config';
import { SECRET_NAMES, type SecretName } from '../shared/config/secrets';
import {
  DEFAULT_MEMBER_ROLE,
  POLICY_NAME,
  ROLE_DESCRIPTION,
  ROLE_NAME,
  TRIGGER_LOG_LOGSTORE,
} from '../shared/deployment/names';
import { isAllowed, parseRamPolicy, type RamStatement } from '../shared/deployment/ram-policy';
import {
  type Organization,
  renderRolePolicy,
  trustPolicy as trusting,
} from '../shared/deployment/role-policy';
import { type FunctionSpec, type FunctionTrigger, loadFunctions } from '../shared/deployment/syaml';
import { type CloudEvent, type EmittedRecord, wrapCloudEvent } from '../shared/events/actiontrail-event';
import { ActionTrailEmulator } from './actiontrail-api/emulator';
import { TrailCatalog } from './actiontrail-api/trails';
import { DingTalkSink } from './dingtalk/sink';
import { type EventSink, LocalEventBus } from './eventbus/bus';
import { LogTriggerRunner } from './eventbus/log-trigger';
import { FcApiEmulator } from './fc/api';
import { FcHost } from './fc/host';
import { type AccessKey, type Caller, IdentityStore } from './identity';
import { KmsEmulator } from './kms/emulator';
import { OssEmulator, type OssEmulatorOptions } from './oss';
import { PUBLISHED_OSS_DATA_EVENTS } from './oss/trail';
import { RamEmulator, type RamEmulatorOptions } from './ram/emulator';
import { consoleSigninRecord } from './ram/signin';
import { onRecipientBus, recipientOf } from './recipient';
import {
  type DirectoryAccount,
  RESOURCE_DIRECTORY_ID,
  ResourceManagerEmulator,
  type ResourceManagerEmulatorOptions,
} from './resourcemanager/emulator';
import { SasEmulator } from './sas/emulator';
import { SlsEmulator } from './sls/emulator';
import { PERMANENT_TTL } from './sls/management';
import { TRAIL_TOPIC, trailLog } from './sls/trail';
import { LocalSmtpServer } from './smtp/server';
import { StsEmulator, type StsEmulatorOptions, type TrustedRole } from './sts/emulator';

/**
 * The function role's policies as `ossguard bootstrap` sends them: the same files (deploy/*.json), read as
 * data because the local cloud imports no deploy/ code.
 */
const ROLE_POLICY_TEMPLATE = JSON.stringify(rolePolicy, null, 2);
const TRUST_POLICY = JSON.stringify(trustPolicy, null, 2);

/** ossguard's function role in the local account; its sessions are what FC hands the functions. */
export const FUNCTION_ROLE = ROLE_NAME;
/**
 * A role of account A for the people who run the CLI against the members, trusted by A's account: the local
 * cloud's administrator key is A's root, which may assume no role (F-STS-ASSUMEROLE), so `--local` commands
 * reach the members' operator roles with a session of this one (`bootstrap --account … --operator` with it).
 */
export const LOCAL_OPERATOR_ROLE = 'ossguard-local-operator';
const LOCAL_OPERATOR_SESSION = 'local-operator';
export const AUDIT_BUCKET = 'ossguard-audit';
/** The trail's SLS project and logstore (ActionTrail names it `actiontrail_<trail>`), as s.yaml defaults them. */
export const TRAIL_PROJECT = 'ossguard-trail';
export const TRAIL_LOGSTORE = 'actiontrail_ossguard';
/**
 * The member accounts beside the default one (account A, `identities`): each with its own root key, RAM and
 * buckets. A is the Resource Directory's management account; B and C are its members.
 */
export const MEMBER_ACCOUNTS = [
  // B was created in the directory, C was an existing account invited into it (F-RD-LISTACCOUNTS).
  { accountId: '2234567890123456', displayName: 'member-b', type: 'ResourceAccount', joinMethod: 'created' },
  { accountId: '3234567890123456', displayName: 'member-c', type: 'CloudAccount', joinMethod: 'invited' },
] as const;
/**
 * Account A as the directory lists it. UNVERIFIED (F-RD-LISTACCOUNTS): that the management account is listed
 * too, and with these fields.
 */
const MANAGEMENT_ACCOUNT = {
  displayName: 'management',
  type: 'CloudAccount',
  joinMethod: 'invited',
} as const;
const DINGTALK_TOKEN = 'ossguard-local';
const DINGTALK_SECRET = 'SEC-ossguard-local-robot-secret';

export type ConfigPatch = Record<string, unknown>;

export interface LocalCloudOptions {
  /** The project's s.yaml: its triggers' filters decide which function gets which event. */
  sYaml?: string;
  /** Merged over the local base config (objects merge, arrays and scalars replace). */
  config?: ConfigPatch;
  /** Port for the OSS endpoint (the others take free ports). 0: any free port. */
  ossPort?: number;
  host?: string;
  /** Added to every emulated response, for benchmarks. */
  latencyMs?: number;
  /** EventBridge-style redelivery of failed invocations. */
  maxRetries?: number;
  retryDelayMs?: number;
  /** Where the ready file and the functions' config are written. */
  stateDir?: string;
  /** Needed when this module runs bundled (the CLI): paths that `import.meta.url` would otherwise give. */
  workerScript?: string;
  sBin?: string;
  /** Fault injection for OSS calls (`FaultInjector.oss` in faults.ts). */
  intercept?: OssEmulatorOptions['intercept'];
  /** Fault injection for RAM/IMS calls (`FaultInjector.ram`). */
  ramIntercept?: RamEmulatorOptions['intercept'];
  /** Fault injection for Resource Directory calls (ListAccounts). */
  resourceManagerIntercept?: ResourceManagerEmulatorOptions['intercept'];
  /** Fault injection for STS calls (AssumeRole, GetCallerIdentity). */
  stsIntercept?: StsEmulatorOptions['intercept'];
  /** How long a log trigger's range collects logs locally, instead of its `triggerInterval`. Default 100 ms. */
  logTriggerIntervalMs?: number;
  /** Fault injection for SLS PullLogs calls. */
  slsIntercept?: ConstructorParameters<typeof SlsEmulator>[0]['intercept'];
  /** What the local SLS does with a PullLogs that asks for JSON (`pullLogsJson` in local/sls/emulator.ts). */
  slsPullLogsJson?: ConstructorParameters<typeof SlsEmulator>[0]['pullLogsJson'];
  /** FC instances per function, like FC scaling out under load. Default 1. */
  maxInstances?: number;
  /**
   * LookupEvents calls each caller may make per second: the documented 2 (F-ACTIONTRAIL-LOOKUP-RATE) unless a
   * test raises it. `--local` commands pace to what readyInfo advertises, so that only the tests of the pacer
   * itself wait on the real limit (test/integration/replay-lookup.test.ts).
   */
  lookupCallsPerSecond?: number;
  /**
   * The function role's permission policy, enforced on every OSS and RAM call the functions make. Default:
   * the repo's deploy/role-policy.json; tests pass an edited copy to see what a missing permission breaks.
   */
  rolePolicy?: string;
  /**
   * A new account: no trail, SLS project or logstores, no audit bucket, and nothing deployed. `ossguard
   * bootstrap`, `deploy()` (what `s deploy` does, as modelled here) and `ossguard audit lock` provision it.
   * Default: an account where all of that has been done (the trail and its logstore exist at start).
   */
  bare?: boolean;
  /**
   * The provisioned account with `s deploy` not run (`ossguard local --no-guards`): FC has no functions, so
   * OSS, RAM, the trail and LookupEvents answer as usual and nothing reacts; `deploy()` brings the guards.
   */
  noGuards?: boolean;
  /**
   * Whether management events reach the EventBridge bus (the fast path). Off, the trail's logstore is the
   * only feed, as in a region where OSS does not publish to EventBridge (F-EVENTBRIDGE-OSS-REGIONS).
   */
  eventBridge?: boolean;
  /** How the trail records object ACL changes, where the documentation leaves it open. */
  trailModel?: TrailModel;
  /**
   * Keep ossguard's secrets (the DingTalk robot's secret, the audit key) in the local KMS, named by the
   * config's `secrets` block, instead of in the functions' environment.
   */
  kmsSecrets?: boolean;
  /**
   * Provision the feed's trail as the Resource Directory's multi-account trail (`IsOrganizationTrail`), so
   * its logstore takes the member accounts' records too. Default: a single-account trail of account A.
   */
  organizationTrail?: boolean;
  /**
   * What the local robot takes a minute, and the config tells the functions (`alerts.dingtalk.messagesPerMinute`).
   * Default: DingTalk's 20 (F-DINGTALK-RATE-LIMIT). Tests about something else than the robot's budget raise it,
   * so that their alerts never wait for the next minute's window.
   */
  dingtalkMessagesPerMinute?: number;
}

/** The KMS secret names the local cloud uses with `kmsSecrets`. */
export const LOCAL_SECRET_NAMES = {
  dingtalkSecret: 'ossguard/dingtalk-secret',
  auditKey: 'ossguard/audit-key',
  smtpPassword: 'ossguard/smtp-password',
} as const;

/** The user the functions sign in to the local SMTP server as, when it asks for AUTH (`kmsSecrets`). */
export const LOCAL_SMTP_USER = 'ossguard@local.test';
/** Its password, which sits in the local KMS only: a mail that arrives proves the function read it from there. */
const LOCAL_SMTP_PASSWORD = 'local-smtp-password-not-a-secret';

/** The local audit key: records written here are keyed, so `audit verify --local` checks their MACs. */
const LOCAL_AUDIT_KEY = 'local-audit-key-not-a-secret';

/**
 * The plausible answers to what a trail records of object ACL changes (F-ACTIONTRAIL-OSS-DATA-EVENTS,
 * F-ACTIONTRAIL-OSS-ACL-HEADER): ossguard must leave no object public under any of them.
 */
export interface TrailModel {
  /** PutObjectAcl as a data event (logstore only) or as a management event (logstore and EventBridge). */
  objectAclCategory?: 'data' | 'management';
  /** Whether an object write's record shows the `x-oss-object-acl` header the caller sent. */
  showsObjectAclHeader?: boolean;
  /**
   * Which object-level calls are recorded as data events: `all` (the default), or only those the published
   * list names (`published`, PUBLISHED_OSS_DATA_EVENTS in local/oss/trail.ts): no CompleteMultipartUpload,
   * no PutSymlink. PutObjectAcl follows `objectAclCategory` either way.
   */
  dataEvents?: 'all' | 'published';
}

/**
 * A trigger as FC shows it once switched off: `enabled` false, and `enable` false in a log trigger's config
 * (F-FC-TRIGGER-ENABLE).
 */
function disabled(trigger: FunctionTrigger): FunctionTrigger {
  if (trigger.type === 'eventbridge' || trigger.type === 'timer') return { ...trigger, enabled: false };
  if (trigger.type === 'log')
    return { ...trigger, enabled: false, config: { ...trigger.config, enable: false } };
  return trigger;
}

/** An OSS data event in the trail logstore: the record, and the shard and position of its log group. */
export interface TrailDataEvent {
  record: EmittedRecord;
  shardId: number;
  position: number;
}

/** One account of the local cloud. */
export interface LocalAccount {
  accountId: string;
  displayName: string;
  /** As the Resource Directory lists it (F-RD-LISTACCOUNTS). */
  type: DirectoryAccount['type'];
  joinMethod: DirectoryAccount['joinMethod'];
  /** The account's principals and keys (its root key is `identities.rootKey`). */
  identities: IdentityStore;
  /** `management` for account A (the Resource Directory's management account), `member` for the others. */
  role: 'management' | 'member';
}

export interface LocalEndpoints {
  oss: string;
  ram: string;
  actiontrail: string;
  /** Simple Log Service: the trail's logstore, read by the log-triggered function with PullLogs. */
  sls: string;
  /** Security Center's AccessKey leak detection (DescribeAccesskeyLeakList / DescribeAccessKeyLeakDetail). */
  sas: string;
  dingtalk: string;
  smtp: string;
  /** The FC 3.0 API (GetFunction, ListTriggers, InvokeFunction), as `ossguard verify` calls it. */
  fc: string;
  /** KMS Secrets Manager (GetSecretValue, CreateSecret). */
  kms: string;
  /** STS (AssumeRole across the local accounts, GetCallerIdentity). */
  sts: string;
  /** Resource Manager: the Resource Directory (ListAccounts, GetResourceDirectory). */
  resourcemanager: string;
}

function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    const bothObjects =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current);
    out[key] = bothObjects
      ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

/**
 * The local cloud: an emulated account (OSS, RAM/IMS, ActionTrail LookupEvents), the EventBridge bus with
 * the s.yaml filters, FC running the esbuild bundles in fresh processes, a DingTalk robot and an SMTP
 * server. Everything crosses HTTP; nothing is stubbed.
 */
export class LocalCloud {
  /** Account A's identities: the default account every single-account test acts in. */
  readonly identities = new IdentityStore();
  /** Every account, A first, then the members of MEMBER_ACCOUNTS. */
  readonly accounts: readonly LocalAccount[];
  readonly oss: OssEmulator;
  readonly ram: RamEmulator;
  readonly actiontrail: ActionTrailEmulator;
  readonly sls: SlsEmulator;
  readonly kms: KmsEmulator;
  /** STS: AssumeRole into any account's role its trust policy allows, GetCallerIdentity. */
  readonly sts: StsEmulator;
  /** The Resource Directory of the accounts, A its management account. */
  readonly resourceManager: ResourceManagerEmulator;
  /** Security Center: a test plants leak findings with `sas.plant`. */
  readonly sas: SasEmulator;
  /** The s.yaml's log triggers on the trail logstore, fed by the OSS emulator's data events. */
  readonly logTriggers: LogTriggerRunner;
  readonly dingtalk: DingTalkSink;
  /** With `kmsSecrets`, it takes mail only after AUTH with the password held in the local KMS. */
  readonly smtp: LocalSmtpServer;
  readonly fc: FcHost;
  readonly bus: LocalEventBus;
  readonly fcApi: FcApiEmulator;
  readonly region = 'cn-hangzhou';
  readonly auditBucket = AUDIT_BUCKET;
  endpoints!: LocalEndpoints;
  configFile = '';
  private config: Record<string, unknown> = {};
  private rolePolicy: RamStatement[] = [];
  private rolePolicyDocument = '';
  private readonly options: LocalCloudOptions;
  private readonly sink: { target?: EventSink } = {};
  private readonly dataEvents: TrailDataEvent[] = [];
  private readonly managementTrail: TrailDataEvent[] = [];
  /** The account's ActionTrail trails: they decide what reaches which logstore (`actiontrail_<trail>`). */
  readonly trails: TrailCatalog;
  /**
   * The members' trails. The local SLS holds account A's projects only, so a member's CreateTrail finds no
   * project to deliver to.
   */
  private readonly memberTrails: Map<string, TrailCatalog>;
  /** Whether `s deploy` has run: before it, FC has no functions and no trigger delivers anything. */
  private deployed: boolean;
  /** `<function>/<trigger>` of triggers switched off since the deploy. */
  private readonly disabledTriggers = new Set<string>();
  /** Every management event, for LookupEvents, whether or not EventBridge carried it. */
  private readonly managementEvents: EmittedRecord[] = [];

  private constructor(options: LocalCloudOptions) {
    this.options = options;
    this.accounts = [
      {
        ...MANAGEMENT_ACCOUNT,
        accountId: this.identities.accountId,
        identities: this.identities,
        role: 'management',
      },
      ...MEMBER_ACCOUNTS.map((member): LocalAccount => {
        const identities = new IdentityStore(member.accountId);
        this.identities.link(identities);
        return { ...member, identities, role: 'member' };
      }),
    ];
    this.dingtalk = new DingTalkSink({
      robots: { [DINGTALK_TOKEN]: { secret: DINGTALK_SECRET } },
      ...(options.dingtalkMessagesPerMinute ? { messagesPerMinute: options.dingtalkMessagesPerMinute } : {}),
    });
    const events: EventSink = { publish: (event: CloudEvent) => this.managementEvent(event) };
    const latency = options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {};
    this.oss = new OssEmulator({
      identities: this.identities,
      events,
      region: this.region,
      ...latency,
      ...(options.intercept ? { intercept: options.intercept } : {}),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
      // Object-level calls are OSS data events: the trail delivers them to its logstore, never to the bus
      // (F-ACTIONTRAIL-DATA-EVENTS-SLS-ONLY).
      dataEvents: (record: EmittedRecord) => this.dataEvent(record),
    });
    this.sls = new SlsEmulator({
      identities: this.identities,
      region: this.region,
      ...latency,
      ...(options.slsIntercept ? { intercept: options.slsIntercept } : {}),
      ...(options.slsPullLogsJson ? { pullLogsJson: options.slsPullLogsJson } : {}),
      authorize: (caller, action, resource) => this.authorizeHome(caller, action, resource),
    });
    this.kms = new KmsEmulator({
      identities: this.identities,
      region: this.region,
      ...latency,
      authorize: (caller, action, resource) => this.authorizeHome(caller, action, resource),
    });
    if (options.kmsSecrets) {
      this.kms.putSecret(LOCAL_SECRET_NAMES.dingtalkSecret, DINGTALK_SECRET);
      this.kms.putSecret(LOCAL_SECRET_NAMES.auditKey, LOCAL_AUDIT_KEY);
      this.kms.putSecret(LOCAL_SECRET_NAMES.smtpPassword, LOCAL_SMTP_PASSWORD);
    }
    this.smtp = new LocalSmtpServer(
      options.kmsSecrets ? { auth: { user: LOCAL_SMTP_USER, password: LOCAL_SMTP_PASSWORD } } : {},
    );
    this.trails = new TrailCatalog(
      {
        region: this.region,
        hasProject: (project) => this.sls.store.hasProject(project),
        // ActionTrail creates the trail's logstore with permanent retention (F-SLS-TRAIL-LOGSTORE).
        createTrailLogstore: (project, logstore) =>
          this.sls.management.createLogstore(project, logstore, PERMANENT_TTL),
      },
      this.identities.accountId,
      // A manages the Resource Directory: its multi-account trail takes every account's records (F-ORG-TRAIL).
      {
        resourceDirectoryId: RESOURCE_DIRECTORY_ID,
        managementAccountId: this.identities.accountId,
        accountIds: () => this.accounts.map((account) => account.accountId),
      },
    );
    this.memberTrails = new Map(
      MEMBER_ACCOUNTS.map(({ accountId }) => [
        accountId,
        new TrailCatalog(
          { region: this.region, hasProject: () => false, createTrailLogstore: () => undefined },
          accountId,
        ),
      ]),
    );
    this.deployed = !options.bare && !options.noGuards;
    if (!options.bare) this.provisionFeed();
    this.ram = new RamEmulator({
      identities: this.identities,
      events,
      ...latency,
      ...(options.ramIntercept ? { intercept: options.ramIntercept } : {}),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
    });
    if (!options.bare) {
      // The roles bootstrap and `s deploy` would have left: the function role (trust only; the local cloud
      // enforces its permission policy itself) and fc3's log trigger role.
      this.ram.ensureRole(FUNCTION_ROLE, TRUST_POLICY, ROLE_DESCRIPTION);
      this.ram.ensureRole(
        LOCAL_OPERATOR_ROLE,
        trusting([`acs:ram::${this.identities.accountId}:root`]),
        'people who run the ossguard CLI against the members',
      );
      this.ram.ensureLogTriggerRole();
    }
    this.fc = new FcHost({
      accountId: this.identities.accountId,
      credentialsFor: (fn) => this.functionCredentials(fn),
      ...(options.maxInstances ? { maxInstances: options.maxInstances } : {}),
      ...(options.workerScript ? { workerScript: options.workerScript } : {}),
    });
    this.bus = new LocalEventBus({
      invoker: this.fc,
      functions: () => this.functions(),
      maxRetries: options.maxRetries ?? 3,
      retryDelayMs: options.retryDelayMs ?? 200,
    });
    this.logTriggers = new LogTriggerRunner({
      store: this.sls.store,
      invoker: this.fc,
      functions: () => this.functions(),
      endpoint: () => this.endpoints.sls,
      intervalMs: options.logTriggerIntervalMs ?? 100,
      retryDelayMs: options.retryDelayMs ?? 200,
    });
    this.fcApi = new FcApiEmulator({
      identities: this.identities,
      functions: () => this.functions(),
      invoke: (fn, payload) => this.bus.invoke(fn, payload),
    });
    this.sas = new SasEmulator({
      identities: this.identities,
      ...latency,
      authorize: (caller, action, resource) => this.authorizeHome(caller, action, resource),
    });
    this.sts = new StsEmulator({
      identities: this.identities,
      roleOf: (accountId, roleName) => this.roleOf(accountId, roleName),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
      ...(options.stsIntercept ? { intercept: options.stsIntercept } : {}),
      ...latency,
    });
    this.resourceManager = new ResourceManagerEmulator({
      identities: this.identities,
      managementAccountId: this.identities.accountId,
      managementAccountName: MANAGEMENT_ACCOUNT.displayName,
      accounts: () =>
        this.accounts.map(({ accountId, displayName, type, joinMethod }) => ({
          accountId,
          displayName,
          type,
          joinMethod,
          status: joinMethod === 'created' ? 'CreateSuccess' : 'InviteSuccess',
        })),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
      ...(options.resourceManagerIntercept ? { intercept: options.resourceManagerIntercept } : {}),
      ...latency,
    });
    this.actiontrail = new ActionTrailEmulator({
      identities: this.identities,
      history: () => this.managementEvents,
      trails: (accountId) =>
        accountId === this.identities.accountId ? this.trails : this.memberTrails.get(accountId),
      ...(options.lookupCallsPerSecond ? { ratePerSecond: options.lookupCallsPerSecond } : {}),
      ...latency,
    });
  }

  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    await cloud.listen();
    return cloud;
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const [oss, ram, actiontrail, sls, sas, dingtalk, smtpPort, fc, kms, sts, resourcemanager] =
      await Promise.all([
        this.oss.listen(this.options.ossPort ?? 0, host),
        this.ram.listen(0, host),
        this.actiontrail.listen(0, host),
        this.sls.listen(0, host),
        this.sas.listen(0, host),
        this.dingtalk.listen(0, host),
        this.smtp.listen(0, host),
        this.fcApi.listen(0, host),
        this.kms.listen(0, host),
        this.sts.listen(0, host),
        this.resourceManager.listen(0, host),
      ]);
    this.endpoints = {
      oss,
      ram,
      actiontrail,
      sls,
      sas,
      dingtalk,
      smtp: `smtp://${host}:${smtpPort}`,
      fc,
      kms,
      sts,
      resourcemanager,
    };
    // The audit bucket exists before the bus is connected: creating it is setup, not a change to judge.
    if (!this.options.bare) await this.adminClient().putBucket(AUDIT_BUCKET);
    this.setConfig(this.options.config ?? {});
    if (!this.options.bare) {
      // Bootstrap's permission policy, as rendered for this account: `ossguard doctor` reads it.
      this.ram.ensureCustomPolicy(
        POLICY_NAME,
        this.rolePolicyDocument,
        `Permissions of the ${FUNCTION_ROLE} role`,
        FUNCTION_ROLE,
      );
    }
    this.sink.target = this.bus;
  }

  /**
   * A management event: the trail records it, and EventBridge carries it when the fast path is on. The bus
   * here is account A's, where ossguard is deployed: it gets only the events of A's resources; a member's
   * events go to that member's own bus, which nothing here subscribes to (F-ORG-EVENTBRIDGE-ACCOUNT).
   */
  private managementEvent(event: CloudEvent): void {
    // Before the functions are connected, changes are setup (the audit bucket), not changes to judge.
    if (!this.sink.target) return;
    this.managementEvents.push(event.data);
    const at = this.appendToTrail(event.data);
    if (at) this.managementTrail.push({ record: event.data, ...at });
    if (this.options.eventBridge === false) return;
    if (recipientOf(event.data) === this.identities.accountId)
      this.sink.target.publish(onRecipientBus(event));
  }

  /**
   * A console sign-in, as a person would make one: the trail records it, EventBridge does not carry it
   * (F-ACTIONTRAIL-SIGNIN-TRAIL-ONLY).
   */
  consoleSignin(
    who: { userName: string } | 'root',
    options: { mfa: boolean; sourceIp?: string },
  ): TrailDataEvent | undefined {
    const record = consoleSigninRecord(this.identities, who, {
      mfa: options.mfa,
      sourceIp: options.sourceIp ?? '127.0.0.1',
      region: this.region,
    });
    const at = this.appendToTrail(record);
    if (!at) return undefined;
    const delivered = { record, ...at };
    this.managementTrail.push(delivered);
    return delivered;
  }

  /** An OSS data event, recorded as the trail model says. */
  private dataEvent(record: EmittedRecord): void {
    const model = this.options.trailModel ?? {};
    if (
      model.dataEvents === 'published' &&
      record.eventName !== 'PutObjectAcl' &&
      !PUBLISHED_OSS_DATA_EVENTS.has(record.eventName)
    ) {
      return;
    }
    if (record.eventName === 'PutObjectAcl' && model.objectAclCategory === 'management') {
      this.managementEvent(wrapCloudEvent({ ...record, eventCategory: 'Management' }));
      return;
    }
    const shown =
      model.showsObjectAclHeader === false
        ? {
            ...record,
            requestParameters: Object.fromEntries(
              Object.entries(record.requestParameters).filter(([name]) => name !== 'x-oss-object-acl'),
            ),
          }
        : record;
    const at = this.appendToTrail(shown);
    if (at) this.dataEvents.push({ record: shown, ...at });
  }

  /** The trail's delivery to its logstore: every record, management and data events alike (F-SLS-TRAIL-EVENT-FIELD). */
  private appendToTrail(record: EmittedRecord): { shardId: number; position: number } | undefined {
    // Only trails that are logging deliver, data events only as their selector says, each to its own
    // logstore actiontrail_<trail>, and nothing to a logstore someone deleted (trails.ts `destinations`).
    let first: { shardId: number; position: number } | undefined;
    for (const { project, logstore } of this.trails.destinations(record)) {
      if (!this.sls.store.hasLogstore(project, logstore)) continue;
      const at = this.sls.store.append(project, logstore, {
        time: Math.floor(Date.now() / 1000),
        topic: TRAIL_TOPIC,
        source: '127.0.0.1',
        logs: [trailLog(record)],
      });
      first ??= at;
    }
    return first;
  }

  /**
   * The account as bootstrap leaves it: the trail project, the trail (all regions, all events, logging, OSS
   * data events selected: reads too, so the local logstore sees every object call), its logstore with the
   * config's TTL, and the trigger-log logstore.
   */
  private provisionFeed(): void {
    const trail = (this.options.config?.trail ?? {}) as {
      name?: string;
      project?: string;
      retentionDays?: number;
    };
    const name = trail.name ?? 'ossguard';
    const project = trail.project ?? TRAIL_PROJECT;
    this.sls.management.createProject(project, 'ossguard trail');
    this.trails.provision({
      name,
      project,
      selectors: JSON.stringify([{ ServiceName: 'Oss', ReadWriteType: 'All' }]),
      logging: true,
      ...(this.options.organizationTrail ? { isOrganizationTrail: true } : {}),
    });
    this.sls.management.setTtl(project, `actiontrail_${name}`, trail.retentionDays ?? 180);
    this.sls.management.createLogstore(project, TRIGGER_LOG_LOGSTORE, 30);
  }

  /**
   * What `s deploy` does here: FC gets the s.yaml's functions and triggers, and fc3 creates the log
   * trigger's invocation role AliyunLogETLRole (trusted by log.aliyuncs.com) when it is missing
   * (F-FC-LOGTRIGGER-ROLE). Like FC, it refuses functions whose role does not exist.
   */
  async deploy(): Promise<void> {
    if (!this.identities.roles.has(FUNCTION_ROLE)) {
      throw new Error(`s deploy: role ${FUNCTION_ROLE} does not exist (run ossguard bootstrap first)`);
    }
    this.deployed = true;
    this.disabledTriggers.clear();
    const specs = await this.functions();
    if (specs.some((fn) => fn.triggers.some((t) => t.type === 'log'))) this.ram.ensureLogTriggerRole();
  }

  /**
   * Changes that reach neither path while `work` runs, as with the EventBridge rule disabled and the trail
   * stopped: test and benchmark setup, or a change that only `replay` or the sweep can find. ActionTrail's
   * own event history (LookupEvents) still records them.
   */
  async unobserved<T>(work: () => Promise<T>): Promise<T> {
    const watch = this.stopWatching();
    try {
      return await work();
    } finally {
      watch();
    }
  }

  /** Like `unobserved`, for a test that decides later when ossguard may look again: call what it returns. */
  stopWatching(): () => void {
    const busWasPaused = this.bus.paused;
    this.bus.pause();
    const restartTrails = this.trails.suspendLogging();
    return () => {
      restartTrails();
      if (!busWasPaused) this.bus.resume();
    };
  }

  /** Switches a deployed trigger off or on, as the FC console or UpdateTrigger would. */
  setTriggerEnabled(functionName: string, triggerName: string, enabled: boolean): void {
    const key = `${functionName}/${triggerName}`;
    if (enabled) this.disabledTriggers.delete(key);
    else this.disabledTriggers.add(key);
  }

  /** The config the functions run with; changing it gives the functions fresh instances, as a redeploy would. */
  setConfig(patch: ConfigPatch): void {
    const base: Record<string, unknown> = {
      ownRoleName: FUNCTION_ROLE,
      // The local cloud is set up, and the tests look at it, with the account's own key: without this every
      // test would alert on root-key-in-use. Tests of that rule sign with another root key.
      exceptions: {
        accessKeys: [
          { accessKeyId: this.identities.rootKey.accessKeyId, reason: 'the local cloud operator key' },
        ],
      },
      audit: { bucket: AUDIT_BUCKET, prefix: DEFAULT_AUDIT_PREFIX },
      alerts: {
        dingtalk: {
          webhook: this.dingtalk.webhook(DINGTALK_TOKEN),
          ...(this.options.dingtalkMessagesPerMinute
            ? { messagesPerMinute: this.options.dingtalkMessagesPerMinute }
            : {}),
        },
        email: {
          host: '127.0.0.1',
          port: Number(new URL(this.endpoints.smtp).port),
          secure: false,
          from: 'ossguard@local.test',
          to: ['secops@local.test'],
          ...(this.options.kmsSecrets ? { user: LOCAL_SMTP_USER } : {}),
        },
      },
    };
    if (this.options.kmsSecrets) base.secrets = { ...LOCAL_SECRET_NAMES };
    this.config = merge(base, patch);
    const audit = this.config.audit as { bucket: string; prefix?: string };
    const secrets = (this.config.secrets ?? {}) as Partial<Record<SecretName, string>>;
    const secretNames = SECRET_NAMES.flatMap((name) => secrets[name] ?? []);
    this.rolePolicyDocument = renderRolePolicy(
      this.options.rolePolicy ?? ROLE_POLICY_TEMPLATE,
      { bucket: audit.bucket, prefix: audit.prefix ?? DEFAULT_AUDIT_PREFIX },
      this.identities.accountId,
      secretNames,
      this.config.organization
        ? ({
            memberRole: DEFAULT_MEMBER_ROLE,
            ...(this.config.organization as Partial<Organization>),
          } as Organization)
        : undefined,
    );
    this.rolePolicy = parseRamPolicy(this.rolePolicyDocument);
    const dir = resolve(this.options.stateDir ?? join('.ossguard-local'));
    mkdirSync(dir, { recursive: true });
    this.configFile = join(dir, 'ossguard.config.yaml');
    writeFileSync(this.configFile, toYaml(this.config));
  }

  /** The env FC would have after `s deploy`, with the endpoints and config of this local cloud. */
  functionEnv(): Record<string, string> {
    return {
      OSSGUARD_CONFIG: JSON.stringify(this.config),
      // With KMS, the secrets are read from it at the first invocation, and none sits in the environment.
      ...(this.options.kmsSecrets
        ? {}
        : { OSSGUARD_DINGTALK_SECRET: DINGTALK_SECRET, OSSGUARD_AUDIT_KEY: LOCAL_AUDIT_KEY }),
      OSSGUARD_KMS_ENDPOINT: this.endpoints.kms,
      OSSGUARD_OSS_ENDPOINT: this.endpoints.oss,
      OSSGUARD_RAM_ENDPOINT: this.endpoints.ram,
      OSSGUARD_IMS_ENDPOINT: this.endpoints.ram,
      OSSGUARD_ACTIONTRAIL_ENDPOINT: this.endpoints.actiontrail,
      OSSGUARD_SLS_ENDPOINT: this.endpoints.sls,
      OSSGUARD_SAS_ENDPOINT: this.endpoints.sas,
      OSSGUARD_STS_ENDPOINT: this.endpoints.sts,
      OSSGUARD_RESOURCEMANAGER_ENDPOINT: this.endpoints.resourcemanager,
    };
  }

  private async functions(): Promise<readonly FunctionSpec[]> {
    const sYaml = this.options.sYaml ?? 's.yaml';
    const specs = await loadFunctions(sYaml, {
      env: { AccountID: this.identities.accountId, AccessKeyID: 'local', AccessKeySecret: 'local' },
      ...(this.options.sBin ? { sBin: this.options.sBin } : {}),
    });
    const env = this.functionEnv();
    if (!this.deployed) return [];
    return specs.map((spec) => ({
      ...spec,
      environmentVariables: { ...spec.environmentVariables, ...env },
      triggers: spec.triggers.map((t) =>
        this.disabledTriggers.has(`${spec.functionName}/${t.name}`) ? disabled(t) : t,
      ),
    }));
  }

  /**
   * SLS, KMS and Security Center hold account A's data only: the other accounts' keys authenticate, and are
   * refused as RAM would refuse a caller without permission on another account's resource.
   */
  private authorizeHome(caller: Caller, action: string, resource: string): boolean {
    return caller.accountId === this.identities.accountId && this.authorize(caller, action, resource);
  }

  /**
   * What RAM decides. In account A the function role's policy is enforced and other principals are not
   * restricted; in a member account a role session gets what the role's attached policies allow (the narrow
   * role ossguard acts through), its root and RAM users everything.
   */
  private authorize(caller: Caller, action: string, resource: string): boolean {
    if (caller.accountId !== this.identities.accountId) {
      return (
        caller.kind !== 'assumed-role' ||
        this.ram.roleAllows(caller.accountId, caller.roleName ?? '', action, resource)
      );
    }
    return caller.roleName !== FUNCTION_ROLE || isAllowed(this.rolePolicy, action, resource);
  }

  /** A role of any account, as STS AssumeRole needs it: its trust policy and session limit from RAM. */
  private roleOf(accountId: string, roleName: string): TrustedRole | undefined {
    const role = [...(this.identities.storeOf(accountId)?.roles.values() ?? [])].find(
      (r) => r.roleName.toLowerCase() === roleName.toLowerCase(),
    );
    if (!role) return undefined;
    const details = this.ram.catalogOf(accountId).roles.get(role.roleName);
    return {
      ...role,
      // A role that exists only as an STS session's (FC's function role in tests) trusts no caller.
      trustPolicy: details?.assumeRolePolicyDocument ?? '',
      maxSessionDuration: details?.maxSessionDuration ?? 3600,
    };
  }

  functionCredentials(functionName: string): {
    accessKeyId: string;
    accessKeySecret: string;
    securityToken: string;
  } {
    const session = this.identities.assumeRole(FUNCTION_ROLE, functionName, 36 * 3600_000);
    return {
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
    };
  }

  /** A session of LOCAL_OPERATOR_ROLE: who `--local` commands reach the members as. */
  operatorCredentials(): { accessKeyId: string; accessKeySecret: string; securityToken: string } {
    const session = this.identities.assumeRole(LOCAL_OPERATOR_ROLE, LOCAL_OPERATOR_SESSION, 36 * 3600_000);
    return {
      accessKeyId: session.accessKeyId,
      accessKeySecret: session.accessKeySecret,
      securityToken: session.securityToken,
    };
  }

  /** An ali-oss client of the account's root identity. */
  adminClient(bucket?: string): OSS {
    return this.ossClient(this.identities.rootKey, bucket);
  }

  /** One account of the local cloud, by id. */
  account(accountId: string): LocalAccount {
    const account = this.accounts.find((a) => a.accountId === accountId);
    if (!account) throw new Error(`the local cloud has no account ${accountId}`);
    return account;
  }

  /** The root AccessKey of an account (default: account A). */
  rootCredentials(accountId = this.identities.accountId): { accessKeyId: string; accessKeySecret: string } {
    const { rootKey } = this.account(accountId).identities;
    return { accessKeyId: rootKey.accessKeyId, accessKeySecret: rootKey.accessKeySecret };
  }

  /** An ali-oss client of an account's root identity. */
  accountClient(accountId: string, bucket?: string): OSS {
    return this.ossClient(this.rootCredentials(accountId), bucket);
  }

  /** An ali-oss client for any key of the emulated account (RAM user, root, STS session). */
  ossClient(
    key: Pick<AccessKey, 'accessKeyId' | 'accessKeySecret'> & { securityToken?: string },
    bucket?: string,
  ): OSS {
    return new OSS({
      endpoint: this.endpoints.oss,
      region: `oss-${this.region}`,
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      ...(key.securityToken ? { stsToken: key.securityToken } : {}),
      ...(bucket ? { bucket } : {}),
    });
  }

  /** What `ossguard local` prints and writes for `--local` commands. */
  readyInfo() {
    const fn = this.functionCredentials('cli');
    return {
      ...this.endpoints,
      ims: this.endpoints.ram,
      region: this.region,
      accountId: this.identities.accountId,
      accessKeyId: this.identities.rootKey.accessKeyId,
      accessKeySecret: this.identities.rootKey.accessKeySecret,
      auditBucket: AUDIT_BUCKET,
      resourceDirectoryId: RESOURCE_DIRECTORY_ID,
      // Every account with its root key; the first is the one above (the Resource Directory's management account).
      accounts: this.accounts.map((account) => ({
        accountId: account.accountId,
        displayName: account.displayName,
        role: account.role,
        ...this.rootCredentials(account.accountId),
      })),
      configFile: this.configFile,
      functionCredentials: fn,
      operator: { roleName: LOCAL_OPERATOR_ROLE, credentials: this.operatorCredentials() },
      functionEnv: this.functionEnv(),
      lookupCallsPerSecond: this.actiontrail.ratePerSecond,
    };
  }

  /** Every management event and sign-in the trail has delivered to its logstore, in order, with where it landed. */
  trailManagementEvents(): readonly TrailDataEvent[] {
    return this.managementTrail;
  }

  /** Every OSS data event the trail has delivered to its logstore, in order, with where it landed. */
  trailDataEvents(): readonly TrailDataEvent[] {
    return this.dataEvents;
  }

  /**
   * Resolves once every change has been handled through both paths: the bus (management events) and the
   * log triggers (data events). A revert is itself a change, so each path can feed the other; loop until
   * neither has work.
   */
  async settle(): Promise<void> {
    do {
      await this.logTriggers.drain();
      await this.bus.drain();
    } while (!(this.logTriggers.idle && this.bus.idle));
  }

  async stop(): Promise<void> {
    this.bus.close();
    this.logTriggers.close();
    await this.fc.close();
    await Promise.all([
      this.oss.close(),
      this.ram.close(),
      this.actiontrail.close(),
      this.sls.close(),
      this.sas.close(),
      this.dingtalk.close(),
      this.smtp.close(),
      this.fcApi.close(),
      this.kms.close(),
      this.sts.close(),
      this.resourceManager.close(),
    ]);
  }
}
