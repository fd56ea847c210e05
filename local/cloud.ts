import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import OSS from 'ali-oss';
import { stringify as toYaml } from 'yaml';
import { isAllowed, parseRamPolicy, type RamStatement } from '../deploy/ram-policy';
import { ROLE_NAME, ROLE_POLICY_TEMPLATE, renderRolePolicy } from '../deploy/role';
import { DEFAULT_AUDIT_PREFIX } from '../shared/config';
import type { CloudEvent, EmittedRecord, EventSink } from './actiontrail';
import { ActionTrailEmulator } from './actiontrail-api/emulator';
import { DingTalkSink } from './dingtalk/sink';
import { LocalEventBus } from './eventbus/bus';
import { LogTriggerRunner } from './eventbus/log-trigger';
import { type FunctionSpec, loadFunctions } from './eventbus/triggers';
import { FcApiEmulator } from './fc/api';
import { FcHost } from './fc/host';
import { type AccessKey, type Caller, IdentityStore } from './identity';
import { OssEmulator, type OssEmulatorOptions } from './oss';
import { RamEmulator, type RamEmulatorOptions } from './ram/emulator';
import { SlsEmulator } from './sls/emulator';
import { flattenRecord, TRAIL_TOPIC } from './sls/trail';
import { LocalSmtpServer } from './smtp/server';

/** ossguard's function role in the local account; its sessions are what FC hands the functions. */
export const FUNCTION_ROLE = ROLE_NAME;
export const AUDIT_BUCKET = 'ossguard-audit';
/** The trail's SLS project and logstore (ActionTrail names it `actiontrail_<trail>`), as s.yaml defaults them. */
export const TRAIL_PROJECT = 'ossguard-trail';
export const TRAIL_LOGSTORE = 'actiontrail_ossguard';
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
  /** How long a log trigger's range collects logs locally, instead of its `triggerInterval`. Default 100 ms. */
  logTriggerIntervalMs?: number;
  /** Fault injection for SLS PullLogs calls. */
  slsIntercept?: ConstructorParameters<typeof SlsEmulator>[0]['intercept'];
  /** FC instances per function, like FC scaling out under load. Default 1. */
  maxInstances?: number;
  /**
   * The function role's permission policy, enforced on every OSS and RAM call the functions make. Default:
   * the repo's deploy/role-policy.json; tests pass an edited copy to see what a missing permission breaks.
   */
  rolePolicy?: string;
}

/** An OSS data event in the trail logstore: the record, and the shard and position of its log group. */
export interface TrailDataEvent {
  record: EmittedRecord;
  shardId: number;
  position: number;
}

export interface LocalEndpoints {
  oss: string;
  ram: string;
  actiontrail: string;
  /** Simple Log Service: the trail's logstore, read by the log-triggered function with PullLogs. */
  sls: string;
  dingtalk: string;
  smtp: string;
  /** The FC 3.0 API (GetFunction, ListTriggers, InvokeFunction), as `ossguard verify` calls it. */
  fc: string;
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
  readonly identities = new IdentityStore();
  readonly oss: OssEmulator;
  readonly ram: RamEmulator;
  readonly actiontrail: ActionTrailEmulator;
  readonly sls: SlsEmulator;
  /** The s.yaml's log triggers on the trail logstore, fed by the OSS emulator's data events. */
  readonly logTriggers: LogTriggerRunner;
  readonly dingtalk = new DingTalkSink({ robots: { [DINGTALK_TOKEN]: { secret: DINGTALK_SECRET } } });
  readonly smtp = new LocalSmtpServer();
  readonly fc: FcHost;
  readonly bus: LocalEventBus;
  readonly fcApi: FcApiEmulator;
  readonly region = 'cn-hangzhou';
  readonly auditBucket = AUDIT_BUCKET;
  endpoints!: LocalEndpoints;
  configFile = '';
  private config: Record<string, unknown> = {};
  private rolePolicy: RamStatement[] = [];
  private readonly options: LocalCloudOptions;
  private readonly sink: { target?: EventSink } = {};
  private readonly dataEvents: TrailDataEvent[] = [];

  private constructor(options: LocalCloudOptions) {
    this.options = options;
    const events: EventSink = { publish: (event: CloudEvent) => this.sink.target?.publish(event) };
    const latency = options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {};
    this.oss = new OssEmulator({
      identities: this.identities,
      events,
      region: this.region,
      ...latency,
      ...(options.intercept ? { intercept: options.intercept } : {}),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
      // Object-level calls are OSS data events: the trail delivers them to its logstore, never to the bus.
      dataEvents: (record: EmittedRecord) => {
        const { shardId, position } = this.sls.store.append(TRAIL_PROJECT, TRAIL_LOGSTORE, {
          time: Math.floor(Date.now() / 1000),
          topic: TRAIL_TOPIC,
          source: '127.0.0.1',
          logs: [flattenRecord(record, this.identities.accountId)],
        });
        this.dataEvents.push({ record, shardId, position });
      },
    });
    this.sls = new SlsEmulator({
      identities: this.identities,
      region: this.region,
      ...latency,
      ...(options.slsIntercept ? { intercept: options.slsIntercept } : {}),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
    });
    this.sls.store.createLogstore(TRAIL_PROJECT, TRAIL_LOGSTORE);
    this.ram = new RamEmulator({
      identities: this.identities,
      events,
      ...latency,
      ...(options.ramIntercept ? { intercept: options.ramIntercept } : {}),
      authorize: (caller, action, resource) => this.authorize(caller, action, resource),
    });
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
    this.actiontrail = new ActionTrailEmulator({
      identities: this.identities,
      history: () => this.bus.seen(),
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
    const [oss, ram, actiontrail, sls, dingtalk, smtpPort, fc] = await Promise.all([
      this.oss.listen(this.options.ossPort ?? 0, host),
      this.ram.listen(0, host),
      this.actiontrail.listen(0, host),
      this.sls.listen(0, host),
      this.dingtalk.listen(0, host),
      this.smtp.listen(0, host),
      this.fcApi.listen(0, host),
    ]);
    this.endpoints = { oss, ram, actiontrail, sls, dingtalk, smtp: `smtp://${host}:${smtpPort}`, fc };
    // The audit bucket exists before the bus is connected: creating it is setup, not a change to judge.
    await this.adminClient().putBucket(AUDIT_BUCKET);
    this.setConfig(this.options.config ?? {});
    this.sink.target = this.bus;
  }

  /** The config the functions run with; changing it gives the functions fresh instances, as a redeploy would. */
  setConfig(patch: ConfigPatch): void {
    const base: Record<string, unknown> = {
      ownRoleName: FUNCTION_ROLE,
      audit: { bucket: AUDIT_BUCKET, prefix: DEFAULT_AUDIT_PREFIX },
      alerts: {
        dingtalk: { webhook: this.dingtalk.webhook(DINGTALK_TOKEN) },
        email: {
          host: '127.0.0.1',
          port: Number(new URL(this.endpoints.smtp).port),
          secure: false,
          from: 'ossguard@local.test',
          to: ['secops@local.test'],
        },
      },
    };
    this.config = merge(base, patch);
    const audit = this.config.audit as { bucket: string; prefix?: string };
    this.rolePolicy = parseRamPolicy(
      renderRolePolicy(this.options.rolePolicy ?? ROLE_POLICY_TEMPLATE, {
        bucket: audit.bucket,
        prefix: audit.prefix ?? DEFAULT_AUDIT_PREFIX,
      }),
    );
    const dir = resolve(this.options.stateDir ?? join('.ossguard-local'));
    mkdirSync(dir, { recursive: true });
    this.configFile = join(dir, 'ossguard.config.yaml');
    writeFileSync(this.configFile, toYaml(this.config));
  }

  /** The env FC would have after `s deploy`, with the endpoints and config of this local cloud. */
  functionEnv(): Record<string, string> {
    return {
      OSSGUARD_CONFIG: JSON.stringify(this.config),
      OSSGUARD_DINGTALK_SECRET: DINGTALK_SECRET,
      OSSGUARD_OSS_ENDPOINT: this.endpoints.oss,
      OSSGUARD_RAM_ENDPOINT: this.endpoints.ram,
      OSSGUARD_IMS_ENDPOINT: this.endpoints.ram,
      OSSGUARD_ACTIONTRAIL_ENDPOINT: this.endpoints.actiontrail,
      OSSGUARD_SLS_ENDPOINT: this.endpoints.sls,
    };
  }

  private async functions(): Promise<readonly FunctionSpec[]> {
    const sYaml = this.options.sYaml ?? 's.yaml';
    const specs = await loadFunctions(sYaml, {
      env: { AccountID: this.identities.accountId, AccessKeyID: 'local', AccessKeySecret: 'local' },
      ...(this.options.sBin ? { sBin: this.options.sBin } : {}),
    });
    const env = this.functionEnv();
    return specs.map((spec) => ({ ...spec, environmentVariables: { ...spec.environmentVariables, ...env } }));
  }

  /** What RAM decides for the function role's calls; other principals are not restricted here. */
  private authorize(caller: Caller, action: string, resource: string): boolean {
    return caller.roleName !== FUNCTION_ROLE || isAllowed(this.rolePolicy, action, resource);
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

  /** An ali-oss client of the account's root identity. */
  adminClient(bucket?: string): OSS {
    return this.ossClient(this.identities.rootKey, bucket);
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
      configFile: this.configFile,
      functionCredentials: fn,
      functionEnv: this.functionEnv(),
    };
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
      this.dingtalk.close(),
      this.smtp.close(),
      this.fcApi.close(),
    ]);
  }
}
