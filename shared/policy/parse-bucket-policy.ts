import { parseNetwork } from '../network';
import type { Severity } from '../severity';
import { CONDITION_OPERATORS, type ConditionEntry, IP_KEYS } from './conditions';
import { repeatedKeys } from './repeated-keys';
import { INVALID_POLICY, type PolicyContext, type PolicyFinding } from './types';

/**
 * A statement reduced to what the rules judge. Whatever could not be read is filled in fail-closed: an
 * unknown Effect counts as Allow, a missing or negated Principal as "*", NotAction/NotResource as "*", so an
 * invalid statement can only look more dangerous than it is, never safer.
 */
export interface NormalStatement {
  index: number;
  effect: 'Allow' | 'Deny';
  principals: string[];
  actions: string[];
  resources: string[];
  conditions: ConditionEntry[];
  /** The statement as written, for fixes that rewrite it. */
  raw: Record<string, unknown>;
}

export interface ParsedPolicy {
  /** The document when it is a JSON object, for rewriting (stripStatements). */
  document: Record<string, unknown> | undefined;
  statements: NormalStatement[];
  /** Number of entries in the Statement list, analysable or not. */
  count: number;
  issues: PolicyFinding[];
}

/** "Multiple policies total ≤ 16 KB" (OSS bucket policy limits). */
const MAX_POLICY_BYTES = 16 * 1024;
const POLICY_ELEMENTS = new Set(['Version', 'Statement']);
/** The OSS syntax page lists only these (https://www.alibabacloud.com/help/en/oss/user-guide/authorization-syntax-and-elements). */
const STATEMENT_ELEMENTS = new Set(['Effect', 'Action', 'Principal', 'Resource', 'Condition']);
const NEGATED_ELEMENTS = ['NotAction', 'NotPrincipal', 'NotResource'] as const;
/** acs:oss:{region}:{bucket_owner_uid}:{bucket_name}[/{object}]; region "can be set only to an asterisk". */
const RESOURCE_ARN = /^acs:oss:([^:]*):([^:]*):([^/]*)(\/.*)?$/;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An already-parsed input may carry `undefined` members; JSON has no such value, so they count as absent. */
const defined = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));

/** JSON text for messages; an already-parsed input may hold values JSON cannot encode (BigInt, cycles). */
export function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'missing';
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A single value may stand for a one-element list (RAM policy grammar). */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return undefined;
}

const scalarList = (value: unknown): string[] | undefined => {
  const list = Array.isArray(value) ? value : [value];
  return list.every((v) => ['string', 'number', 'boolean'].includes(typeof v)) ? list.map(String) : undefined;
};

export interface ResourceArn {
  region: string;
  owner: string;
  bucket: string;
  /** Everything after the first `/`, or undefined for the bucket itself. */
  object: string | undefined;
}

export function parseResourceArn(resource: string): ResourceArn | undefined {
  const m = RESOURCE_ARN.exec(resource);
  if (!m) return undefined;
  return { region: m[1] ?? '', owner: m[2] ?? '', bucket: m[3] ?? '', object: m[4]?.slice(1) };
}

class IssueSink {
  readonly issues: PolicyFinding[] = [];

  add(statement: number | null, message: string, fix: string, severity: Severity = 'high'): void {
    this.issues.push({ rule: INVALID_POLICY, severity, statement, message, fix });
  }
}

function readDocument(input: unknown, sink: IssueSink): Record<string, unknown> | undefined {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      sink.add(
        null,
        `the policy is not valid JSON (${error instanceof Error ? error.message : String(error)}), so nothing in it can be judged safe`,
        'fix the JSON syntax, e.g. with `jq . policy.json`, and check again',
      );
      return undefined;
    }
    const repeated = repeatedKeys(input);
    if (repeated.length > 0)
      sink.add(
        null,
        `the policy names ${repeated.map((k) => JSON.stringify(k)).join(', ')} more than once in one object: ` +
          'ossguard would read the last value and OSS may read the first, so the policy cannot be judged safe',
        'keep each key once per object, merging the values you mean',
      );
  }
  if (!isRecord(value)) {
    sink.add(
      null,
      'the policy is not a JSON object, so nothing in it can be judged safe',
      'write it as {"Version":"1","Statement":[...]}',
    );
    return undefined;
  }
  return defined(value);
}

function checkTopLevel(doc: Record<string, unknown>, sink: IssueSink): unknown[] {
  if (!('Version' in doc))
    sink.add(
      null,
      'the policy has no Version; OSS documents "1" as required',
      'add "Version": "1"',
      'medium',
    );
  else if (doc.Version !== '1')
    sink.add(null, `Version is ${describe(doc.Version)}; OSS accepts only "1"`, 'set "Version": "1"');
  const unknown = Object.keys(doc).filter((k) => !POLICY_ELEMENTS.has(k));
  if (unknown.length > 0)
    sink.add(
      null,
      `unknown top-level element(s) ${unknown.join(', ')}; OSS policies have only Version and Statement`,
      `remove ${unknown.join(', ')}`,
      'medium',
    );
  const statements = doc.Statement;
  if (Array.isArray(statements)) {
    if (statements.length === 0)
      sink.add(
        null,
        'the Statement list is empty: the policy grants nothing',
        'delete the policy instead',
        'medium',
      );
    return statements;
  }
  if (isRecord(statements)) {
    sink.add(null, 'Statement must be a list', 'wrap the statement in [ ]');
    return [statements];
  }
  sink.add(
    null,
    'the policy has no Statement list',
    'add "Statement": [ {Effect, Principal, Action, Resource} ]',
  );
  return [];
}

function readPrincipals(raw: Record<string, unknown>, index: number, sink: IssueSink): string[] {
  if ('NotPrincipal' in raw) return ['*'];
  if (!('Principal' in raw)) {
    sink.add(
      index,
      'the statement has no Principal, which bucket policies require',
      'add "Principal": ["<UID>"] naming who is granted',
    );
    return ['*'];
  }
  const value = raw.Principal;
  const list = stringList(value);
  // "Principal": [] grants everyone, exactly like "*" (authorization syntax page).
  if (list) return list.length === 0 ? ['*'] : list;
  if (isRecord(value)) {
    const flat = Object.values(value).flatMap((v) => stringList(v) ?? []);
    sink.add(
      index,
      `Principal is an object (${Object.keys(value).join(', ')}); OSS bucket policies take a list of UIDs`,
      `use "Principal": ${JSON.stringify(flat)}`,
      'medium',
    );
    if (flat.length > 0) return flat;
  } else sink.add(index, 'Principal must be a string or a list of strings', 'use "Principal": ["<UID>"]');
  return ['*'];
}

function readList(
  raw: Record<string, unknown>,
  element: 'Action' | 'Resource',
  index: number,
  sink: IssueSink,
): string[] {
  if (`Not${element}` in raw) return ['*'];
  const list = stringList(raw[element]);
  if (list && list.length > 0) return list;
  const example = element === 'Action' ? '["oss:GetObject"]' : '["acs:oss:*:<UID>:<bucket>/<prefix>/*"]';
  sink.add(
    index,
    element in raw
      ? `${element} must be a non-empty string or list of strings`
      : `the statement has no ${element}`,
    `set "${element}": ${example}`,
  );
  return [];
}

function checkActions(actions: readonly string[], index: number, sink: IssueSink): void {
  const foreign = actions.filter((a) => a !== '*' && !/^oss:/i.test(a));
  if (foreign.length > 0)
    sink.add(
      index,
      `${foreign.join(', ')} ${foreign.length === 1 ? 'is not an OSS action' : 'are not OSS actions'}; a bucket policy grants only oss:<ApiName>`,
      `remove ${foreign.join(', ')} or use oss: actions`,
      'medium',
    );
}

function checkResources(
  resources: readonly string[],
  index: number,
  ctx: PolicyContext,
  sink: IssueSink,
): void {
  for (const resource of resources) {
    if (resource === '*') continue;
    const arn = parseResourceArn(resource);
    const expected = `acs:oss:*:${ctx.ownerAccountId || '*'}:${ctx.bucket || '<bucket>'}/<prefix>/*`;
    if (!arn) {
      sink.add(index, `Resource ${resource} is not an OSS resource ARN`, `use ${expected}`, 'medium');
      continue;
    }
    const otherBucket = ctx.bucket && !/[*?]/.test(arn.bucket) && arn.bucket !== ctx.bucket;
    const otherOwner = ctx.ownerAccountId && arn.owner !== '*' && arn.owner !== ctx.ownerAccountId;
    if (arn.region !== '*' || otherBucket || otherOwner)
      sink.add(
        index,
        `Resource ${resource} does not belong to this bucket (region must be "*", owner ${ctx.ownerAccountId || 'the owner UID'}, bucket ${ctx.bucket || 'this bucket'})`,
        `use ${expected}`,
        'medium',
      );
  }
}

function readConditions(raw: Record<string, unknown>, index: number, sink: IssueSink): ConditionEntry[] {
  if (!('Condition' in raw)) return [];
  const block = raw.Condition;
  if (!isRecord(block)) {
    sink.add(
      index,
      'Condition must be an object of operator blocks',
      'use "Condition": {"<Operator>": {"<key>": [values]}}',
    );
    return [];
  }
  const entries: ConditionEntry[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    if (!CONDITION_OPERATORS.has(operator))
      sink.add(
        index,
        `${operator} is not a RAM condition operator, so OSS rejects or ignores it`,
        'use one of StringEquals, StringLike, IpAddress, Bool, … (https://www.alibabacloud.com/help/en/ram/conditional-operator)',
        'medium',
      );
    if (!isRecord(keys)) {
      sink.add(
        index,
        `Condition ${operator} must map keys to values`,
        `use "${operator}": {"<key>": [values]}`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(keys)) {
      const values = scalarList(value);
      if (!values)
        sink.add(
          index,
          `Condition ${operator} ${key} has a value that is not a string, number or boolean`,
          'use a list of strings',
        );
      else entries.push({ operator, key: key.toLowerCase(), values });
    }
  }
  return entries;
}

function checkConditions(entries: readonly ConditionEntry[], index: number, sink: IssueSink): void {
  const bad = entries
    .filter((e) => IP_KEYS.has(e.key))
    .flatMap((e) => e.values.filter((v) => v !== '*' && !parseNetwork(v.trim())));
  if (bad.length > 0)
    sink.add(
      index,
      `${bad.join(', ')} is not an IP address or CIDR block`,
      'use e.g. "192.168.0.0/16"',
      'medium',
    );
  // "When you specify acs:SourceIp in a bucket policy, you must also specify acs:SourceVpc": PutBucketPolicy
  // fails with EC 0030-00000008 for new or modified policies (F-OSS-POLICY-SOURCEIP-VPC).
  const keys = new Set(entries.map((e) => e.key));
  if (keys.has('acs:sourceip') && !keys.has('acs:sourcevpc'))
    sink.add(
      index,
      'acs:SourceIp is used without acs:SourceVpc; OSS rejects new or modified policies like this (EC 0030-00000008)',
      'add {"StringNotLike": {"acs:SourceVpc": ["vpc-*"]}} for internet addresses, or {"StringEquals": {"acs:SourceVpc": ["vpc-<id>"]}} for addresses inside a VPC',
    );
}

function readStatement(
  value: unknown,
  index: number,
  ctx: PolicyContext,
  sink: IssueSink,
): NormalStatement | undefined {
  if (!isRecord(value)) {
    sink.add(
      index,
      'the statement is not a JSON object',
      'write it as {Effect, Principal, Action, Resource}',
    );
    return undefined;
  }
  const raw = defined(value);
  const negated = NEGATED_ELEMENTS.filter((e) => e in raw);
  if (negated.length > 0)
    sink.add(
      index,
      `${negated.join(', ')} ${negated.length === 1 ? 'is' : 'are'} not documented for OSS bucket policies and cannot be analysed; treated as "*"`,
      `replace ${negated.map((e) => e.slice(3)).join(', ')} with explicit values`,
    );
  const unknown = Object.keys(raw).filter((k) => !STATEMENT_ELEMENTS.has(k) && !negated.includes(k as never));
  if (unknown.length > 0)
    sink.add(
      index,
      `unknown element(s) ${unknown.join(', ')}; OSS statements have Effect, Principal, Action, Resource and Condition`,
      `remove ${unknown.join(', ')}`,
      'medium',
    );
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny')
    sink.add(
      index,
      `Effect is ${describe(raw.Effect)}; it must be "Allow" or "Deny" (judged as Allow)`,
      'set "Effect": "Allow" or "Deny"',
    );
  const actions = readList(raw, 'Action', index, sink);
  const resources = readList(raw, 'Resource', index, sink);
  const conditions = readConditions(raw, index, sink);
  checkActions(actions, index, sink);
  checkResources(resources, index, ctx, sink);
  checkConditions(conditions, index, sink);
  return {
    index,
    effect: raw.Effect === 'Deny' ? 'Deny' : 'Allow',
    principals: readPrincipals(raw, index, sink),
    actions,
    resources,
    conditions,
    raw,
  };
}

/** Parses a policy (JSON text or an already-parsed value) and reports what OSS would reject. Never throws. */
export function parsePolicy(input: unknown, ctx: PolicyContext): ParsedPolicy {
  const sink = new IssueSink();
  const document = readDocument(input, sink);
  if (!document) return { document, statements: [], count: 0, issues: sink.issues };
  if (Buffer.byteLength(typeof input === 'string' ? input : describe(document)) > MAX_POLICY_BYTES)
    sink.add(null, `the policy is larger than OSS's 16 KB limit`, 'split grants or remove statements');
  const raws = checkTopLevel(document, sink);
  const statements = raws.flatMap((raw, index) => readStatement(raw, index, ctx, sink) ?? []);
  return { document, statements, count: raws.length, issues: sink.issues };
}
