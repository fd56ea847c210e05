import { readFileSync } from 'node:fs';
import Ram, * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import { deployedFunctions, deployRegions } from '../../deploy/regions';
import {
  POLICY_NAME,
  ROLE_DESCRIPTION,
  ROLE_NAME,
  ROLE_POLICY_TEMPLATE,
  renderRolePolicy,
  TRUST_POLICY,
} from '../../deploy/role';
import { OssClientFactory } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { parseConfig } from '../../shared/config/load';
import type { OssguardConfig } from '../../shared/config/schema';
import { type CloudTarget, resolveTarget, type TargetOptions, withTargetOptions } from '../target';
import type { RegisterCommand } from './index';
import { checkoutPaths } from './local';

/**
 * `ossguard bootstrap`: what `s deploy` cannot create, made idempotently before it runs (s.yaml's pre-deploy
 * action): the function role with its trust and permission policies, and the private audit bucket.
 */

/**
 * The credentials `s` uses: the env triple AccountID / AccessKeyID / AccessKeySecret (+ SecurityToken) that
 * Serverless Devs reads before any alias (deploy.md §3.4), else the ALIBABA_CLOUD_* convention of the SDKs.
 */
export function deployTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): CloudTarget {
  const sStyle = env.AccessKeyID && env.AccessKeySecret;
  return resolveTarget(
    options,
    sStyle
      ? {
          ...env,
          ALIBABA_CLOUD_ACCESS_KEY_ID: env.AccessKeyID,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: env.AccessKeySecret,
          ALIBABA_CLOUD_SECURITY_TOKEN: env.SecurityToken,
          ALIBABA_CLOUD_REGION_ID: env.OSSGUARD_REGION ?? env.ALIBABA_CLOUD_REGION_ID,
        }
      : env,
  );
}

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

async function roleSteps(ram: Ram, rolePolicy: string): Promise<Step[]> {
  const roleName = ROLE_NAME;
  const policyName = POLICY_NAME;
  const role = await unlessMissing(ram.getRole(new $Ram.GetRoleRequest({ roleName })), 'EntityNotExist.Role');
  const trust = role?.body?.role?.assumeRolePolicyDocument;
  const roleStep = reconcile(`role ${roleName}`, role, canonical(trust) === canonical(TRUST_POLICY), {
    create: () =>
      ram.createRole(
        new $Ram.CreateRoleRequest({
          roleName,
          assumeRolePolicyDocument: TRUST_POLICY,
          description: ROLE_DESCRIPTION,
        }),
      ),
    update: () =>
      ram.updateRole(new $Ram.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: TRUST_POLICY })),
    created: 'trusted by fc.aliyuncs.com',
    updated: 'trust policy differs from deploy/trust-policy.json',
    unchanged: 'exists, trust policy as in the repo',
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
      created: 'from deploy/role-policy.json',
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

async function bucketSteps(oss: OSS, bucket: string, region: string): Promise<Step[]> {
  const what = `audit bucket ${bucket} (${region})`;
  if (!(await unlessMissing(oss.getBucketInfo(bucket), 'NoSuchBucket'))) {
    // @types/ali-oss marks every PutBucketOptions field required; ali-oss reads only those given.
    const options = { acl: 'private' } as unknown as OSS.PutBucketOptions;
    return [step(what, 'create', 'private', () => oss.putBucket(bucket, options))];
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

export interface BootstrapInput {
  target: CloudTarget;
  config: OssguardConfig;
  /** Regions the s.yaml deploys functions to. */
  functionRegions: readonly string[];
  rolePolicyTemplate?: string;
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
  const rolePolicy = renderRolePolicy(input.rolePolicyTemplate ?? ROLE_POLICY_TEMPLATE, config.audit);
  const oss = new OssClientFactory({
    credentials: target.credentials,
    ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
  }).client(region);
  return [
    ...(await roleSteps(ramClient(target), rolePolicy)),
    ...(await bucketSteps(oss, config.audit.bucket, region)),
  ];
}

interface BootstrapOptions extends TargetOptions {
  config?: string;
  sYaml?: string;
  dryRun?: boolean;
}

export const registerBootstrap: RegisterCommand = (program) => {
  withTargetOptions(
    program
      .command('bootstrap')
      .description(
        `Create or update, idempotently, what s.yaml needs before it deploys: the ${ROLE_NAME} role (trust ` +
          'deploy/trust-policy.json, permissions deploy/role-policy.json) and the private audit bucket of the config. ' +
          'Uses the credentials `s` uses: AccessKeyID/AccessKeySecret, else ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET.',
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
    .action(async (options: BootstrapOptions) => {
      const target = deployTarget(options);
      const configFile = options.config ?? target.local?.configFile ?? 'ossguard.config.yaml';
      const config = parseConfig(readFileSync(configFile, 'utf8'));
      const functions = await deployedFunctions(
        { ...checkoutPaths(), ...(options.sYaml ? { sYaml: options.sYaml } : {}) },
        deployRegions(process.env.OSSGUARD_REGIONS ?? process.env.OSSGUARD_REGION),
      );
      const steps = await planBootstrap({
        target,
        config,
        functionRegions: [...new Set(functions.map((fn) => fn.region))],
      });
      for (const step of steps) {
        if (!options.dryRun && step.apply) await step.apply();
        const verb = { create: 'created', update: 'updated', none: 'unchanged' }[step.change];
        const plan = { create: 'would create', update: 'would update', none: 'unchanged' }[step.change];
        process.stdout.write(`${step.what}: ${options.dryRun ? plan : verb} (${step.detail})\n`);
      }
    });
};
