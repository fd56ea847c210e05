import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { type ConfigIssue, ConfigValidationError } from '../errors';
import { ruleIds } from '../rules';
import { configSchema, type OssguardConfig } from './schema';

/**
 * Secrets never live in the config file: they come from KMS when the config's `secrets` block names a secret
 * (shared/config/secrets.ts), else from these environment variables.
 */
export const SECRET_ENV = {
  dingtalkSecret: 'OSSGUARD_DINGTALK_SECRET',
  smtpPassword: 'OSSGUARD_SMTP_PASSWORD',
  auditKey: 'OSSGUARD_AUDIT_KEY',
} as const;

/** Endpoint overrides, set by the local cloud (or for private endpoints); absent means Alibaba Cloud's public ones. */
export const ENDPOINT_ENV = {
  oss: 'OSSGUARD_OSS_ENDPOINT',
  ram: 'OSSGUARD_RAM_ENDPOINT',
  ims: 'OSSGUARD_IMS_ENDPOINT',
  actiontrail: 'OSSGUARD_ACTIONTRAIL_ENDPOINT',
  sls: 'OSSGUARD_SLS_ENDPOINT',
  kms: 'OSSGUARD_KMS_ENDPOINT',
  sas: 'OSSGUARD_SAS_ENDPOINT',
  /** STS, for the member roles of an organization (AssumeRole). */
  sts: 'OSSGUARD_STS_ENDPOINT',
  /** Resource Directory (ListAccounts), for `organization.accounts: all`. */
  resourcemanager: 'OSSGUARD_RESOURCEMANAGER_ENDPOINT',
} as const;

export type Secrets = { -readonly [K in keyof typeof SECRET_ENV]?: string };
export type Endpoints = { -readonly [K in keyof typeof ENDPOINT_ENV]?: string };

export interface Runtime {
  config: OssguardConfig;
  secrets: Secrets;
  /** The KMS VersionId of each secret read from KMS: the audit key's names the key records are made with. */
  secretVersions?: { -readonly [K in keyof typeof SECRET_ENV]?: string };
  /**
   * The audit key's version before the latest rotation (ACSPrevious), when KMS holds one: work sealed with it
   * before the rotation is still believed.
   */
  previousAuditKey?: { value: string; versionId: string };
  endpoints: Endpoints;
}

const SECRET_LOOKING_KEY = /secret|password|accesskey|token/i;

/** Parses YAML or JSON config text and validates it strictly: unknown keys and bad values name the key. */
export function parseConfig(text: string): OssguardConfig {
  let raw: unknown;
  try {
    raw = parseText(text);
  } catch (cause) {
    throw new ConfigValidationError([{ key: '(file)', message: 'is neither valid YAML nor JSON' }], {
      cause,
    });
  }
  // Without the JIT: zod compiles a parser for each object shape on its first parse, which pays off only
  // for shapes parsed many times; the config is parsed once per instance, at cold start.
  const result = configSchema(ruleIds()).safeParse(raw ?? {}, { jitless: true });
  if (!result.success) throw new ConfigValidationError(result.error.issues.flatMap(toIssues));
  return result.data;
}

/**
 * A JSON object (as the local cloud writes the config) is read with JSON.parse; anything else, and JSON that
 * JSON.parse refuses or that repeats a key (which YAML refuses and JSON.parse would let the last one win),
 * goes to the YAML parser, loaded only then: ~120 KB that cost ~10 ms at cold start.
 */
function parseText(text: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      const value: unknown = JSON.parse(text);
      if (keysIn(value) === keysWritten(text)) return value;
    } catch {
      // Not JSON (perhaps a YAML flow mapping), or nested too deep to count: the YAML parser decides.
    }
  }
  // A CommonJS require, so that esbuild bundles yaml but runs it only here; vitest provides `require` too.
  const yaml = require('yaml') as typeof import('yaml');
  // A warning means the file reads differently from how it looks (an unknown directive, an unresolved tag):
  // an error like any other, never a process warning printed to the console.
  const doc = yaml.parseDocument(text);
  const [problem] = [...doc.errors, ...doc.warnings];
  if (problem) throw problem;
  return doc.toJS();
}

function keysIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + keysIn(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  return Object.values(value).reduce((sum: number, item) => sum + keysIn(item), Object.keys(value).length);
}

/** In text JSON.parse accepted, a string followed by a colon is a key; strings are matched whole, escapes included. */
function keysWritten(json: string): number {
  let keys = 0;
  for (const match of json.matchAll(/"(?:[^"\\]|\\.)*"\s*(:)?/g)) if (match[1]) keys++;
  return keys;
}

function toIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      key: base ? `${base}.${key}` : key,
      message: SECRET_LOOKING_KEY.test(key)
        ? `is not allowed: secrets come from the environment (${Object.values(SECRET_ENV).join(', ')}), never from the config`
        : 'is not a known setting',
    }));
  }
  return [{ key: base || '(root)', message: issue.message }];
}

/**
 * Reads the config from `OSSGUARD_CONFIG` (inline YAML/JSON) or `OSSGUARD_CONFIG_FILE`, and secrets and
 * endpoints from their variables. Called at cold start so a bad config fails the init, not a remediation.
 */
export function loadRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const inline = env.OSSGUARD_CONFIG;
  const file = env.OSSGUARD_CONFIG_FILE;
  if (!inline && !file) {
    throw new ConfigValidationError([
      {
        key: 'OSSGUARD_CONFIG',
        message: 'is not set (nor OSSGUARD_CONFIG_FILE): ossguard needs at least audit.bucket',
      },
    ]);
  }
  let text = inline ?? '';
  if (!inline && file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ConfigValidationError([{ key: 'OSSGUARD_CONFIG_FILE', message: `cannot read ${file}` }], {
        cause,
      });
    }
  }
  const config = parseConfig(text);

  const secrets: Secrets = {};
  for (const [name, variable] of Object.entries(SECRET_ENV) as Array<[keyof Secrets, string]>) {
    const value = env[variable];
    if (value) secrets[name] = value;
  }
  const endpoints: Endpoints = {};
  const issues: ConfigIssue[] = [];
  for (const [name, variable] of Object.entries(ENDPOINT_ENV) as Array<[keyof Endpoints, string]>) {
    const value = env[variable];
    if (!value) continue;
    if (/^https?:\/\/[A-Za-z0-9.[\]:-]+\/?$/.test(value)) endpoints[name] = value.replace(/\/$/, '');
    else issues.push({ key: variable, message: 'must be an http(s) URL with no path' });
  }
  for (const [name, variable] of Object.entries(SECRET_ENV) as Array<[keyof Secrets, string]>) {
    if (config.secrets?.[name] && secrets[name]) {
      issues.push({
        key: variable,
        message: `must not be set when secrets.${name} names a KMS secret: the value would sit in the function's configuration`,
      });
    }
  }
  if (config.alerts.dingtalk && !secrets.dingtalkSecret && !config.secrets?.dingtalkSecret) {
    issues.push({
      key: SECRET_ENV.dingtalkSecret,
      message:
        'must be set when alerts.dingtalk is configured (or name a KMS secret in secrets.dingtalkSecret)',
    });
  }
  if (issues.length > 0) throw new ConfigValidationError(issues);
  return { config, secrets, endpoints };
}
