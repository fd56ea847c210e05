import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  CLIProfileCredentialsProvider,
  type CredentialsProvider,
  DefaultCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
} from '@alicloud/credentials';
import type { Command } from 'commander';
import type { CloudCredentials } from '../shared/clients/oss';
import type { Endpoints } from '../shared/config/load';

/** What `ossguard local` writes once it is ready, so `--local` commands in other shells can find it. */
export interface LocalState {
  oss: string;
  ram?: string;
  ims?: string;
  actiontrail?: string;
  /** Simple Log Service (PullLogs, and the project/logstore management bootstrap and doctor use). */
  sls?: string;
  /** KMS Secrets Manager (GetSecretValue, CreateSecret). */
  kms?: string;
  /** Security Center (the AccessKey leak findings). */
  sas?: string;
  dingtalk?: string;
  smtp?: string;
  fc?: string;
  region: string;
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  auditBucket: string;
  /** The config the local functions run with (audit bucket, DingTalk sink, SMTP server of the local cloud). */
  configFile: string;
  /** The environment FC gives the functions here: config, endpoints and the local robot's secret. */
  functionEnv?: Record<string, string>;
  /** STS credentials of ossguard's function role, as FC would pass them to the functions. */
  functionCredentials: Required<CloudCredentials>;
  /**
   * A role of the local account for the people who run the CLI, with a session of it: what `--local` commands
   * reach the members' operator roles with, since the administrator key above is a root key, which may assume
   * no role (F-STS-ASSUMEROLE).
   */
  operator?: { roleName: string; credentials: Required<CloudCredentials> };
  /** STS (GetCallerIdentity, an organization's member roles) and Resource Directory (ListAccounts). */
  sts?: string;
  resourcemanager?: string;
  /** The LookupEvents calls per second the local ActionTrail allows a caller (2 unless a test raised it). */
  lookupCallsPerSecond?: number;
  /** Every account of the local cloud with its root key: the first is `accountId`, the directory's management account. */
  accounts?: Array<{ accountId: string; displayName: string; accessKeyId: string; accessKeySecret: string }>;
}

export const LOCAL_STATE_FILE = join('.ossguard-local', 'ready.json');

export function localStatePath(): string {
  return resolve(process.env.OSSGUARD_LOCAL_STATE ?? LOCAL_STATE_FILE);
}

/** Where the built bundles are: next to the CLI bundle when bundled, else `dist/` of the working tree. */
export function distDir(): string {
  return typeof __dirname === 'string' && __dirname.endsWith(join('dist', 'cli'))
    ? resolve(__dirname, '..')
    : resolve(process.cwd(), 'dist');
}

/** A cloud to talk to: Alibaba Cloud with the caller's credentials, or a running `ossguard local`. */
export interface CloudTarget {
  kind: 'alibaba' | 'local';
  region: string;
  credentials: CloudCredentials;
  endpoints: Endpoints;
  local?: LocalState;
}

export interface TargetOptions {
  local?: boolean;
  region?: string;
  /** A profile of the `aliyun` CLI's ~/.aliyun/config.json (F-CREDENTIALS-CHAIN). */
  profile?: string;
}

/** Adds the options every cloud-facing command shares. */
export function withTargetOptions(command: Command): Command {
  return command
    .option('--local', 'talk to a running `ossguard local` instead of Alibaba Cloud')
    .option('--region <region>', 'Alibaba Cloud region id (default: ALIBABA_CLOUD_REGION_ID or cn-hangzhou)')
    .option(
      '--profile <name>',
      'credentials of this profile of the aliyun CLI (~/.aliyun/config.json), e.g. a RamRoleArn one ' +
        "(default: the default credential chain; with --local: the local cloud's administrator key)",
    );
}

/**
 * Where the CLI's credentials come from (F-CREDENTIALS-CHAIN): `--profile` names a profile of the aliyun
 * CLI; else ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN of `env` (which deployTarget maps from
 * the variables `s` reads); else the official default chain of @alicloud/credentials: OIDC, the aliyun
 * CLI's current profile (or ALIBABA_CLOUD_PROFILE), ~/.alibabacloud/credentials, the ECS RAM role, a
 * credentials URI.
 */
function credentialsProvider(profile: string | undefined, env: NodeJS.ProcessEnv): CredentialsProvider {
  if (profile) return CLIProfileCredentialsProvider.builder().withProfileName(profile).build();
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN;
  if (accessKeyId && accessKeySecret) {
    return securityToken
      ? StaticSTSCredentialsProvider.builder()
          .withAccessKeyId(accessKeyId)
          .withAccessKeySecret(accessKeySecret)
          .withSecurityToken(securityToken)
          .build()
      : StaticAKCredentialsProvider.builder()
          .withAccessKeyId(accessKeyId)
          .withAccessKeySecret(accessKeySecret)
          .build();
  }
  return DefaultCredentialsProvider.builder().build();
}

/** The credentials of the chain, resolved once per run (an STS session lasts at least 900 s). Never printed. */
async function chainCredentials(
  profile: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CloudCredentials> {
  try {
    const { accessKeyId, accessKeySecret, securityToken } = await credentialsProvider(
      profile,
      env,
    ).getCredentials();
    return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
  } catch (error) {
    // @alicloud/credentials quotes a config.json it cannot parse whole, AccessKey secrets included: cut it off.
    const reason = (error instanceof Error ? error.message : String(error)).replace(
      /(parse aliyun cli config from '[^']*' failed)[\s\S]*/,
      '$1 (not valid JSON)',
    );
    throw new Error(
      profile
        ? `no credentials from profile ${profile} of the aliyun CLI: ${reason}`
        : 'no Alibaba Cloud credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET ' +
            '(and ALIBABA_CLOUD_SECURITY_TOKEN for STS), configure a profile of the aliyun CLI and pass ' +
            `--profile, or use --local (${reason})`,
    );
  }
}

/**
 * The cloud a command talks to. `--local` takes the endpoints (and, without `--profile`, the administrator
 * key) from the running local cloud's state file; otherwise Alibaba Cloud with the credential chain.
 */
export async function resolveTarget(
  options: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CloudTarget> {
  if (options.local) {
    const path = localStatePath();
    if (!existsSync(path)) {
      throw new Error(
        `no running local cloud found (${path} is missing): start one with \`npm start\` or \`ossguard local\``,
      );
    }
    const local = JSON.parse(readFileSync(path, 'utf8')) as LocalState;
    return {
      kind: 'local',
      region: options.region ?? local.region,
      credentials: options.profile
        ? await chainCredentials(options.profile, env)
        : { accessKeyId: local.accessKeyId, accessKeySecret: local.accessKeySecret },
      endpoints: {
        oss: local.oss,
        ...(local.ram ? { ram: local.ram, ims: local.ims ?? local.ram } : {}),
        ...(local.actiontrail ? { actiontrail: local.actiontrail } : {}),
        ...(local.sls ? { sls: local.sls } : {}),
        ...(local.kms ? { kms: local.kms } : {}),
        ...(local.sas ? { sas: local.sas } : {}),
        ...(local.sts ? { sts: local.sts } : {}),
        ...(local.resourcemanager ? { resourcemanager: local.resourcemanager } : {}),
      },
      local,
    };
  }
  return {
    kind: 'alibaba',
    region: options.region ?? env.ALIBABA_CLOUD_REGION_ID ?? 'cn-hangzhou',
    credentials: await chainCredentials(options.profile, env),
    endpoints: {},
  };
}

/**
 * The credentials `s` uses: the env triple AccountID / AccessKeyID / AccessKeySecret (+ SecurityToken) that
 * Serverless Devs reads before any alias (F-SDEVS-CREDENTIALS-ENV), else the SDKs' ALIBABA_CLOUD_* names.
 */
export function deployTarget(
  options: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CloudTarget> {
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

/** Files the bundled CLI cannot find through `import.meta.url`: they live in the checkout next to dist/. */
export function checkoutPaths() {
  const root = resolve(distDir(), '..');
  const require = createRequire(join(root, 'package.json'));
  const manifest = require.resolve('@serverless-devs/s/package.json');
  const { bin } = require(manifest) as { bin: { s: string } };
  return {
    sYaml: join(root, 's.yaml'),
    workerScript: join(root, 'local', 'fc', 'worker.cjs'),
    sBin: resolve(dirname(manifest), bin.s),
  };
}
