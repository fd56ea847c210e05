// The modules, not shared/policy's index: the analyser it exports walks the rule registry, which holds this rule.
import { actionsIn, DATA_READS, isFullWildcard, isWriteAction } from '../../policy/actions';
import { parseResourceArn } from '../../policy/parse-bucket-policy';
import type { Rule, RuleFinding } from '../types';
import { IDENTITY_POLICY_RULE_BASE, type IdentityPolicySubject } from './subject';

type Json = Record<string, unknown>;

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');

const ossActions = (actions: string[]): string[] => actions.filter((a) => a === '*' || /^oss:/i.test(a));

/**
 * Where a resource reaches too far: every bucket (`*`, `acs:oss:*:*:*`, a bucket name with a wildcard) or a
 * whole bucket (the bucket itself, or all its objects). Undefined: a narrower resource, or not OSS.
 */
function breadth(resource: string): { reach: 'all buckets' | 'a whole bucket'; bucket?: string } | undefined {
  if (resource === '*') return { reach: 'all buckets' };
  const arn = parseResourceArn(resource);
  if (!arn) return undefined;
  if (arn.bucket.includes('*')) return { reach: 'all buckets' };
  if (arn.object === undefined || /^\*+$/.test(arn.object))
    return { reach: 'a whole bucket', bucket: arn.bucket };
  return undefined;
}

/** What to grant instead: the reads the statement's actions cover, on one prefix of one bucket. */
function narrower(actions: string[], bucket: string | undefined): string {
  const reads = [...new Set(actions.flatMap((a) => actionsIn(a === '*' ? 'oss:*' : a, DATA_READS)))];
  return JSON.stringify({
    Effect: 'Allow',
    Action: reads.length > 0 ? reads : ['oss:GetObject'],
    Resource: [`acs:oss:*:*:${bucket ?? '<bucket>'}/<prefix>/*`],
  });
}

function statementsOf(document: string): Json[] {
  try {
    const parsed = JSON.parse(document) as Json;
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
    return statements.filter((s): s is Json => typeof s === 'object' && s !== null);
  } catch {
    return [];
  }
}

export const identityPolicyBroadOss: Rule<IdentityPolicySubject> = {
  id: 'identity-policy-broad-oss',
  order: 10,
  title: 'An identity policy grants broad write or administration rights on OSS',
  rationale:
    'A RAM policy is the permission a leaked key carries. `oss:*`, or writes and ACL/policy changes on every ' +
    'bucket or a whole bucket, turn any leak into a data breach; grant the actions a program needs, on a prefix.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'high',
  firesWhen:
    'a custom policy’s default version allows `oss:*`, or write, ACL or policy actions, on all buckets or a whole bucket; the alert gives the narrower statement',
  ...IDENTITY_POLICY_RULE_BASE,
  readActions: ['ram:GetPolicy', 'ram:GetPolicyVersion'],
  remediation: {
    id: 'roll-back-policy-version',
    description: 'set the previous default version back as default (no version is deleted)',
    actions: ['ram:ListPolicyVersions', 'ram:SetDefaultPolicyVersion'],
  },
  evaluate: (s) => {
    if (!s.document) return undefined;
    const findings: RuleFinding[] = [];
    statementsOf(s.document).forEach((statement, index) => {
      if (statement.Effect !== 'Allow') return;
      const actions = ossActions(list(statement.Action));
      const broadActions = actions.filter((a) => isFullWildcard(a) || isWriteAction(a));
      if (broadActions.length === 0) return;
      for (const resource of list(statement.Resource)) {
        const wide = breadth(resource);
        if (!wide) continue;
        const instead = narrower(actions, wide.bucket);
        findings.push({
          ruleId: 'identity-policy-broad-oss',
          severity: 'high',
          message: `policy ${s.policyName} statement ${index + 1} allows ${broadActions.join(', ')} on ${wide.reach} (${resource}); grant instead: ${instead}`,
          evidence: {
            policy: s.policyName,
            version: s.versionId ?? null,
            statement: index + 1,
            actions: broadActions.join(','),
            resource,
            narrower: instead,
          },
        });
        return;
      }
    });
    return findings;
  },
};
