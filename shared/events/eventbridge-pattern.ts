/**
 * EventBridge event-pattern matching (F-EVENTBRIDGE-EVENT-PATTERN), following EventBridge "Event patterns"
 * (https://www.alibabacloud.com/help/en/eventbridge/user-guide/event-patterns, doc-detail/181432):
 * - a pattern has the nested structure of the events it matches; keys are ANDed, the values in a key's
 *   array are ORed; matching is exact and case-sensitive;
 * - conditions: exact value (string, number, boolean, null, ""), `prefix`, `suffix`, `contains`,
 *   `anything-but` (a value, a list, or `{prefix}`), `numeric` (`[">", 0, "<=", 5]`), `cidr` (the doc says
 *   IPv4 only, so an IPv6 block is rejected rather than silently emulated), `exists` (true/false);
 * - when the event field is an array, the field matches if any element does.
 * The doc's older revision says numbers are compared as strings (300 ≠ 300.0); after JSON.parse that
 * distinction is gone, so here 300 and 300.0 are equal.
 *
 * A pattern is compiled once; a malformed one throws InvalidPatternError naming the offending path, so a bad
 * `eventRuleFilterPattern` in s.yaml fails loudly instead of matching nothing.
 */
import { networkContains, parseNetwork } from '../network';

export type EventMatcher = (event: unknown) => boolean;

export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
  /** Dotted path of the offending element, e.g. `data.eventName[0]`; empty for the pattern itself. */
  readonly path: string;

  constructor(path: string, detail: string) {
    super(`invalid event pattern at ${path === '' ? 'the root' : path}: ${detail}`);
    this.path = path;
  }
}

/** One alternative of a field: whether it holds given whether the field is present, and its value. */
type Condition = (present: boolean, value: unknown) => boolean;
type ScalarTest = (value: unknown) => boolean;
type OperatorCompiler = (argument: unknown, path: string) => Condition;

type Scalar = string | number | boolean | null;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isScalar = (value: unknown): value is Scalar =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

const describe = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`;
  return `${value === null ? 'null' : typeof value} ${JSON.stringify(value)}`;
};

const child = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

/** Every condition except `exists` needs the field, and tests each element of an array-valued field. */
const onValue =
  (test: ScalarTest): Condition =>
  (present, value) =>
    present && (Array.isArray(value) ? value.some(test) : test(value));

function stringArgument(argument: unknown, path: string, operator: string): string {
  if (typeof argument !== 'string')
    throw new InvalidPatternError(path, `${operator} needs a string, got ${describe(argument)}`);
  return argument;
}

const stringOperator =
  (operator: string, test: (value: string, argument: string) => boolean): OperatorCompiler =>
  (argument, path) => {
    const expected = stringArgument(argument, path, operator);
    return onValue((value) => typeof value === 'string' && test(value, expected));
  };

function compileAnythingBut(argument: unknown, path: string): Condition {
  if (isRecord(argument)) {
    const keys = Object.keys(argument);
    if (keys.length !== 1 || keys[0] !== 'prefix') {
      throw new InvalidPatternError(
        path,
        `anything-but takes a value, a list or {"prefix": "..."}, got ${describe(argument)}`,
      );
    }
    const prefix = stringArgument(argument.prefix, child(path, 'prefix'), 'anything-but prefix');
    return onValue((value) => typeof value === 'string' && !value.startsWith(prefix));
  }
  const excluded = Array.isArray(argument) ? argument : [argument];
  if (excluded.length === 0) throw new InvalidPatternError(path, 'anything-but needs at least one value');
  excluded.forEach((value, i) => {
    if (typeof value !== 'string' && !isFiniteNumber(value)) {
      throw new InvalidPatternError(
        Array.isArray(argument) ? child(path, i) : path,
        `anything-but excludes strings and numbers, got ${describe(value)}`,
      );
    }
  });
  const set = new Set<unknown>(excluded);
  return onValue((value) => !set.has(value));
}

const COMPARATORS: Record<string, (value: number, bound: number) => boolean> = {
  '=': (v, b) => v === b,
  '<': (v, b) => v < b,
  '<=': (v, b) => v <= b,
  '>': (v, b) => v > b,
  '>=': (v, b) => v >= b,
};
const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function compileNumeric(argument: unknown, path: string): Condition {
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw new InvalidPatternError(
      path,
      `numeric takes [op, number] or [op, number, op, number], got ${describe(argument)}`,
    );
  }
  const bounds: Array<{ op: string; bound: number }> = [];
  for (let i = 0; i < argument.length; i += 2) {
    const op = argument[i];
    const bound = argument[i + 1];
    if (typeof op !== 'string' || !(op in COMPARATORS)) {
      throw new InvalidPatternError(
        child(path, i),
        `numeric operator must be one of = < <= > >=, got ${describe(op)}`,
      );
    }
    if (!isFiniteNumber(bound))
      throw new InvalidPatternError(
        child(path, i + 1),
        `numeric bound must be a number, got ${describe(bound)}`,
      );
    bounds.push({ op, bound });
  }
  const [first, second] = bounds;
  if (
    second &&
    !((LOWER.has(first!.op) && UPPER.has(second.op)) || (UPPER.has(first!.op) && LOWER.has(second.op)))
  ) {
    throw new InvalidPatternError(
      path,
      'a numeric range needs one lower bound (> or >=) and one upper bound (< or <=)',
    );
  }
  return onValue(
    (value) => isFiniteNumber(value) && bounds.every(({ op, bound }) => COMPARATORS[op]!(value, bound)),
  );
}

function compileCidr(argument: unknown, path: string): Condition {
  const block = stringArgument(argument, path, 'cidr');
  if (block.includes(':'))
    throw new InvalidPatternError(path, `EventBridge cidr supports IPv4 blocks only, got "${block}"`);
  const network = block.includes('/') ? parseNetwork(block) : undefined;
  if (network === undefined)
    throw new InvalidPatternError(path, `cidr needs an IPv4 block like "10.0.0.0/24", got "${block}"`);
  // IPv4 values only, like the blocks: how EventBridge treats an IPv6 or mapped value is not documented.
  return onValue(
    (value) => typeof value === 'string' && !value.includes(':') && networkContains(network, value),
  );
}

function compileExists(argument: unknown, path: string): Condition {
  if (typeof argument !== 'boolean')
    throw new InvalidPatternError(path, `exists takes true or false, got ${describe(argument)}`);
  return (present) => present === argument;
}

const OPERATORS: Record<string, OperatorCompiler> = {
  prefix: stringOperator('prefix', (value, prefix) => value.startsWith(prefix)),
  suffix: stringOperator('suffix', (value, suffix) => value.endsWith(suffix)),
  contains: stringOperator('contains', (value, part) => value.includes(part)),
  'anything-but': compileAnythingBut,
  numeric: compileNumeric,
  cidr: compileCidr,
  exists: compileExists,
};

function compileCondition(raw: unknown, path: string): Condition {
  if (isScalar(raw)) return onValue((value) => value === raw);
  if (!isRecord(raw)) {
    throw new InvalidPatternError(
      path,
      `expected a value or a condition object like {"prefix": "..."}, got ${describe(raw)}`,
    );
  }
  const entries = Object.entries(raw);
  if (entries.length !== 1) {
    throw new InvalidPatternError(
      path,
      `a condition object holds exactly one operator, got ${describe(raw)}`,
    );
  }
  const [operator, argument] = entries[0]!;
  const compile = OPERATORS[operator];
  if (!compile) {
    throw new InvalidPatternError(
      path,
      `unknown operator "${operator}" (EventBridge supports ${Object.keys(OPERATORS).join(', ')})`,
    );
  }
  return compile(argument, child(path, operator));
}

function compileObject(raw: Record<string, unknown>, path: string): EventMatcher {
  const entries = Object.entries(raw);
  if (entries.length === 0)
    throw new InvalidPatternError(path, 'an empty object matches nothing specific; name at least one field');
  const fields = entries.map(([key, spec]): EventMatcher => {
    const at = child(path, key);
    if (Array.isArray(spec)) {
      if (spec.length === 0)
        throw new InvalidPatternError(at, 'an empty list of alternatives can never match');
      const alternatives = spec.map((alternative, i) => compileCondition(alternative, child(at, i)));
      return (event) => {
        const present = isRecord(event) && Object.hasOwn(event, key);
        const value = present ? event[key] : undefined;
        return alternatives.some((condition) => condition(present, value));
      };
    }
    if (isRecord(spec)) {
      const nested = compileObject(spec, at);
      return (event) => {
        const value = isRecord(event) ? event[key] : undefined;
        return Array.isArray(value) ? value.some(nested) : nested(value);
      };
    }
    throw new InvalidPatternError(
      at,
      `expected a list of alternatives like ["value"] or a nested object, got ${describe(spec)}`,
    );
  });
  return (event) => fields.every((field) => field(event));
}

/** Compiles an event pattern (the parsed JSON of `eventRuleFilterPattern`); throws InvalidPatternError. */
export function compilePattern(pattern: unknown): EventMatcher {
  if (typeof pattern === 'string') {
    throw new InvalidPatternError('', 'got a string: JSON.parse the eventRuleFilterPattern first');
  }
  if (!isRecord(pattern))
    throw new InvalidPatternError('', `a pattern is a JSON object, got ${describe(pattern)}`);
  return compileObject(pattern, '');
}

/** Throws InvalidPatternError, with the offending path, when the pattern is malformed. */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}
