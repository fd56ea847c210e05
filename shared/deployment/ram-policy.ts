import { wildcardMatches } from '../wildcard';

/**
 * Identity-based RAM policies (the kind attached to ossguard's function role), read and evaluated the way RAM
 * does for a request: an explicit Deny wins, then an explicit Allow, else the request is denied
 * (https://www.alibabacloud.com/help/en/oss/user-guide/how-oss-works-with-ram, "explicit deny first").
 * `*` and `?` are wildcards in actions and resources; action names compare without case, resources with case.
 *
 * Only the elements ossguard's own policy uses are understood. Anything else (Condition, NotAction,
 * NotResource, Principal) makes parsing fail, so the local cloud never grants or refuses on a guess.
 */

export interface RamStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

export class RamPolicyError extends Error {
  override readonly name = 'RamPolicyError';
}

const STATEMENT_KEYS = new Set(['Effect', 'Action', 'Resource']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function strings(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v !== '')) {
    throw new RamPolicyError(`${where} must be a non-empty string or list of strings`);
  }
  return list;
}

export function parseRamPolicy(text: string): RamStatement[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new RamPolicyError(`not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(document) || document.Version !== '1') throw new RamPolicyError('Version must be "1"');
  if (!Array.isArray(document.Statement) || document.Statement.length === 0) {
    throw new RamPolicyError('Statement must be a non-empty list');
  }
  return document.Statement.map((raw: unknown, index): RamStatement => {
    const at = `Statement[${index}]`;
    if (!isRecord(raw)) throw new RamPolicyError(`${at} is not an object`);
    const unknown = Object.keys(raw).filter((key) => !STATEMENT_KEYS.has(key));
    if (unknown.length > 0) throw new RamPolicyError(`${at}: unsupported element(s) ${unknown.join(', ')}`);
    if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
      throw new RamPolicyError(`${at}.Effect must be Allow or Deny`);
    }
    return {
      effect: raw.Effect,
      actions: strings(raw.Action, `${at}.Action`),
      resources: strings(raw.Resource, `${at}.Resource`),
    };
  });
}

const matches = (statement: RamStatement, action: string, resource: string): boolean =>
  statement.actions.some((a) => wildcardMatches(a, action, { ignoreCase: true })) &&
  statement.resources.some((r) => wildcardMatches(r, resource));

export function isAllowed(statements: readonly RamStatement[], action: string, resource: string): boolean {
  const applicable = statements.filter((statement) => matches(statement, action, resource));
  return applicable.length > 0 && applicable.every((statement) => statement.effect === 'Allow');
}
