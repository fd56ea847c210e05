import { networkContains, parseNetwork } from '../../shared/network';
import { wildcardMatches } from '../../shared/wildcard';
import { ERR, OssError } from './errors';

/**
 * Bucket policies: the checks PutBucketPolicy applies, what OSS calls a public policy (GetBucketPolicyStatus,
 * Block Public Access), and the statements that can let an anonymous request in. Syntax and the "public"
 * rules follow F-OSS-POLICY-GRAMMAR and F-OSS-PUBLIC-DEFINITION.
 */
export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  principals: string[];
  actions: string[];
  resources: string[];
  conditions: ConditionClause[];
}

export interface ConditionClause {
  operator: string;
  /** Lower case: condition keys are case-insensitive. */
  key: string;
  values: string[];
}

/** Multiple policies of one bucket may total 16 KB (F-OSS-POLICY-SIZE). */
const MAX_POLICY_BYTES = 16 * 1024;

const invalid = (reason: string): OssError =>
  new OssError(ERR.InvalidPolicyDocument, { message: `Invalid Policy: ${reason}` });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A single value may stand for a one-element list (RAM policy grammar). */
function list(value: unknown, field: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.some((item) => !['string', 'number', 'boolean'].includes(typeof item))) {
    throw invalid(`${field} must be a string or a list of strings`);
  }
  return items.map(String);
}

function parseStatement(raw: unknown, index: number): PolicyStatement {
  const at = `Statement[${index}]`;
  if (!isRecord(raw)) throw invalid(`${at} is not an object`);
  const { Effect, Action, Principal, Resource, Condition } = raw;
  if (Effect !== 'Allow' && Effect !== 'Deny') throw invalid(`${at}.Effect must be Allow or Deny`);
  if (Action === undefined) throw invalid(`${at}.Action is required`);
  if (Principal === undefined) throw invalid(`${at}.Principal is required in a bucket policy`);
  if (Resource === undefined) throw invalid(`${at}.Resource is required`);
  if (Condition !== undefined && !isRecord(Condition)) throw invalid(`${at}.Condition is not an object`);
  const conditions = Object.entries(Condition ?? {}).flatMap(([operator, entries]) => {
    if (!isRecord(entries)) throw invalid(`${at}.Condition.${operator} is not an object`);
    return Object.entries(entries).map(([key, values]) => ({
      operator,
      key: key.toLowerCase(),
      values: list(values, `${at}.Condition.${operator}.${key}`),
    }));
  });
  const principals = list(Principal, `${at}.Principal`);
  return {
    effect: Effect,
    // `"Principal": []` means everyone, like `["*"]`.
    principals: principals.length === 0 ? ['*'] : principals,
    actions: list(Action, `${at}.Action`),
    resources: list(Resource, `${at}.Resource`),
    conditions,
  };
}

export function parsePolicy(text: string): PolicyStatement[] {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw invalid('the policy is larger than 16 KB');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw invalid(`Invalid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(document)) throw invalid('the policy is not a JSON object');
  if (document.Version !== '1') throw invalid('Version must be "1"');
  const statements = document.Statement;
  if (!Array.isArray(statements) || statements.length === 0)
    throw invalid('Statement must be a non-empty list');
  return statements.map(parseStatement);
}

const RESTRICTING_STRING_OPERATORS = new Set(['stringequals', 'stringequalsignorecase', 'stringlike']);
const FIXED_VALUE_KEYS = new Set(['acs:sourcevpc', 'acs:sourcevpcid', 'acs:accessid']);
const NETWORK_KEYS = new Set(['acs:sourceip', 'acs:sourcevpcip']);

/** IPv4 masks of at least /8 and IPv6 masks of at least /32 count as a bounded network. */
function isBoundedNetwork(value: string): boolean {
  const network = parseNetwork(value);
  return network !== undefined && network.bits >= (network.family === 4 ? 8 : 32);
}

function restrictsCaller(clause: ConditionClause): boolean {
  const operator = clause.operator.toLowerCase();
  if (clause.values.length === 0) return false;
  if (FIXED_VALUE_KEYS.has(clause.key)) {
    return RESTRICTING_STRING_OPERATORS.has(operator) && clause.values.every((v) => !v.includes('*'));
  }
  if (NETWORK_KEYS.has(clause.key)) return operator === 'ipaddress' && clause.values.every(isBoundedNetwork);
  return false;
}

/**
 * OSS's own rule (Block Public Access page): an Allow statement is non-public when its Principal lists only
 * fixed values, or a condition pins the caller to fixed VPCs / AccessKeys or to a bounded network. Action
 * and Resource do not matter, and Deny statements never grant public access.
 */
export function isStatementPublic(statement: PolicyStatement): boolean {
  if (statement.effect === 'Deny') return false;
  const fixedPrincipals = statement.principals.every((p) => !p.includes('*'));
  return !fixedPrincipals && !statement.conditions.some(restrictsCaller);
}

export const isPolicyPublic = (statements: PolicyStatement[]): boolean => statements.some(isStatementPublic);

/** What the policy can know about an anonymous request. */
export interface AnonymousRequest {
  action: string;
  /** `acs:oss:*:<owner>:<bucket>/<key>` */
  resource: string;
  sourceIp: string;
  userAgent: string;
  now: Date;
}

/** The emulator compares actions, resources and `StringLike` values ignoring case. */
const matchesIgnoringCase = (pattern: string, text: string): boolean =>
  wildcardMatches(pattern, text, { ignoreCase: true });

function inNetworks(ip: string, values: string[]): boolean {
  return values.some((value) => {
    if (value === '*') return true;
    const network = parseNetwork(value);
    return network !== undefined && networkContains(network, ip);
  });
}

type Tristate = boolean | 'unknown';

/** Keys an anonymous local request has; everything else (SourceVpc, AccessId, tags…) is absent. */
function contextValue(key: string, request: AnonymousRequest): string | undefined {
  switch (key) {
    case 'acs:sourceip':
      return request.sourceIp;
    case 'acs:useragent':
      return request.userAgent;
    case 'acs:securetransport':
      return 'false';
    case 'acs:currenttime':
      return request.now.toISOString();
    default:
      return undefined;
  }
}

const STRING_TESTS: Record<string, (actual: string, expected: string) => boolean> = {
  stringequals: (a, e) => a === e,
  stringequalsignorecase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  stringlike: (a, e) => matchesIgnoringCase(e, a),
  bool: (a, e) => a === e.toLowerCase(),
};

function evaluateClause(clause: ConditionClause, request: AnonymousRequest): Tristate {
  const operator = clause.operator.toLowerCase();
  const negated = operator.startsWith('stringnot') || operator === 'notipaddress';
  const actual = contextValue(clause.key, request);
  if (actual === undefined) return negated;
  if (operator === 'ipaddress' || operator === 'notipaddress') {
    return inNetworks(actual, clause.values) !== negated;
  }
  const test = STRING_TESTS[negated ? operator.replace('stringnot', 'string') : operator];
  if (!test) return 'unknown';
  return clause.values.some((expected) => test(actual, expected)) !== negated;
}

function conditionsHold(statement: PolicyStatement, request: AnonymousRequest): Tristate {
  const results = statement.conditions.map((clause) => evaluateClause(clause, request));
  if (results.includes(false)) return false;
  return results.includes('unknown') ? 'unknown' : true;
}

/**
 * An explicit Deny wins over any Allow. Conditions the emulator cannot evaluate make an Allow not apply and
 * a Deny apply, so an unknown condition never opens a bucket.
 */
export function anonymousDecision(
  statements: PolicyStatement[],
  request: AnonymousRequest,
): 'allow' | 'deny' | 'none' {
  const applicable = statements.filter(
    (s) =>
      s.principals.includes('*') &&
      s.actions.some((a) => matchesIgnoringCase(a, request.action)) &&
      s.resources.some((r) => matchesIgnoringCase(r, request.resource)),
  );
  if (applicable.some((s) => s.effect === 'Deny' && conditionsHold(s, request) !== false)) return 'deny';
  return applicable.some((s) => s.effect === 'Allow' && conditionsHold(s, request) === true)
    ? 'allow'
    : 'none';
}
