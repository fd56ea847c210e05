import type { Severity } from '../severity';
import { hasWildcard, wildcardMatches } from '../wildcard';
import {
  actionsIn,
  categoriesOf,
  DATA_OPERATIONS,
  DATA_READS,
  isFullWildcard,
  isWriteAction,
} from './actions';
import { onlyMatchesHttp, pinsCaller, pinsNetwork, requiresHttps } from './conditions';
import {
  describe,
  isRecord,
  type NormalStatement,
  parsePolicy,
  parseResourceArn,
} from './parse-bucket-policy';
import {
  POLICY_RULE_IDS,
  type PolicyAnalysis,
  type PolicyContext,
  type PolicyFinding,
  type PolicyRuleId,
} from './types';

interface Env {
  ctx: PolicyContext;
  /** Statements that deny every request not made over HTTPS, for the statements they cover. */
  httpsDenies: NormalStatement[];
  isInternal: (principal: string) => boolean;
}

type Judgement = Omit<PolicyFinding, 'rule' | 'statement'>;
type StatementRule = (s: NormalStatement, env: Env) => Judgement | undefined;

/** `acs:ram::<uid>:…` and `arn:sts::<uid>:…` principals belong to account `<uid>` (the RAM ARN form). */
const ACCOUNT_IN_ARN = /^(?:acs:ram|arn:sts)::(\d+):/i;

/** Block Public Access: a principal with `*` is not a fixed value (https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access). */
const isAnyone = (principal: string): boolean => principal.includes('*');
const grantsAnyone = (s: NormalStatement): boolean => s.principals.some(isAnyone);

function insiderTest(ctx: PolicyContext): (principal: string) => boolean {
  const accounts = new Set([
    ...(ctx.trustedAccounts ?? []),
    ...(ctx.ownerAccountId ? [ctx.ownerAccountId] : []),
  ]);
  const identities = new Set([...accounts, ...(ctx.knownPrincipals ?? [])]);
  return (p) => identities.has(p) || accounts.has(ACCOUNT_IN_ARN.exec(p)?.[1] ?? '');
}

const foreignPrincipals = (s: NormalStatement, env: Env): string[] =>
  s.principals.filter((p) => !isAnyone(p) && !env.isInternal(p));

const grantsOutside = (s: NormalStatement, env: Env): boolean =>
  grantsAnyone(s) || foreignPrincipals(s, env).length > 0;

/** Per statement, exactly the Block Public Access test: Deny, fixed principals or a pinning condition. */
const statementIsPublic = (s: NormalStatement): boolean =>
  s.effect === 'Allow' && grantsAnyone(s) && !pinsCaller(s.conditions);

const list = (items: readonly string[]): string =>
  items.length <= 3 ? items.join(', ') : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;

const scope = (s: NormalStatement): string =>
  `${list(s.actions) || 'no action'} on ${list(s.resources) || 'no resource'}`;

const json = describe;

const rewrite = (s: NormalStatement, patch: Record<string, unknown>): string => json({ ...s.raw, ...patch });

const unique = (items: readonly string[]): string[] => [...new Set(items)];

const bucketArn = (ctx: PolicyContext): string =>
  `acs:oss:*:${ctx.ownerAccountId || '*'}:${ctx.bucket || '<bucket>'}`;

/** The statement's conditions plus `extra`, merging operator blocks so existing keys survive. */
function withCondition(
  s: NormalStatement,
  extra: Record<string, Record<string, string[]>>,
): Record<string, unknown> {
  const current = isRecord(s.raw.Condition) ? s.raw.Condition : {};
  const merged: Record<string, unknown> = { ...current };
  for (const [operator, keys] of Object.entries(extra)) {
    const existing = current[operator];
    merged[operator] = { ...(isRecord(existing) ? existing : {}), ...keys };
  }
  return merged;
}

const VPC_PIN = { StringEquals: { 'acs:SourceVpc': ['vpc-<id>'] } };
const INTERNET_PIN = {
  IpAddress: { 'acs:SourceIp': ['<CIDR, /8 or narrower>'] },
  StringNotLike: { 'acs:SourceVpc': ['vpc-*'] },
};

const anonymousPrincipal: StatementRule = (s) => {
  if (!statementIsPublic(s)) return undefined;
  return {
    severity: 'high',
    message:
      `anyone, including anonymous callers without credentials, may call ${scope(s)}: Principal is "*" ` +
      'and no condition fixes the VPC, the AccessKey or a source network of /8 or narrower',
    fix:
      `name the callers: ${rewrite(s, { Principal: ['<UID>'] })}; or, if the data is meant to be public ` +
      `to one network, add to Condition ${json(VPC_PIN)} (VPC) or ${json(INTERNET_PIN)} (internet addresses)`,
  };
};

const publicWrite: StatementRule = (s) => {
  if (s.effect !== 'Allow' || !grantsAnyone(s)) return undefined;
  const writes = s.actions.filter(isWriteAction);
  if (writes.length === 0) return undefined;
  const pinned = !statementIsPublic(s);
  const reads = unique(s.actions.flatMap((a) => (isWriteAction(a) ? actionsIn(a, DATA_READS) : [a])));
  return {
    severity: pinned ? 'high' : 'critical',
    message:
      `anyone${pinned ? ' on the pinned network or AccessKey' : ', including anonymous callers,'} may ` +
      `write with ${list(writes)} on ${list(s.resources) || 'no resource'}: they can overwrite or delete ` +
      'data, or upload content the owner pays to store and serve',
    fix:
      reads.length > 0
        ? `keep only reads for "*": ${rewrite(s, { Action: reads })}; grant writes to named RAM users or through STS`
        : 'remove this statement; grant writes to named RAM users or through STS tokens instead',
  };
};

const wildcardAction: StatementRule = (s, env) => {
  if (s.effect !== 'Allow') return undefined;
  const broad = s.actions.filter((a) => {
    if (!hasWildcard(a)) return false;
    const categories = categoriesOf(a);
    return isFullWildcard(a) || categories.has('bucket-admin') || categories.size > 1;
  });
  if (broad.length === 0) return undefined;
  const admin = broad.some((a) => categoriesOf(a).has('bucket-admin'));
  const severity: Severity = admin ? (grantsOutside(s, env) ? 'high' : 'medium') : 'low';
  const narrowed = unique(
    s.actions.flatMap((a) => (broad.includes(a) ? actionsIn(a, DATA_OPERATIONS) : [a])),
  );
  return {
    severity,
    message: admin
      ? `${list(broad)} also grants bucket administration (PutBucketPolicy, PutBucketAcl, DeleteBucket, …): the grantee can rewrite who has access`
      : `${list(broad)} mixes reads and writes or object and bucket-configuration operations`,
    fix:
      narrowed.length > 0
        ? `list only the operations the grantee calls, e.g. ${rewrite(s, { Action: narrowed })}`
        : 'list the bucket operations the grantee calls explicitly, e.g. "oss:GetBucketInfo"',
  };
};

/** Every object of the bucket: "*", "*\/*", "acs:oss:*:*:*", "…:bucket/*" or a bucket-name wildcard. */
function coversWholeBucket(resource: string): boolean {
  if (/^\*+(\/\*+)?$/.test(resource)) return true;
  const arn = parseResourceArn(resource);
  if (!arn) return false;
  return arn.object === undefined ? arn.bucket.endsWith('*') : /^\*+$/.test(arn.object);
}

const wholeBucketResource: StatementRule = (s, { ctx }) => {
  if (s.effect !== 'Allow') return undefined;
  const whole = s.resources.filter(coversWholeBucket);
  if (whole.length === 0) return undefined;
  const prefixOf = (r: string): string => {
    const arn = parseResourceArn(r);
    const bucket = arn && !hasWildcard(arn.bucket) ? `acs:oss:*:${arn.owner}:${arn.bucket}` : bucketArn(ctx);
    return `${bucket}/<prefix>/*`;
  };
  const narrowed = unique(s.resources.map((r) => (whole.includes(r) ? prefixOf(r) : r)));
  return {
    severity: 'low',
    message: `${list(whole)} grants ${list(s.actions) || 'the actions'} on every object; Alibaba Cloud advises granting only the paths required`,
    fix: `limit it to the prefix the grantee needs: ${rewrite(s, { Resource: narrowed })}`,
  };
};

const matchesAll = (patterns: readonly string[], values: readonly string[], ignoreCase: boolean): boolean =>
  values.every((v) => patterns.some((p) => wildcardMatches(p, v, { ignoreCase })));

/** A Deny covers an Allow when its principals, actions and resources include the Allow's. */
const covers = (deny: NormalStatement, allow: NormalStatement): boolean =>
  matchesAll(deny.principals, allow.principals, false) &&
  matchesAll(deny.actions, allow.actions, true) &&
  matchesAll(deny.resources, allow.resources, false);

const noHttpsCondition: StatementRule = (s, { ctx, httpsDenies }) => {
  if (s.effect !== 'Allow' || requiresHttps(s.conditions) || httpsDenies.some((d) => covers(d, s)))
    return undefined;
  const deny = {
    Effect: 'Deny',
    Principal: ['*'],
    Action: ['oss:*'],
    Resource: [bucketArn(ctx), `${bucketArn(ctx)}/*`],
    Condition: { Bool: { 'acs:SecureTransport': ['false'] } },
  };
  return {
    severity: 'medium',
    message: `${scope(s)} is allowed over plain HTTP, where requests and data can be read or altered in transit`,
    fix: `add this statement to the policy: ${json(deny)}; or add to this statement's Condition ${json({ Bool: { 'acs:SecureTransport': ['true'] } })}`,
  };
};

const noSourceRestriction: StatementRule = (s, env) => {
  if (s.effect !== 'Allow' || !grantsOutside(s, env) || pinsNetwork(s.conditions)) return undefined;
  return {
    severity: 'medium',
    message: `${grantsAnyone(s) ? 'everyone' : list(foreignPrincipals(s, env))} outside the account may call ${scope(s)} from any network`,
    fix: `restrict the source: ${rewrite(s, { Condition: withCondition(s, VPC_PIN) })}; for internet callers use ${json(INTERNET_PIN)} instead`,
  };
};

const foreignAccountPrincipal: StatementRule = (s, env) => {
  const foreign = foreignPrincipals(s, env);
  if (s.effect !== 'Allow' || foreign.length === 0) return undefined;
  const writes = s.actions.some(isWriteAction);
  const kept = s.principals.filter((p) => !foreign.includes(p));
  return {
    severity: writes ? 'high' : 'medium',
    message:
      `${list(foreign)} ${foreign.length === 1 ? 'is' : 'are'} neither the owner account ` +
      `${env.ctx.ownerAccountId || '(unknown: pass the owner)'}, a known RAM identity nor a trusted account, ` +
      `and may call ${scope(s)}${writes ? ', including writes' : ''}`,
    fix:
      (kept.length > 0 ? `drop them: ${rewrite(s, { Principal: kept })}` : 'remove this statement') +
      `; or, if they are partners, list them in policy.trustedAccounts (--trusted); if they are the owner's RAM users or roles, in policy.knownPrincipals (--known)`,
  };
};

const RULES: ReadonlyArray<readonly [PolicyRuleId, StatementRule]> = [
  ['anonymous-principal', anonymousPrincipal],
  ['public-write', publicWrite],
  ['wildcard-action', wildcardAction],
  ['whole-bucket-resource', wholeBucketResource],
  ['no-https-condition', noHttpsCondition],
  ['no-source-restriction', noSourceRestriction],
  ['foreign-account-principal', foreignAccountPrincipal],
];

const order = (f: PolicyFinding): [number, number] => [f.statement ?? -1, POLICY_RULE_IDS.indexOf(f.rule)];

/**
 * Judges a bucket policy (JSON text or an already-parsed value). Pure and total: it never throws, and input it
 * cannot read yields an invalid-policy finding and `public: true`, because an unreadable policy is not safe.
 */
export function analysePolicy(input: unknown, ctx: PolicyContext): PolicyAnalysis {
  const parsed = parsePolicy(input, ctx);
  const env: Env = {
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
    RULES.flatMap(([rule, evaluate]) => {
      const j = evaluate(s, env);
      return j ? [{ rule, severity: j.severity, statement: s.index, message: j.message, fix: j.fix }] : [];
    }),
  );
  const findings = [...parsed.issues, ...judged].sort((a, b) => {
    const [sa, ra] = order(a);
    const [sb, rb] = order(b);
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
