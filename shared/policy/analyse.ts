import { policyRules } from '../rules';
import { onlyMatchesHttp } from './conditions';
import { parsePolicy } from './parse-bucket-policy';
import { accountOf, type StatementEnv, statementIsPublic } from './statement';
import type { PolicyAnalysis, PolicyContext, PolicyFinding } from './types';

function insiderTest(ctx: PolicyContext): (principal: string) => boolean {
  const accounts = new Set([
    ...(ctx.trustedAccounts ?? []),
    ...(ctx.ownerAccountId ? [ctx.ownerAccountId] : []),
  ]);
  const identities = new Set([...accounts, ...(ctx.knownPrincipals ?? [])]);
  return (p) => identities.has(p) || accounts.has(accountOf(p));
}

/** Findings of the whole policy first, then by statement, and within a statement in the rules' `order`. */
const rank = (f: PolicyFinding): [number, number] => [
  f.statement ?? -1,
  policyRules.findIndex((rule) => rule.id === f.rule),
];

/**
 * Judges a bucket policy (JSON text or an already-parsed value) with every registered policy rule
 * (shared/rules/policy). Pure and total: it never throws, and input it cannot read yields an invalid-policy
 * finding and `public: true`, because an unreadable policy is not safe.
 */
export function analysePolicy(input: unknown, ctx: PolicyContext): PolicyAnalysis {
  const parsed = parsePolicy(input, ctx);
  const env: StatementEnv = {
    ctx,
    isInternal: insiderTest(ctx),
    httpsDenies: parsed.statements.filter(
      (s) =>
        s.raw.Effect === 'Deny' &&
        onlyMatchesHttp(s.conditions) &&
        !Object.keys(s.raw).some((k) => k.startsWith('Not')),
    ),
  };
  const judged = parsed.statements.flatMap((s) =>
    policyRules.flatMap(({ id, check }) => {
      const j = check?.(s, env);
      return j
        ? [{ rule: id, severity: j.severity, statement: s.index, message: j.message, fix: j.fix }]
        : [];
    }),
  );
  const findings = [...parsed.issues, ...judged].sort((a, b) => {
    const [sa, ra] = rank(a);
    const [sb, rb] = rank(b);
    return sa - sb || ra - rb;
  });
  const unreadable = !parsed.document || parsed.statements.length < parsed.count;
  return {
    public: unreadable || parsed.statements.some(statementIsPublic),
    valid: parsed.issues.length === 0,
    findings,
    statements: parsed.count,
  };
}
