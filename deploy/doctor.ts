import { createHash } from 'node:crypto';
import FC, * as $FC from '@alicloud/fc20230330';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import { ROBOT_MESSAGES_PER_MINUTE } from '../shared/alerts/dingtalk';
import { routesCover } from '../shared/alerts/router';
import { AuditWorm } from '../shared/audit/worm';
import { CallLog } from '../shared/clients/calllog';
import { organizationApi } from '../shared/clients/organization-api';
import { type CloudCredentials, OssClientFactory } from '../shared/clients/oss';
import { popConfig } from '../shared/clients/pop';
import { sdkClient } from '../shared/clients/ram-sdk';
import { roleArn } from '../shared/clients/sessions';
import type { Endpoints } from '../shared/config/load';
import type { OssguardConfig } from '../shared/config/schema';
import {
  OPERATOR_SESSION_NAME,
  operatorRoleName,
  POLICY_NAME,
  ROLE_NAME,
  TRIGGER_LOG_LOGSTORE,
} from '../shared/deployment/names';
import { isAllowed, parseRamPolicy, type RamStatement } from '../shared/deployment/ram-policy';
import { trustedPrincipals, unpinnedResources } from '../shared/deployment/role-policy';
import type { FunctionSpec } from '../shared/deployment/syaml';
import { memberTrustVerdict } from '../shared/deployment/trust';
import {
  FC_SERVICE_PRINCIPAL,
  type FeedSettings,
  feedSettings,
  LOG_SERVICE_PRINCIPAL,
  LOG_TRIGGER_ROLE,
  PERMANENT_TTL_DAYS,
  parseSelectors,
  parseSlsProjectArn,
  selectsOssWrites,
  trustsService,
} from './feed';
import { OSS_EVENTBRIDGE_REGIONS } from './regions';
import { createSlsAdmin, type SlsAdmin } from './sls-admin';
import { createTrailApi, type DataEventSelectorInfo, type TrailApi, type TrailInfo } from './trail-api';

/**
 * `ossguard doctor`: read-only checks that everything ossguard depends on is in place in an account, each
 * with a one-line fix. Nothing here writes.
 */
export interface DoctorCheck {
  /** Stable id, as `--help` lists them (`function:<name>@<region>` and `region:<id>` per item). */
  id: string;
  title: string;
  ok: boolean;
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
  /** Not ok, yet nothing ossguard needs is missing: printed with `!`, and doctor still exits 0. */
  warning?: boolean;
}

/** Every check, in the order doctor prints them, with what it looks at (for `--help`). */
export const DOCTOR_CHECKS: ReadonlyArray<readonly [id: string, explains: string]> = [
  ['trail', 'the ActionTrail trail `trail.name` exists, with its home in the home region'],
  ['trail-logging', 'the trail is logging (GetTrailStatus IsLogging)'],
  ['trail-all-regions', 'the trail records every region (TrailRegion All)'],
  ['trail-event-rw', 'the trail records read and write management events (EventRW All)'],
  [
    'trail-destination',
    'the trail writes to the SLS project `trail.project` in the home region, i.e. to logstore actiontrail_<trail> there',
  ],
  [
    'trail-data-events',
    'a data-event selector records OSS writes (and reads with trail.ossReadEvents) in all regions',
  ],
  [
    'trail-organization',
    'with an organization: the trail is the directory’s multi-account trail (IsOrganizationTrail)',
  ],
  [
    'member:<id>',
    'with an organization: each allowed member’s operator role (<memberRole>-operator) can be assumed by the caller, ' +
      'and through it the member role (organization.memberRole) is seen trusted by the function role alone ' +
      '(no other RAM principal, service or identity provider; the deploying account must be known)',
  ],
  ['trail-logstore', 'the logstore actiontrail_<trail> exists in the project'],
  ['trail-logstore-ttl', 'that logstore has a TTL (ActionTrail creates it with permanent retention)'],
  ['trigger-logstore', `the trigger-log logstore ${TRIGGER_LOG_LOGSTORE} exists in the project`],
  ['role-function', `the role ${ROLE_NAME} exists and is trusted by ${FC_SERVICE_PRINCIPAL}`],
  ['role-log-trigger', `the role ${LOG_TRIGGER_ROLE} exists and is trusted by ${LOG_SERVICE_PRINCIPAL}`],
  [
    'function:<name>@<region>',
    "each function of the s.yaml is deployed, runs as the function role, and has the s.yaml's triggers, enabled; " +
      'the log-triggered one runs in the home region and reads actiontrail_<trail> of the project',
  ],
  [
    'region:<id>',
    'each region of OSSGUARD_REGIONS publishes OSS events to EventBridge (fast path), or is covered by the trail path',
  ],
  ['audit-bucket', "the audit bucket exists and is the account's own"],
  ['audit-retention', 'the audit bucket has a locked WORM retention policy (`ossguard audit lock`)'],
  [
    'audit-key',
    'an audit key signs records, claims and pipeline marks: `secrets.auditKey` (KMS), which the function role may read (kms:GetSecretValue), else the same OSSGUARD_AUDIT_KEY in every deployed function',
  ],
  [
    'alerts-critical-email',
    'with DingTalk configured, every critical alert goes to email too (a warning, not a failure)',
  ],
];

export interface DoctorInput {
  credentials: CloudCredentials;
  endpoints: Endpoints & { fc?: string };
  /** Set for the local cloud: every service must then have a local endpoint. */
  local?: { accountId: string };
  config: OssguardConfig;
  /** What the s.yaml deploys, rendered once per region of `regions`. */
  functions: readonly FunctionSpec[];
  /** OSSGUARD_REGIONS. */
  regions: readonly string[];
  /** Where trail-guard runs: OSSGUARD_HOME_REGION, else the first of `regions` (deploy/deploy.sh). */
  homeRegion?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Who tries the members' operator roles: the caller, who must be an `--operator` of `bootstrap --account`
   * (with `--local`, the local cloud's operator role's session).
   */
  memberCaller?: CloudCredentials;
  /** The members to check (`doctor --accounts`); default: the config's `organization.accounts`. */
  accounts?: 'all' | readonly string[];
}

const BOOTSTRAP = 'run `ossguard bootstrap`';
const DEPLOY = 'run `deploy/deploy.sh` (s deploy for every region)';

const errorText = (error: unknown): string =>
  ((error as { code?: string }).code ? `${(error as { code: string }).code}: ` : '') +
  (error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/** Runs a read; its failure becomes the value `failed` so one broken API fails only its own lines. */
async function attempt<T>(read: () => Promise<T>): Promise<T | { failed: string }> {
  try {
    return await read();
  } catch (error) {
    return { failed: errorText(error) };
  }
}

const failed = (value: unknown): value is { failed: string } =>
  typeof value === 'object' && value !== null && 'failed' in value;

export interface TrailState {
  trail: TrailInfo | undefined | { failed: string };
  logging: boolean | { failed: string };
  selector: DataEventSelectorInfo | undefined | { failed: string };
}

// DescribeTrails, GetTrailStatus and GetDataEventSelector fields (F-ACTIONTRAIL-TRAIL-STATUS).
async function trailState(api: TrailApi, feed: FeedSettings): Promise<TrailState> {
  const trail = await attempt(() => api.describeTrail(feed.trailName));
  if (failed(trail) || !trail) return { trail, logging: false, selector: undefined };
  return {
    trail,
    logging: await attempt(async () => (await api.getTrailStatus(feed.trailName)).IsLogging === true),
    selector: await attempt(() => api.getDataEventSelector(feed.trailName)),
  };
}

// TrailRegion All (F-ACTIONTRAIL-TRAIL-ALL-REGIONS), EventRW and SlsProjectArn (F-ACTIONTRAIL-CREATETRAIL), the
// selector (F-ACTIONTRAIL-DATA-EVENT-SELECTOR).
function trailChecks(state: TrailState, feed: FeedSettings): DoctorCheck[] {
  const name = feed.trailName;
  const kind = feed.ossReadEvents ? 'reads and writes' : 'writes';
  const titles: Record<string, string> = {
    trail: `trail ${name} exists`,
    'trail-logging': `trail ${name} is logging`,
    'trail-all-regions': `trail ${name} covers all regions`,
    'trail-event-rw': `trail ${name} records all management events`,
    'trail-destination': `trail ${name} writes to ${feed.logstore} in ${feed.project} (${feed.region})`,
    'trail-data-events': `trail ${name} records OSS ${kind} (data events) in all regions`,
  };
  const check = (id: string, ok: boolean, detail: string, fix: string): DoctorCheck => ({
    id,
    title: titles[id] ?? id,
    ok,
    detail,
    ...(ok ? {} : { fix }),
  });
  const { trail } = state;
  if (failed(trail) || !trail) {
    const detail = failed(trail) ? trail.failed : 'no such trail';
    return [
      check('trail', false, detail, `${BOOTSTRAP}: it creates the trail in ${feed.region}`),
      ...Object.keys(titles)
        .slice(1)
        .map((id) => check(id, false, 'no trail to check', BOOTSTRAP)),
    ];
  }
  const home = trail.HomeRegion ?? '?';
  const arn = parseSlsProjectArn(trail.SlsProjectArn);
  const selectors = failed(state.selector) ? [] : parseSelectors(state.selector?.DataEventSelectors);
  const allRegions = !failed(state.selector) && state.selector?.IsTrailAllRegion === true;
  return [
    check(
      'trail',
      home === feed.region,
      `home region ${home}`,
      `the home region must be ${feed.region}: set trail.region to ${home}, or trail.name to a new trail`,
    ),
    check(
      'trail-logging',
      state.logging === true,
      failed(state.logging) ? state.logging.failed : state.logging ? 'logging' : 'not logging',
      `${BOOTSTRAP} (StartLogging), or \`aliyun actiontrail StartLogging --Name ${name}\``,
    ),
    check(
      'trail-all-regions',
      trail.TrailRegion === 'All',
      `TrailRegion ${trail.TrailRegion ?? '?'}`,
      `${BOOTSTRAP} (UpdateTrail TrailRegion=All)`,
    ),
    check(
      'trail-event-rw',
      trail.EventRW === 'All',
      `EventRW ${trail.EventRW ?? '?'}`,
      `${BOOTSTRAP} (UpdateTrail EventRW=All)`,
    ),
    check(
      'trail-destination',
      arn?.project === feed.project && arn.region === feed.region,
      `SlsProjectArn ${trail.SlsProjectArn || 'none'}`,
      `${BOOTSTRAP} (UpdateTrail SlsProjectArn), or set trail.project/trail.region to where the trail writes`,
    ),
    check(
      'trail-data-events',
      selectsOssWrites(selectors, feed.ossReadEvents) && allRegions,
      failed(state.selector)
        ? state.selector.failed
        : state.selector
          ? `${state.selector.DataEventSelectors}, IsTrailAllRegion ${state.selector.IsTrailAllRegion}`
          : 'no data-event selector: object writes are not recorded',
      `${BOOTSTRAP} (PutDataEventSelector Oss/${feed.ossReadEvents ? 'All' : 'Write'}, IsTrailAllRegion)`,
    ),
  ];
}

async function logstoreChecks(sls: SlsAdmin, feed: FeedSettings): Promise<DoctorCheck[]> {
  const trailStore = await attempt(() => sls.getLogStore(feed.project, feed.logstore));
  const triggerStore = await attempt(() => sls.getLogStore(feed.project, TRIGGER_LOG_LOGSTORE));
  const where = `in ${feed.project} (${feed.region})`;
  const exists = !failed(trailStore) && trailStore !== undefined;
  const ttl = exists ? trailStore.ttl : undefined;
  // 3650 days means permanent (F-SLS-LOGSTORE-TTL).
  const hasTtl = ttl !== undefined && ttl < PERMANENT_TTL_DAYS;
  const triggerExists = !failed(triggerStore) && triggerStore !== undefined;
  return [
    {
      id: 'trail-logstore',
      title: `logstore ${feed.logstore} exists ${where}`,
      ok: exists,
      detail: failed(trailStore) ? trailStore.failed : exists ? 'exists' : 'missing',
      ...(exists ? {} : { fix: `${BOOTSTRAP}: the trail creates it once it writes to the project` }),
    },
    {
      id: 'trail-logstore-ttl',
      title: `logstore ${feed.logstore} has a TTL`,
      ok: hasTtl,
      detail: !exists ? 'no logstore' : hasTtl ? `${ttl} days` : 'permanent retention (ttl 3650)',
      ...(hasTtl
        ? {}
        : { fix: `${BOOTSTRAP} (UpdateLogStore ttl=${feed.retentionDays}, trail.retentionDays)` }),
    },
    {
      id: 'trigger-logstore',
      title: `logstore ${TRIGGER_LOG_LOGSTORE} exists ${where}`,
      ok: triggerExists,
      detail: failed(triggerStore) ? triggerStore.failed : triggerExists ? 'exists' : 'missing',
      ...(triggerExists ? {} : { fix: `${BOOTSTRAP}: the log trigger records its runs there` }),
    },
  ];
}

async function roleCheck(
  ram: Ram,
  id: string,
  roleName: string,
  service: string,
  fix: string,
): Promise<{ check: DoctorCheck; arn?: string }> {
  const title = `role ${roleName} exists, trusted by ${service}`;
  try {
    // GetRole's Role.AssumeRolePolicyDocument; a missing role is EntityNotExist.Role (F-RAM-GETROLE).
    const role = (await ram.getRole(new $Ram.GetRoleRequest({ roleName }))).body?.role;
    const ok = trustsService(role?.assumeRolePolicyDocument, service);
    return {
      check: {
        id,
        title,
        ok,
        detail: ok ? 'exists' : `trust policy does not let ${service} assume it`,
        ...(ok ? {} : { fix }),
      },
      ...(role?.arn ? { arn: role.arn } : {}),
    };
  } catch (error) {
    const missing = (error as { code?: string }).code === 'EntityNotExist.Role';
    return { check: { id, title, ok: false, detail: missing ? 'missing' : errorText(error), fix } };
  }
}

/**
 * The function role's policy names the account in every resource ARN: with `*` there, a bucket of the audit
 * bucket's name in another account would be the role's to write (issue #20).
 */
function rolePolicyCheck(policy: FunctionRolePolicy, accountId: string | undefined): DoctorCheck {
  const title = `policy ${POLICY_NAME} names the account in every resource`;
  const fix = `${BOOTSTRAP}: it writes deploy/role-policy.json with the account id`;
  if (accountId === undefined)
    return { id: 'role-policy-account', title, ok: false, detail: 'account id unknown: set AccountID', fix };
  if (failed(policy)) return { id: 'role-policy-account', title, ok: false, detail: policy.failed, fix };
  try {
    const unpinned = unpinnedResources(policy, accountId);
    const ok = unpinned.length === 0;
    return {
      id: 'role-policy-account',
      title,
      ok,
      detail: ok ? `account ${accountId}` : `not pinned: ${unpinned.join(', ')}`,
      ...(ok ? {} : { fix }),
    };
  } catch (error) {
    return { id: 'role-policy-account', title, ok: false, detail: errorText(error), fix };
  }
}

/** The function role's policy document, as RAM holds it, or why it could not be read (`missing`: none). */
type FunctionRolePolicy = string | { failed: string };

async function functionRolePolicy(ram: Ram): Promise<FunctionRolePolicy> {
  try {
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: POLICY_NAME, policyType: 'Custom' }),
    );
    return policy.body?.defaultPolicyVersion?.policyDocument ?? '';
  } catch (error) {
    return {
      failed: (error as { code?: string }).code === 'EntityNotExist.Policy' ? 'missing' : errorText(error),
    };
  }
}

/** FC 3.0's management endpoint, as fc3 uses it (F-FC-API-ENDPOINT-ERRORS). */
function fcClient(input: DoctorInput, region: string): FC {
  return sdkClient(
    FC,
    popConfig(input.credentials, `fcv3.${region}.aliyuncs.com`, region, input.endpoints.fc),
  );
}

interface LogTriggerConfig {
  enable?: boolean;
  triggerEnable?: boolean;
  sourceConfig?: { logstore?: string };
}

async function functionCheck(
  input: DoctorInput,
  spec: FunctionSpec,
  feed: FeedSettings,
  keyed: Map<string, string | undefined>,
): Promise<DoctorCheck> {
  const { functionName, region } = spec;
  const id = `function:${functionName}@${region}`;
  const title = `function ${functionName} (${region}) is deployed with its triggers enabled`;
  const fail = (detail: string, fix = DEPLOY): DoctorCheck => ({ id, title, ok: false, detail, fix });
  const fc = fcClient(input, region);
  let fn: $FC.Function | undefined;
  try {
    fn = (await fc.getFunction(functionName, new $FC.GetFunctionRequest({}))).body;
  } catch (error) {
    // FC 3.0's code for a missing function (F-FC-API-ENDPOINT-ERRORS).
    return fail((error as { code?: string }).code === 'FunctionNotFound' ? 'not deployed' : errorText(error));
  }
  // GetFunction answers the function's environment variables (F-FC-GETFUNCTION-ENV): what `auditKeyCheck` reads.
  const auditKey = fn?.environmentVariables?.OSSGUARD_AUDIT_KEY;
  // A digest, so that the key itself is never held here beside what doctor prints.
  keyed.set(
    `${functionName}@${region}`,
    auditKey ? createHash('sha256').update(auditKey).digest('hex') : undefined,
  );
  if (!fn?.role?.endsWith(`:role/${ROLE_NAME}`))
    return fail(`runs as ${fn?.role || 'no role'}, not ${ROLE_NAME}`);
  let deployed: $FC.Trigger[];
  try {
    deployed =
      (await fc.listTriggers(functionName, new $FC.ListTriggersRequest({ limit: 100 }))).body?.triggers ?? [];
  } catch (error) {
    return fail(errorText(error));
  }
  const notes: string[] = [];
  for (const expected of spec.triggers) {
    const found = deployed.find((t) => t.triggerName === expected.name);
    if (!found) return fail(`trigger ${expected.name} is not deployed`);
    const config = (parseJson(found.triggerConfig) ?? {}) as LogTriggerConfig;
    // triggerConfig is JSON text; `triggerEnable` or `enable` switches it (F-FC-TRIGGER-ENABLE).
    const enabled = expected.type === 'eventbridge' ? config.triggerEnable : config.enable;
    if (enabled === false) {
      return fail(`trigger ${expected.name} is disabled`, `enable trigger ${expected.name}, or ${DEPLOY}`);
    }
    if (expected.type === 'log') {
      const source = parseSlsProjectArn(found.sourceArn);
      const logstore = config.sourceConfig?.logstore;
      // The SLS project must be in the function's region (F-FC-LOGTRIGGER-SAME-REGION).
      if (region !== feed.region) {
        return fail(
          `log trigger in ${region}, but the trail's project is in ${feed.region}`,
          `deploy ${functionName} in ${feed.region} (trail.region): the project must be in the function's region`,
        );
      }
      if (logstore !== feed.logstore || (source && source.project !== feed.project)) {
        return fail(
          `log trigger reads ${source?.project ?? '?'}/${logstore ?? '?'}, the trail writes ${feed.project}/${feed.logstore}`,
        );
      }
      notes.push(`log trigger on ${feed.project}/${feed.logstore}`);
    } else {
      notes.push(`${expected.type} trigger ${expected.name}`);
    }
  }
  return { id, title, ok: true, detail: notes.join(', ') || 'no triggers' };
}

/** Per region: the EventBridge fast path where OSS publishes there (F-EVENTBRIDGE-OSS-REGIONS), else the trail. */
export function regionChecks(regions: readonly string[], state: TrailState): DoctorCheck[] {
  const trail = failed(state.trail) ? undefined : state.trail;
  const selector = failed(state.selector) ? undefined : state.selector;
  const trailCovers =
    trail !== undefined &&
    state.logging === true &&
    trail.TrailRegion === 'All' &&
    selector?.IsTrailAllRegion === true &&
    selectsOssWrites(parseSelectors(selector.DataEventSelectors), false);
  return regions.map((region) => {
    const fast = OSS_EVENTBRIDGE_REGIONS.includes(region);
    const ok = fast || trailCovers;
    return {
      id: `region:${region}`,
      title: `region ${region} is guarded`,
      ok,
      detail: fast
        ? `OSS publishes to EventBridge here (fast path)${trailCovers ? ', and the trail covers it' : ''}`
        : trailCovers
          ? 'OSS does not publish to EventBridge here: covered by the trail path only'
          : 'OSS does not publish to EventBridge here, and the trail does not cover it',
      ...(ok
        ? {}
        : { fix: `${BOOTSTRAP}: the trail path (all regions, OSS data events) is the only one here` }),
    };
  });
}

async function auditChecks(
  input: DoctorInput,
  region: string,
  accountId: string | undefined,
): Promise<DoctorCheck[]> {
  const bucket = input.config.audit.bucket;
  const factory = new OssClientFactory({
    credentials: input.credentials,
    ...(input.endpoints.oss ? { endpoint: input.endpoints.oss } : {}),
  });
  const oss: OSS = factory.client(region);
  const bucketTitle = `audit bucket ${bucket} (${region}) is the account's own`;
  let owner: string | undefined;
  try {
    const info = (await oss.getBucketInfo(bucket)) as { bucket?: { Owner?: { ID?: string } } };
    owner = String(info.bucket?.Owner?.ID ?? '');
  } catch (error) {
    const missing = (error as { code?: string }).code === 'NoSuchBucket'; // F-OSS-ERROR-CODES
    const detail = missing ? 'missing' : errorText(error);
    return [
      {
        id: 'audit-bucket',
        title: bucketTitle,
        ok: false,
        detail,
        fix: `${BOOTSTRAP}: it creates the bucket`,
      },
      {
        id: 'audit-retention',
        title: `audit bucket ${bucket} has a locked retention policy`,
        ok: false,
        detail: 'no bucket',
        fix: `${BOOTSTRAP}, then \`ossguard audit lock\``,
      },
    ];
  }
  const own = accountId === undefined || owner === accountId;
  const checks: DoctorCheck[] = [
    {
      id: 'audit-bucket',
      title: bucketTitle,
      ok: own,
      detail: accountId ? `owner ${owner}` : `owner ${owner} (account id unknown: set AccountID to compare)`,
      ...(own ? {} : { fix: 'audit.bucket names a bucket of another account: pick a name of your own' }),
    },
  ];
  // A locked retention policy cannot be aborted (F-OSS-WORM).
  const worm = await attempt(() => new AuditWorm(factory, region, bucket).status());
  const locked = !failed(worm) && worm.state === 'Locked';
  checks.push({
    id: 'audit-retention',
    title: `audit bucket ${bucket} has a locked retention policy`,
    ok: locked,
    detail: failed(worm)
      ? worm.failed
      : worm.state === 'none'
        ? 'no WORM policy: records can be deleted'
        : `${worm.state === 'Locked' ? 'locked' : 'in progress, not locked'}, ${worm.days} days`,
    ...(locked ? {} : { fix: 'run `ossguard audit lock`' }),
  });
  return checks;
}

/**
 * DingTalk takes 20 messages a minute per robot (F-DINGTALK-RATE-LIMIT), shared by every alert; a share is kept
 * for critical alerts (shared/alerts/ratelimit.ts), but a flood of critical ones, or of alerts from other
 * senders of the robot, can still use it up, and then only email carries a critical alert. Config alone decides
 * this, so it is a warning: a setup may mean DingTalk to be the only channel.
 */
export function alertChecks(config: OssguardConfig): DoctorCheck {
  const { dingtalk, email, routes } = config.alerts;
  const id = 'alerts-critical-email';
  const title = 'critical alerts go to email as well as DingTalk';
  if (!dingtalk) return { id, title, ok: true, detail: 'no DingTalk robot configured' };
  if (email && routesCover(routes, 'email', 'critical'))
    return { id, title, ok: true, detail: 'every critical alert is emailed too' };
  const route =
    '{channel: email, minSeverity: critical} to alerts.routes (or drop alerts.routes: every channel then gets every alert)';
  return {
    id,
    title,
    ok: false,
    warning: true,
    detail: `${email ? 'no route sends every critical alert to email' : 'no email channel'}: DingTalk alone carries critical alerts, and once a flood of alerts uses up its budget (${dingtalk.messagesPerMinute ?? ROBOT_MESSAGES_PER_MINUTE} messages a minute) a critical alert reaches no channel`,
    fix: email ? `add ${route}` : `configure alerts.email, and add ${route}`,
  };
}

/**
 * Without an audit key, records, intents and claims are only digested and pipeline marks not sealed
 * (shared/audit/record.ts): whoever can write the audit bucket can forge a record that settles a change and
 * silences its alert. A failure, not a warning. `keyed`: each deployed function (`<name>@<region>`), and a
 * digest of the OSSGUARD_AUDIT_KEY its environment holds (undefined: none); a KMS-held key (`secrets.auditKey`)
 * is in no environment. Functions holding different keys take each other's records, intents and marks for
 * planted: alerts twice, and repairs not tied to the changes they overwrote.
 */
const AUDIT_KEY_CHECK = { id: 'audit-key', title: 'an audit key signs the audit records' } as const;

export function auditKeyCheck(
  config: OssguardConfig,
  keyed: ReadonlyMap<string, string | undefined>,
  role: FunctionRoleReach,
): DoctorCheck {
  const { id, title } = AUDIT_KEY_CHECK;
  const secret = config.secrets?.auditKey;
  if (secret) return kmsAuditKeyCheck(secret, role);
  const unkeyed = [...keyed].filter(([, digest]) => !digest).map(([fn]) => fn);
  const fix =
    'store a random value (`openssl rand -hex 32`) as a KMS secret, name it in the config as secrets.auditKey and run `deploy/deploy.sh`; without KMS, export OSSGUARD_AUDIT_KEY=<that value> (keep it for `ossguard audit verify`) and run `deploy/deploy.sh`';
  if (keyed.size === 0 || unkeyed.length > 0)
    return {
      id,
      title,
      ok: false,
      detail: `${keyed.size === 0 ? 'no secrets.auditKey, and no deployed function to read OSSGUARD_AUDIT_KEY from' : `no secrets.auditKey, and no OSSGUARD_AUDIT_KEY in ${unkeyed.join(', ')}`}: records and claims are only digested, so whoever can write the audit bucket can forge one and silence an alert`,
      fix,
    };
  const byKey = new Map<string | undefined, string[]>();
  for (const [fn, digest] of keyed) byKey.set(digest, [...(byKey.get(digest) ?? []), fn]);
  if (byKey.size === 1)
    return { id, title, ok: true, detail: 'OSSGUARD_AUDIT_KEY in every deployed function' };
  return {
    id,
    title,
    ok: false,
    detail: `the deployed functions hold ${byKey.size} different OSSGUARD_AUDIT_KEY values (${[...byKey.values()].map((fns) => fns.join(', ')).join('; ')}): each takes the others' records and marks for planted`,
    fix: `export the one OSSGUARD_AUDIT_KEY every function is to hold and run \`deploy/deploy.sh\`; or ${fix}`,
  };
}

/** The function role's policy, and where the functions read their secrets: `secrets.region`, else their own. */
interface FunctionRoleReach {
  policy: FunctionRolePolicy;
  accountId: string | undefined;
  regions: readonly string[];
}

/**
 * A KMS-held audit key is only as good as the functions' right to read it: without kms:GetSecretValue on the
 * secret in the function role's policy (F-KMS-GETSECRETVALUE; bootstrap grants it for the secrets the config
 * names when it runs), no function can load the key. Judged on the policy as RAM holds it, for the secret's
 * ARN in every region a function reads it from; the secret's existence is not checked (reading it would put
 * the key in doctor's hands), nor are policies attached to the role beside ossguard's own.
 */
function kmsAuditKeyCheck(secret: string, role: FunctionRoleReach): DoctorCheck {
  const unreadable = (why: string): DoctorCheck => ({
    ...AUDIT_KEY_CHECK,
    ok: false,
    detail: `KMS secret ${secret} (secrets.auditKey), but ${why}`,
    fix: `${BOOTSTRAP} with secrets.auditKey in the config (it grants kms:GetSecretValue on the secret), then ${DEPLOY}`,
  });
  if (failed(role.policy))
    return unreadable(
      `policy ${POLICY_NAME} could not be read (${role.policy.failed}) to tell whether the functions may read it`,
    );
  if (role.accountId === undefined) return unreadable('the account id is unknown: set AccountID');
  let statements: RamStatement[];
  try {
    statements = parseRamPolicy(role.policy);
  } catch (error) {
    return unreadable(`policy ${POLICY_NAME} could not be judged: ${errorText(error)}`);
  }
  const arns = role.regions.map((region) => `acs:kms:${region}:${role.accountId}:secret/${secret}`);
  const refused = arns.filter((arn) => !isAllowed(statements, 'kms:GetSecretValue', arn));
  if (refused.length > 0)
    return unreadable(
      `policy ${POLICY_NAME} does not allow kms:GetSecretValue on ${refused.join(', ')}: the functions that read it there cannot load the key`,
    );
  return {
    ...AUDIT_KEY_CHECK,
    ok: true,
    detail: `KMS secret ${secret} (secrets.auditKey), readable by the function role`,
  };
}

export async function runDoctor(input: DoctorInput): Promise<DoctorCheck[]> {
  const { config, regions, endpoints } = input;
  if (input.local && (!endpoints.actiontrail || !endpoints.sls || !endpoints.ram || !endpoints.fc)) {
    throw new Error(
      'the local cloud named no ActionTrail, SLS, RAM or FC endpoint: restart `ossguard local`',
    );
  }
  const home = input.homeRegion ?? regions[0] ?? 'cn-hangzhou';
  const feed = feedSettings(config, home);
  const auditRegion = config.audit.region ?? home;
  const trailApi = createTrailApi(input.credentials, feed.region, endpoints.actiontrail);
  const sls = createSlsAdmin(input.credentials, feed.region, endpoints.sls);
  // RAM is global (F-RAM-GLOBAL-ENDPOINT).
  const ram = sdkClient(Ram, popConfig(input.credentials, 'ram.aliyuncs.com', 'cn-shanghai', endpoints.ram));

  const state = await trailState(trailApi, feed);
  const fnRole = await roleCheck(
    ram,
    'role-function',
    ROLE_NAME,
    FC_SERVICE_PRINCIPAL,
    `${BOOTSTRAP}: it creates ${ROLE_NAME} with deploy/trust-policy.json`,
  );
  const logRole = await roleCheck(
    ram,
    'role-log-trigger',
    LOG_TRIGGER_ROLE,
    LOG_SERVICE_PRINCIPAL,
    `${DEPLOY}: fc3 creates it when s.yaml names no invocationRole (the deployer needs ram:CreateRole, ram:AttachPolicyToRole)`,
  );
  const accountId =
    input.local?.accountId ??
    input.env?.AccountID ??
    /^acs:ram::(\d+):/.exec(fnRole.arn ?? '')?.[1] ??
    undefined;
  const rolePolicy = await functionRolePolicy(ram);
  // Where the functions read their secrets (shared/pipeline/handler.ts `kmsClient`).
  const secretRegions = config.secrets?.region
    ? [config.secrets.region]
    : [...new Set([home, ...input.functions.map((spec) => spec.region)])];
  const keyed = new Map<string, string | undefined>();
  const functions = await Promise.all(input.functions.map((spec) => functionCheck(input, spec, feed, keyed)));
  return [
    ...trailChecks(state, feed),
    ...(config.organization ? await organizationChecks(input, state, accountId) : []),
    ...(await logstoreChecks(sls, feed)),
    fnRole.check,
    rolePolicyCheck(rolePolicy, accountId),
    logRole.check,
    ...functions,
    ...regionChecks(regions, state),
    ...(await auditChecks(input, auditRegion, accountId)),
    auditKeyCheck(config, keyed, { policy: rolePolicy, accountId, regions: secretRegions }),
    alertChecks(config),
  ];
}

/**
 * An organization's feed and reach: the trail is the multi-account one (F-ORG-TRAIL), and each allowed member's
 * roles are as bootstrap makes them (`memberCheck`); `all` lists the directory first (F-RD-LISTACCOUNTS).
 */
async function organizationChecks(
  input: DoctorInput,
  state: TrailState,
  accountId: string | undefined,
): Promise<DoctorCheck[]> {
  const organization = input.config.organization;
  if (!organization) return [];
  const { trail } = state;
  const isOrganization = !failed(trail) && trail?.IsOrganizationTrail === true;
  const trailCheck: DoctorCheck = {
    id: 'trail-organization',
    title: `trail ${input.config.trail.name} delivers every account's records (multi-account trail)`,
    ok: isOrganization,
    detail: failed(trail)
      ? trail.failed
      : !trail
        ? 'no trail'
        : isOrganization
          ? 'IsOrganizationTrail'
          : 'a single-account trail',
    ...(isOrganization
      ? {}
      : {
          fix: `in the Resource Directory's management account (or ActionTrail's delegated administrator), delete the trail and ${BOOTSTRAP}: a trail cannot become a multi-account one`,
        }),
  };
  const api = organizationApi(input.memberCaller ?? input.credentials, input.endpoints);
  const accounts = input.accounts ?? organization.accounts;
  const listed =
    accounts === 'all'
      ? await attempt(async () => (await api.listAccounts(new CallLog())).map((a) => a.accountId))
      : accounts;
  if (failed(listed))
    return [
      trailCheck,
      {
        id: 'member:all',
        title: 'the resource directory lists its accounts',
        ok: false,
        detail: listed.failed,
        fix: 'run doctor with the management account (ListAccounts), or name the accounts in organization.accounts',
      },
    ];
  const members = listed.filter((id) => id !== accountId);
  const checks = await Promise.all(
    members.map((member) => memberCheck(input, api, member, organization.memberRole, accountId)),
  );
  return [trailCheck, ...checks];
}

/**
 * One member, read as an operator: its operator role can be assumed (F-STS-ASSUMEROLE), under the operators'
 * session name, and through it GetRole shows the member role trusted by the function role alone
 * (F-RAM-GETROLE, F-RAM-GETROLE-ACTION, F-STS-TRUST-POLICY). Doctor cannot act as the function role, so it reads the trust policy
 * rather than assuming the member role; any other principal named there could act as ossguard in the member.
 */
async function memberCheck(
  input: DoctorInput,
  api: ReturnType<typeof organizationApi>,
  member: string,
  memberRole: string,
  accountId: string | undefined,
): Promise<DoctorCheck> {
  const id = `member:${member}`;
  const arn = roleArn(member, memberRole);
  const title = `role ${arn} is trusted by ${ROLE_NAME} alone`;
  const bootstrap = `run \`ossguard bootstrap --account ${member} --operator <you>\` with that account's credentials`;
  const operatorArn = roleArn(member, operatorRoleName(memberRole));
  const session = await attempt(() => api.assumeRole(operatorArn, OPERATOR_SESSION_NAME, new CallLog()));
  if (failed(session))
    return {
      id,
      title,
      ok: false,
      detail: `cannot assume ${operatorArn}: ${session.failed}`,
      fix: `${bootstrap}; doctor must run as an --operator of it`,
    };
  const ram = sdkClient(Ram, popConfig(session, 'ram.aliyuncs.com', 'cn-shanghai', input.endpoints.ram));
  const role = await attempt(
    async () => (await ram.getRole(new $Ram.GetRoleRequest({ roleName: memberRole }))).body?.role,
  );
  if (failed(role)) return { id, title, ok: false, detail: role.failed, fix: bootstrap };
  const { ok, detail } = memberTrustVerdict(trustedPrincipals(role?.assumeRolePolicyDocument), accountId);
  return {
    id,
    title,
    ok,
    detail,
    ...(ok
      ? {}
      : {
          fix:
            accountId === undefined
              ? "set AccountID to the deploying account's id"
              : `run \`ossguard bootstrap --account ${member}\` with that account's credentials: it trusts the function role alone (operators get the read-only ${operatorRoleName(memberRole)})`,
        }),
  };
}
