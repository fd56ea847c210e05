import { parseRamPolicy } from '../shared/deployment/ram-policy';
import { registry } from '../shared/rules';
import type { Rule } from '../shared/rules/types';
import rolePolicy from './role-policy.json';
import trustPolicy from './trust-policy.json';

/**
 * The function role's policies, for bootstrap and the checks of what the code declares. Its name is in
 * shared/deployment/names.ts; the local cloud reads the same JSON files and renders them with
 * shared/deployment/role-policy.ts.
 */

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
  'oss:DeleteObject':
    'oss-sweeper: judged marks older than a day, under the pipeline prefix’s judged/ only (pruneJudged)',
  'oss:GetBucketTagging': 'bucket tags for tag-based exceptions (GetBucketTags)',
  'ram:GetUser': 'IMS GetUser by AccessKey id: who owns a new key, and the tags for exceptions',
  'oss:ListBuckets': 'oss-sweeper: every bucket of the account, page by page (ListBuckets)',
  // SLS authorises PullLogs (and GetCursor) as log:GetCursorOrData (SLS "RAM authorization" action list);
  // trail logstores are named actiontrail_<trail>, which the policy's resource pins.
  'log:GetCursorOrData': 'trail-guard: PullLogs over the trail logstore range its log trigger names',
};

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

/**
 * What a member account's role (`ossguard bootstrap --account`) needs besides the rules' reads and reverts:
 * tags for exceptions, who owns a key, and the timer sweep's listing. The CLI reads members through the
 * operator role instead (OPERATOR_ACTIONS). The audit records, the trail and KMS stay in the deploying
 * account; Security Center's leak findings are read there.
 */
export const MEMBER_PIPELINE_ACTIONS: Readonly<Record<string, string>> = {
  'oss:GetBucketTagging': PIPELINE_ACTIONS['oss:GetBucketTagging'] ?? '',
  'ram:GetUser': PIPELINE_ACTIONS['ram:GetUser'] ?? '',
  'oss:ListBuckets': 'the timer sweep (shared/sweep/members.ts): every bucket of the member (ListBuckets)',
};

/** The actions the member role grants: the rules' reads and remediations in a member, and the pipeline's there. */
export function memberActions(rules: readonly Rule<never>[] = registry): string[] {
  const fromRules = rules
    .flatMap((rule) => [...rule.readActions, ...(rule.remediation?.actions ?? [])])
    .filter((action) => !action.startsWith('yundun-'));
  return [...new Set([...fromRules, ...Object.keys(MEMBER_PIPELINE_ACTIONS)])].sort();
}

/**
 * What the read-only operator role in a member (`ossguard bootstrap --account … --operator`) grants, with the
 * command that reads each: reads only, never a remediation, so a person who runs the CLI against a member can
 * see there what ossguard sees and change nothing through it (test/unit/organization.test.ts checks each is a
 * rule's or the pipeline's read).
 */
export const OPERATOR_ACTIONS: Readonly<Record<string, string>> = {
  'oss:ListBuckets': '`ossguard scan --accounts`: every bucket of the member (ListBuckets)',
  'oss:GetBucketAcl': '`ossguard scan --accounts`: each bucket’s ACL (shared/sweep/assess.ts)',
  'oss:GetBucketPolicy': '`ossguard scan --accounts`: each bucket’s policy',
  'oss:GetBucketPolicyStatus': '`ossguard scan --accounts`: OSS’s own verdict on an exposed bucket’s policy',
  'oss:GetBucketPublicAccessBlock': '`ossguard scan --accounts`: an exposed bucket’s Block Public Access',
  'oss:GetPublicAccessBlock': '`ossguard scan --accounts`: the member’s account-level Block Public Access',
  'oss:GetBucketTagging': '`ossguard scan --accounts`: an exposed bucket’s tags, for exceptions',
  'actiontrail:LookupEvents': "`ossguard replay --accounts`: the member's event history (LookupEvents)",
  'ram:GetRole': '`ossguard doctor`: the member role’s trust policy (GetRole), on that role only',
};

/** The actions the operator role grants (OPERATOR_ACTIONS), sorted. */
export const operatorActions = (): string[] => Object.keys(OPERATOR_ACTIONS).sort();
