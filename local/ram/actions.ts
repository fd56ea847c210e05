import { invalidParameter, missingParameter } from '../acs/errors';
import type { Caller, IdentityStore } from '../identity';
import type { RamApi } from './apis';
import type { RoleCatalog } from './catalog';

export type Params = Readonly<Record<string, string>>;

export interface ActionContext {
  api: RamApi;
  params: Params;
  caller: Caller;
  identities: IdentityStore;
  catalog: RoleCatalog;
}

/** ActionTrail `referencedResources`: resource type to names. */
export type Resources = Record<string, string[]>;

export interface ActionResult {
  /** The response fields besides `RequestId`, PascalCase as the SDK models name them. */
  body: Record<string, unknown>;
  /** Resources the call touched that its parameters do not name, e.g. the key it created. */
  resources?: Resources;
}

export interface RamAction {
  /** Writes are the calls ActionTrail records and EventBridge delivers. */
  write: boolean;
  run(ctx: ActionContext): ActionResult;
}

export type ActionTable = Readonly<Record<string, RamAction>>;

export const read = (run: RamAction['run']): RamAction => ({ write: false, run });
export const write = (run: RamAction['run']): RamAction => ({ write: true, run });

export function required(params: Params, name: string): string {
  const value = params[name];
  if (!value) throw missingParameter(name);
  return value;
}

export function booleanParam(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalidParameter(name, 'expected true or false');
}

/** A repeat list as openapi-core flattens it: `Name.1`, `Name.2`, … (or `Name.1.Key` for structs). */
function repeatIndexes(params: Params, prefix: string): number[] {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(?:\\.|$)`);
  const indexes = new Set<number>();
  for (const key of Object.keys(params)) {
    const match = pattern.exec(key);
    if (match) indexes.add(Number(match[1]));
  }
  return [...indexes].sort((a, b) => a - b);
}

export const listParam = (params: Params, prefix: string): string[] =>
  repeatIndexes(params, prefix).flatMap((n) => params[`${prefix}.${n}`] ?? []);

/** `Tag.N.Key` / `Tag.N.Value` pairs; a key without a value gets the empty value. */
export const tagsParam = (params: Params, prefix = 'Tag'): Array<[string, string]> =>
  repeatIndexes(params, prefix).flatMap((n): Array<[string, string]> => {
    const key = params[`${prefix}.${n}.Key`];
    return key ? [[key, params[`${prefix}.${n}.Value`] ?? '']] : [];
  });

export function mergeResources(...all: Array<Resources | undefined>): Resources {
  const merged: Resources = {};
  for (const resources of all) {
    for (const [type, names] of Object.entries(resources ?? {})) {
      merged[type] = [...new Set([...(merged[type] ?? []), ...names])];
    }
  }
  return merged;
}
