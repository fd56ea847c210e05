import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import { InvalidArgumentError } from 'commander';
import { feedSettings } from '../../deploy/feed';
import { planFeed } from '../../deploy/feed-plan';
import { deployedFunctions, deployRegions } from '../../deploy/regions';
import { memberActions, operatorActions, ROLE_POLICY_TEMPLATE, TRUST_POLICY } from '../../deploy/role';
import { createSlsAdmin } from '../../deploy/sls-admin';
import { createTrailApi } from '../../deploy/trail-api';
import { kmsSecrets } from '../../shared/clients/kms';
import { OssClientFactory } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { parseConfig, SECRET_ENV } from '../../shared/config/load';
import type { OssguardConfig } from '../../shared/config/schema';
import { kmsSecretNames, type SecretName } from '../../shared/config/secrets';
import {
  MEMBER_POLICY_NAME,
  MEMBER_ROLE_DESCRIPTION,
  OPERATOR_POLICY_NAME,
  OPERATOR_ROLE_DESCRIPTION,
  operatorRoleName,
  POLICY_NAME,
  ROLE_DESCRIPTION,
  ROLE_NAME,
} from '../../shared/deployment/names';
import {
  memberTrustPolicy,
  renderMemberPolicy,
  renderOperatorPolicy,
  renderRolePolicy,
  trustedPrincipals,
  trustPolicy,
} from '../../shared/deployment/role-policy';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { callerAccount, parseAccounts } from '../organization';
import {
  type CloudTarget,
  checkoutPaths,
  deployTarget,
  type TargetOptions,
  withTargetOptions,
} from '../target';

/**
 * `ossguard bootstrap`: what `s deploy` cannot create, made idempotently before it runs (s.yaml's pre-deploy
 * action): the function role with its trust and permission policies, the private audit bucket, and the feed
 * (deploy/feed-plan.ts): the SLS project, the trail with its OSS data events, the trail logstore's TTL and the
 * trigger-log logstore.
 */

export interface Step {
  what: string;
  change: 'create' | 'update' | 'none';
  detail: string;
  apply?: () => Promise<unknown>;
}

interface CodedError {
  code?: string;
  data?: { Code?: string };
}

/** The read's answer, or undefined when the service says the thing does not exist yet (`missing`). */
async function unlessMissing<T>(read: Promise<T>, missing: string): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    const e = (error ?? {}) as CodedError;
    if ((e.code ?? e.data?.Code) === missing) return undefined;
    throw error;
  }
}

/** Key order and whitespace do not make two policy documents different. */
function canonical(text: string | undefined): string {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, sort(v)]),
          )
        : value;
  try {
    return JSON.stringify(sort(JSON.parse(text ?? '')));
  } catch {
    return '';
  }
}

const step = (what: string, change: Step['change'], detail: string, apply?: Step['apply']): Step => ({
  what,
  change,
  detail,
  ...(apply ? { apply } : {}),
});

/** Create what is missing, update what differs from the repo, leave the rest. */
function reconcile(
  what: string,
  found: unknown,
  matches: boolean,
  how: {
    create: Step['apply'];
    update: Step['apply'];
    created: string;
    updated: string;
    unchanged: string;
  },
): Step {
  if (!found) return step(what, 'create', how.created, how.create);
  return matches ? step(what, 'none', how.unchanged) : step(what, 'update', how.updated, how.update);
}

const ramClient = (target: CloudTarget): Ram =>
  sdkClient(Ram, popConfig(target.credentials, 'ram.aliyuncs.com', 'cn-shanghai', target.endpoints.ram));

/** A role with its trust policy and one custom policy attached: the function role, or a member's role. */
interface RoleSpec {
  roleName: string;
  policyName: string;
  description: string;
  trustPolicy: string;
  /** How the steps describe the trust policy. */
  trustedBy: string;
  /** How the steps describe the permission policy. */
  grants: string;
  /** How the update step describes a trust policy that differs, given the one found. */
  trustUpdate?: (found: string | undefined) => string;
}

const FUNCTION_ROLE: RoleSpec = {
  roleName: ROLE_NAME,
  policyName: POLICY_NAME,
  description: ROLE_DESCRIPTION,
  // The role is trusted by fc.aliyuncs.com (F-FC-FUNCTION-ROLE-TRUST).
  trustPolicy: TRUST_POLICY,
  trustedBy: 'fc.aliyuncs.com (deploy/trust-policy.json)',
  grants: 'from deploy/role-policy.json',
};

async function roleSteps(ram: Ram, rolePolicy: string, spec: RoleSpec = FUNCTION_ROLE): Promise<Step[]> {
  const { roleName, policyName } = spec;
  // A missing role is EntityNotExist.Role (F-RAM-GETROLE).
  const role = await unlessMissing(ram.getRole(new $Ram.GetRoleRequest({ roleName })), 'EntityNotExist.Role');
  const trust = role?.body?.role?.assumeRolePolicyDocument;
  const roleStep = reconcile(`role ${roleName}`, role, canonical(trust) === canonical(spec.trustPolicy), {
    create: () =>
      ram.createRole(
        new $Ram.CreateRoleRequest({
          roleName,
          assumeRolePolicyDocument: spec.trustPolicy,
          description: spec.description,
        }),
      ),
    update: () =>
      ram.updateRole(new $Ram.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: spec.trustPolicy })),
    created: `trusted by ${spec.trustedBy}`,
    updated: spec.trustUpdate?.(trust) ?? `trust policy differs: trusted by ${spec.trustedBy} only`,
    unchanged: `exists, trusted by ${spec.trustedBy}`,
  });

  const policy = await unlessMissing(
    ram.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: 'Custom' })),
    'EntityNotExist.Policy',
  );
  const version = policy?.body?.defaultPolicyVersion;
  const policyStep = reconcile(
    `policy ${policyName}`,
    policy,
    canonical(version?.policyDocument) === canonical(rolePolicy),
    {
      create: () =>
        ram.createPolicy(
          new $Ram.CreatePolicyRequest({
            policyName,
            policyDocument: rolePolicy,
            description: `Permissions of the ${roleName} role`,
          }),
        ),
      update: () =>
        ram.createPolicyVersion(
          new $Ram.CreatePolicyVersionRequest({
            policyName,
            policyDocument: rolePolicy,
            setAsDefault: true,
            rotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded',
          }),
        ),
      created: spec.grants,
      updated: `new default version (was ${version?.versionId ?? '?'})`,
      unchanged: 'default version as in the repo',
    },
  );

  const listed = role && (await ram.listPoliciesForRole(new $Ram.ListPoliciesForRoleRequest({ roleName })));
  const attached = listed?.body?.policies?.policy?.some(
    (p) => p.policyName === policyName && p.policyType === 'Custom',
  );
  const attachStep = attached
    ? step(`attachment ${policyName} → ${roleName}`, 'none', 'attached')
    : step(`attachment ${policyName} → ${roleName}`, 'create', 'attach the custom policy to the role', () =>
        ram.attachPolicyToRole(
          new $Ram.AttachPolicyToRoleRequest({ policyType: 'Custom', policyName, roleName }),
        ),
      );
  return [roleStep, policyStep, attachStep];
}

async function bucketSteps(oss: OSS, bucket: string, region: string, accountId: string): Promise<Step[]> {
  const what = `audit bucket ${bucket} (${region})`;
  const info = await unlessMissing(oss.getBucketInfo(bucket), 'NoSuchBucket');
  if (!info) {
    // @types/ali-oss marks every PutBucketOptions field required; ali-oss reads only those given.
    const options = { acl: 'private' } as unknown as OSS.PutBucketOptions;
    return [step(what, 'create', 'private', () => oss.putBucket(bucket, options))];
  }
  // Whoever owns the name would receive the audit log and could plant snapshots (F-OSS-GETBUCKETINFO).
  const owner = String((info as { bucket?: { Owner?: { ID?: unknown } } }).bucket?.Owner?.ID ?? '');
  if (owner !== accountId) {
    throw new Error(
      `audit bucket ${bucket} exists but belongs to account ${owner || '(unknown)'}, not ${accountId}: choose another audit.bucket`,
    );
  }
  const { acl } = await oss.getBucketACL(bucket);
  return [
    acl === 'private'
      ? step(what, 'none', 'exists, private')
      : step(what, 'update', `ACL ${acl} → private`, () => oss.putBucketACL(bucket, 'private')),
  ];
}

/**
 * The audit bucket is in one region; a function in another region writes to it only if the config says
 * where it is (`audit.region`), otherwise it would look for the bucket in its own region.
 */
function auditRegion(config: OssguardConfig, regions: readonly string[]): string {
  if (config.audit.region) return config.audit.region;
  const [only, ...others] = regions;
  if (!only || others.length > 0) {
    throw new Error(
      `the functions run in ${regions.join(', ')}: set audit.region in the config to the audit bucket's region`,
    );
  }
  return only;
}

/**
 * The account id, for the role policy's resource ARNs and the trail's SlsProjectArn: the local cloud's, else
 * `AccountID` (the variable `s` reads), else the owner ListBuckets names: the caller's own account
 * (F-OSS-LISTBUCKETS-OWNER).
 */
async function accountIdOf(target: CloudTarget, oss: OSS, env: NodeJS.ProcessEnv): Promise<string> {
  if (target.local?.accountId) return target.local.accountId;
  if (env.AccountID) return env.AccountID;
  return callerAccount(oss);
}

/** The feed's clients; the local cloud must name its own endpoints, so nothing reaches Alibaba Cloud by mistake. */
function feedClients(target: CloudTarget, region: string, accountId: string) {
  const { actiontrail, sls } = target.endpoints;
  if (target.kind === 'local' && (!actiontrail || !sls)) {
    throw new Error('the local cloud named no ActionTrail or SLS endpoint: restart `ossguard local`');
  }
  return {
    trail: createTrailApi(target.credentials, region, actiontrail),
    sls: createSlsAdmin(target.credentials, region, sls),
    accountId: async () => accountId,
  };
}

/**
 * The KMS secrets the config names (F-KMS-CREATESECRET): created from the value bootstrap is given in the
 * secret's own environment variable (never an argument, which `ps` and shell history keep), the audit key
 * generated when none is given. A secret that exists is left as it is: rotating one is KMS's business. No
 * value is ever printed: the step says only where the value came from.
 */
async function secretSteps(
  target: CloudTarget,
  config: OssguardConfig,
  region: string,
  env: NodeJS.ProcessEnv,
): Promise<Step[]> {
  const names = kmsSecretNames(config);
  if (Object.keys(names).length === 0) return [];
  const kms = kmsSecrets(target.credentials, config.secrets?.region ?? region, target.endpoints.kms);
  const steps: Step[] = [];
  for (const [kind, name] of Object.entries(names) as Array<[SecretName, string]>) {
    const what = `KMS secret ${name}`;
    // UNVERIFIED error code for a missing secret (F-KMS-GETSECRETVALUE).
    const exists = await unlessMissing(
      kms.getSecretValue(name).then(() => true),
      'Forbidden.ResourceNotFound',
    );
    if (exists) {
      steps.push(step(what, 'none', 'exists; its value is left as it is'));
      continue;
    }
    const given = env[SECRET_ENV[kind]];
    if (!given && kind !== 'auditKey')
      throw new Error(`${what} does not exist: set ${SECRET_ENV[kind]} for bootstrap to create it from`);
    const value = given || randomBytes(32).toString('base64');
    const source = given ? `from ${SECRET_ENV[kind]}` : 'a random 256-bit key';
    steps.push(
      step(what, 'create', source, () =>
        kms.createSecret(name, value, `ossguard ${kind}, created by bootstrap`),
      ),
    );
  }
  return steps;
}

export interface BootstrapInput {
  target: CloudTarget;
  config: OssguardConfig;
  /** Regions the s.yaml deploys functions to. */
  functionRegions: readonly string[];
  rolePolicyTemplate?: string;
  /**
   * Where trail-guard runs, and so the trail's SLS project (F-FC-LOGTRIGGER-SAME-REGION): OSSGUARD_HOME_REGION,
   * else the first region of OSSGUARD_REGIONS, as deploy/deploy.sh decides. `trail.region` overrides it.
   * Default: the audit region.
   */
  homeRegion?: string;
  /** Read for AccountID. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The changes bootstrap would make; applying the steps in order makes them. */
export async function planBootstrap(input: BootstrapInput): Promise<Step[]> {
  const { config, target } = input;
  if (config.ownRoleName.toLowerCase() !== ROLE_NAME) {
    throw new Error(
      `config ownRoleName is ${config.ownRoleName}, but the functions run as ${ROLE_NAME}: loop prevention needs them equal`,
    );
  }
  const region = auditRegion(config, input.functionRegions);
  const ram = ramClient(target);
  const oss = new OssClientFactory({
    credentials: target.credentials,
    ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
  }).client(region);
  const accountId = await accountIdOf(target, oss, input.env ?? process.env);
  const rolePolicy = renderRolePolicy(
    input.rolePolicyTemplate ?? ROLE_POLICY_TEMPLATE,
    config.audit,
    accountId,
    Object.values(kmsSecretNames(config)),
    config.organization,
  );
  if (config.trail.region && input.homeRegion && config.trail.region !== input.homeRegion) {
    throw new Error(
      `trail.region is ${config.trail.region} but the home region is ${input.homeRegion}: trail-guard must run where the trail's project is (set OSSGUARD_HOME_REGION or trail.region so they agree)`,
    );
  }
  const feed = feedSettings(config, input.homeRegion ?? region);
  return [
    ...(await roleSteps(ram, rolePolicy)),
    ...(await bucketSteps(oss, config.audit.bucket, region, accountId)),
    ...(await planFeed(feedClients(target, feed.region, accountId), feed)),
    ...(await secretSteps(target, config, region, input.env ?? process.env)),
  ];
}

export interface MemberBootstrapInput {
  /** A cloud reached with the member's own credentials. */
  target: CloudTarget;
  config: OssguardConfig;
  memberAccountId: string;
  /** The account ossguard is deployed in: its function role alone is trusted. */
  deployAccountId: string;
  /**
   * Who runs `scan --accounts`, `replay --accounts` and `doctor` against the member (`--operator`): role names
   * of the deploying account, or RAM role or user ARNs. They are trusted by the read-only operator role, never
   * by the member role.
   */
  operators?: readonly string[];
  rolePolicyTemplate?: string;
}

/** A RAM role name, or the ARN of one RAM role or user (F-RAM-TRUST-ROLE-PRINCIPAL): never an account's root. */
const ROLE_NAME_TEXT = /^[A-Za-z0-9.-]{1,64}$/;
const PRINCIPAL_ARN = /^acs:ram::\d{5,20}:(role|user)\/[A-Za-z0-9.@_-]{1,64}$/;

/** An operator as a trust policy names it: a bare role name is the deploying account's role. */
function operatorArn(deployAccountId: string, operator: string): string {
  if (PRINCIPAL_ARN.test(operator)) return operator;
  if (ROLE_NAME_TEXT.test(operator)) return `acs:ram::${deployAccountId}:role/${operator}`;
  throw new Error(`operator ${operator} is neither a RAM role name nor a RAM role or user ARN`);
}

/**
 * What `ossguard bootstrap --account` makes in a member: the member role (config `organization.memberRole`),
 * trusted by the deploying account's function role alone (F-RAM-TRUST-ROLE-PRINCIPAL), with a policy of what
 * the rules read and revert there (deploy/role.ts memberActions), pinned to the member's account; with
 * `operators`, the read-only operator role beside it (shared/deployment/names.ts operatorRoleName), trusted by
 * them alone. A member role an older bootstrap let operators into loses them. Nothing else: the audit bucket,
 * the trail and the functions stay in the deploying account.
 */
export async function planMemberBootstrap(input: MemberBootstrapInput): Promise<Step[]> {
  const { config, target, memberAccountId, deployAccountId } = input;
  const organization = config.organization;
  if (!organization)
    throw new Error(
      'the config has no organization section: add organization.accounts before bootstrapping members',
    );
  if (organization.accounts !== 'all' && !organization.accounts.includes(memberAccountId))
    throw new Error(`account ${memberAccountId} is not in organization.accounts: add it first`);
  if (memberAccountId === deployAccountId)
    throw new Error(`account ${memberAccountId} is the deploying account: run bootstrap without --account`);
  const operators = [...new Set((input.operators ?? []).map((o) => operatorArn(deployAccountId, o)))];
  // The credentials must be the member's: a role made elsewhere would trust the wrong account or none.
  const oss = new OssClientFactory({
    credentials: target.credentials,
    ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
  }).client(target.region);
  const caller = await callerAccount(oss);
  if (caller !== memberAccountId)
    throw new Error(
      `the credentials are account ${caller}'s, not ${memberAccountId}'s: use the member's (README "An organization")`,
    );
  const template = input.rolePolicyTemplate ?? ROLE_POLICY_TEMPLATE;
  const ram = ramClient(target);
  const functionRole = `acs:ram::${deployAccountId}:role/${ROLE_NAME}`;
  const operatorRole = operatorRoleName(organization.memberRole);
  const memberSteps = await roleSteps(ram, renderMemberPolicy(template, memberAccountId, memberActions()), {
    roleName: organization.memberRole,
    policyName: MEMBER_POLICY_NAME,
    description: MEMBER_ROLE_DESCRIPTION,
    trustPolicy: memberTrustPolicy(deployAccountId, ROLE_NAME),
    trustedBy: functionRole,
    grants: 'what the rules read and revert',
    trustUpdate: (found) => {
      const others = trustedPrincipals(found).filter((p) => p.toLowerCase() !== functionRole.toLowerCase());
      return others.length === 0
        ? `trust policy differs: trusted by ${functionRole} only`
        : `trust policy also named ${others.join(', ')}: removed, so only ${functionRole} acts as ossguard ` +
            `there (operators get the read-only role ${operatorRole}: --operator)`;
    },
  });
  if (operators.length === 0) return memberSteps;
  return [
    ...memberSteps,
    ...(await roleSteps(
      ram,
      renderOperatorPolicy(template, memberAccountId, organization.memberRole, operatorActions()),
      {
        roleName: operatorRole,
        policyName: OPERATOR_POLICY_NAME,
        description: OPERATOR_ROLE_DESCRIPTION,
        trustPolicy: trustPolicy(operators),
        trustedBy: operators.join(', '),
        grants: 'read-only: what scan, replay and doctor read there (deploy/role.ts OPERATOR_ACTIONS)',
      },
    )),
  ];
}

interface BootstrapOptions extends TargetOptions {
  config?: string;
  sYaml?: string;
  dryRun?: boolean;
  account?: string;
  deployAccount?: string;
  operator?: string[];
}

export const registerBootstrap: RegisterCommand = (program) => {
  withTargetOptions(
    program
      .command('bootstrap')
      .description(
        `Create or update, idempotently, what s.yaml needs before it deploys: the ${ROLE_NAME} role (trust ` +
          'deploy/trust-policy.json, permissions deploy/role-policy.json), the private audit bucket of the config, ' +
          'and the feed: the SLS project of the trail (home region), the ActionTrail trail (all regions, all ' +
          'management events, logging) with its OSS data-event selector, the TTL of its logstore ' +
          'actiontrail_<trail> and the trigger-log logstore. `ossguard doctor` checks the result. ' +
          'Uses the credentials `s` uses: AccessKeyID/AccessKeySecret, else those of --profile or the default ' +
          'credential chain (ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET first).',
      ),
  )
    .option(
      '--config <file>',
      "ossguard config (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .option(
      '--s-yaml <file>',
      "the s.yaml, rendered once per region of OSSGUARD_REGIONS (default: the checkout's)",
    )
    .option('--dry-run', 'print the plan, change nothing')
    .option(
      '--account <id>',
      "a member account of the config's organization: create only its member role, with that member's " +
        'credentials (README "An organization")',
      (text: string) => singleAccount(text),
    )
    .option(
      '--deploy-account <id>',
      'with --account: the account ossguard is deployed in, whose function role the member role trusts ' +
        '(default: AccountID; with --local, the local management account)',
      (text: string) => singleAccount(text),
    )
    .option(
      '--operator <role>',
      'with --account: who runs `ossguard scan|replay --accounts` and `doctor` against the member: a role ' +
        'name of the deploying account, or a RAM role or user ARN (repeatable). They get a read-only role ' +
        'there (<memberRole>-operator); the member role stays trusted by the function role alone',
      (text: string, previous: string[] = []) => {
        if (!ROLE_NAME_TEXT.test(text) && !PRINCIPAL_ARN.test(text))
          throw new InvalidArgumentError('must be a RAM role name, or a RAM role or user ARN');
        return [...previous, text];
      },
    )
    .action(async (options: BootstrapOptions) => {
      const target = await memberTarget(options);
      await warnIfRootAccount(target, options);
      const configFile = options.config ?? target.local?.configFile ?? 'ossguard.config.yaml';
      const config = parseConfig(readFileSync(configFile, 'utf8'));
      if (options.account) {
        const deployAccountId = options.deployAccount ?? target.local?.accountId ?? process.env.AccountID;
        if (!deployAccountId) throw new Error('name the deploying account: --deploy-account <id>');
        const steps = await planMemberBootstrap({
          target,
          config,
          memberAccountId: options.account,
          deployAccountId,
          ...(options.operator ? { operators: options.operator } : {}),
        });
        await applySteps(steps, options.dryRun);
        return;
      }
      // The local cloud is one region, which it names; OSSGUARD_REGIONS describes the real deployment.
      const regions = target.local
        ? [target.region]
        : deployRegions(process.env.OSSGUARD_REGIONS ?? process.env.OSSGUARD_REGION);
      const functions = await deployedFunctions(
        { ...checkoutPaths(), ...(options.sYaml ? { sYaml: options.sYaml } : {}) },
        regions,
      );
      const steps = await planBootstrap({
        target,
        config,
        functionRegions: [...new Set(functions.map((fn) => fn.region))],
        homeRegion: (!target.local && process.env.OSSGUARD_HOME_REGION) || regions[0] || 'cn-hangzhou',
      });
      await applySteps(steps, options.dryRun);
    });
};

async function applySteps(steps: readonly Step[], dryRun: boolean | undefined): Promise<void> {
  for (const step of steps) {
    if (!dryRun && step.apply) await step.apply();
    const verb = { create: 'created', update: 'updated', none: 'unchanged' }[step.change];
    const plan = { create: 'would create', update: 'would update', none: 'unchanged' }[step.change];
    process.stdout.write(`${step.what}: ${dryRun ? plan : verb} (${step.detail})\n`);
  }
}

/**
 * The credentials bootstrap runs with: the deploying account's (`s`'s), or with `--account` the member's. The
 * local cloud has each account's root key in its state file; elsewhere the member's come from the usual
 * chain or `--profile` (a RamRoleArn profile into the member works too, README "An organization";
 * F-RD-MEMBER-ACCESS).
 */
async function memberTarget(options: BootstrapOptions): Promise<CloudTarget> {
  const target = await deployTarget(options);
  const member =
    options.account && !options.profile
      ? target.local?.accounts?.find((a) => a.accountId === options.account)
      : undefined;
  if (!member) return target;
  return {
    ...target,
    credentials: { accessKeyId: member.accessKeyId, accessKeySecret: member.accessKeySecret },
  };
}

function singleAccount(text: string): string {
  const ids = parseAccounts(text);
  if (ids === 'all' || ids.length !== 1) throw new InvalidArgumentError('must be one account id');
  return ids[0] as string;
}
