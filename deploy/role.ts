import { SNAPSHOT_PREFIX } from '../shared/guards/policy-snapshots';
import { registry } from '../shared/rules';
import type { Rule } from '../shared/rules/types';
import { SWEEP_PREFIX } from '../shared/sweep/checkpoint';
import { parseRamPolicy } from './ram-policy';
import rolePolicy from './role-policy.json';
import trustPolicy from './trust-policy.json';

/**
 * ossguard's function role: one role for every function, its permission policy (deploy/role-policy.json) and
 * trust policy (deploy/trust-policy.json). `ossguard bootstrap` creates them, s.yaml names the role, and the
 * local cloud enforces the same policy on every call the functions make.
 */
export const ROLE_NAME = 'ossguard-fn';
export const POLICY_NAME = 'ossguard-fn-policy';
export const ROLE_DESCRIPTION =
  'ossguard functions: re-read OSS and RAM state, remediate, write audit records';

/** The repo's policy files, as text. */
export const ROLE_POLICY_TEMPLATE = JSON.stringify(rolePolicy, null, 2);
export const TRUST_POLICY = JSON.stringify(trustPolicy, null, 2);

/**
 * RAM actions the shared pipeline and the guards' `observe` need besides what rules declare in
 * `readActions` and `remediation.actions`, with the call that needs each.
 */
export const PIPELINE_ACTIONS: Readonly<Record<string, string>> = {
  'oss:PutObject': 'audit record write (PutObject with x-oss-forbid-overwrite)',
  'oss:GetObject': 'audit record existence check before acting (HeadObject is authorised as GetObject)',
  'oss:GetBucketTagging': 'bucket tags for tag-based exceptions (GetBucketTags)',
  'ram:GetUser': 'IMS GetUser by AccessKey id: who owns a new key, and the tags for exceptions',
  'oss:ListBuckets': 'oss-sweeper: every bucket of the account, page by page (ListBuckets)',
  // SLS authorises PullLogs (and GetCursor) as log:GetCursorOrData (SLS "RAM authorization" action list);
  // trail logstores are named actiontrail_<trail>, which the policy's resource pins.
  'log:GetCursorOrData': 'trail-guard: PullLogs over the trail logstore range its log trigger names',
};

/** Where the audit records go: the policy's write path is rendered from the config's `audit` block. */
export interface AuditLocation {
  bucket: string;
  prefix: string;
}

/**
 * Fills in the audit bucket and the prefixes the functions write there (`${audit.bucket}`, `${audit.prefix}`
 * from the config; `${snapshot.prefix}` and `${sweep.prefix}` from the code that writes them), then checks
 * the result parses as a RAM policy.
 */
export function renderRolePolicy(template: string, audit: AuditLocation): string {
  const values: Record<string, string> = {
    'audit.bucket': audit.bucket,
    'audit.prefix': audit.prefix,
    'snapshot.prefix': SNAPSHOT_PREFIX,
    'sweep.prefix': SWEEP_PREFIX,
  };
  const rendered = template.replace(/\$\{([a-z.]+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`role policy: unknown placeholder ${whole}`);
    return value;
  });
  parseRamPolicy(rendered);
  return rendered;
}

/** Every action the code declares it calls: rule reads and remediations, plus the pipeline's own. */
export function declaredActions(rules: readonly Rule<never>[] = registry): string[] {
  const fromRules = rules.flatMap((rule) => [...rule.readActions, ...(rule.remediation?.actions ?? [])]);
  return [...new Set([...fromRules, ...Object.keys(PIPELINE_ACTIONS)])].sort();
}

/** The actions a policy grants, across its Allow statements. */
export function grantedActions(policy: string): string[] {
  const statements = parseRamPolicy(policy).filter((s) => s.effect === 'Allow');
  return [...new Set(statements.flatMap((s) => s.actions))].sort();
}
