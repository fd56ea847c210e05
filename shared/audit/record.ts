import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { DeliveryResult } from '../alerts/types';
import type { CallEntry } from '../clients/calllog';
import type { Actor, ChangeResources } from '../events/types';
import type { AppliedException, IgnoredException } from '../rule-exceptions';
import type { RuleFinding, RuleMode } from '../rules/types';

/** `reported`: a change in an account ossguard does not act in (organization.accounts), recorded and counted. */
export const DECISIONS = [
  'remediated',
  'alerted',
  'excepted',
  'skipped',
  'failed',
  'dry-run',
  'reported',
] as const;
export type DecisionKind = (typeof DECISIONS)[number];

export type StateSnapshot = Record<string, string | number | boolean | null>;

/** One decision about one event: the unit users review, and the proof of what ossguard did and why. */
export interface AuditRecord {
  schemaVersion: 1;
  eventId: string;
  dedupeKey: string;
  eventName: string;
  eventType: string;
  /** When the change happened (the event's time). */
  time: string;
  /** When ossguard decided. */
  decidedAt: string;
  guard: string;
  region: string;
  /** The member account the change happened in (the record's `recipientAccountId`, shared/events). */
  accountId?: string;
  /** The account ossguard is deployed in, whose function role judged the change (and acted, or assumed the member's role). */
  deployAccountId?: string;
  actor: Actor;
  resource: ChangeResources;
  before?: StateSnapshot;
  after?: StateSnapshot;
  rules: Array<RuleFinding & { mode: RuleMode }>;
  decision: DecisionKind;
  reason: string;
  exception?: AppliedException;
  ignoredExceptions?: IgnoredException[];
  dryRun: boolean;
  ossguardVersion: string;
  requestIds: CallEntry[];
  alerts: DeliveryResult[];
  error?: { name: string; message: string; code?: string };
  /**
   * Set when a redelivery wrote this record from the intent an earlier delivery left before it reverted
   * (that delivery then failed to write the record): the key of that intent. The earlier delivery's alert
   * results were lost with its record, so `alerts` is empty here even if alerts went out.
   */
  completedFrom?: string;
  /**
   * On a `skipped` record: the revert ossguard made after this change, for another event about the same
   * resource, that is why the state now passes.
   */
  remediatedBy?: { eventId: string; eventName: string; auditKey: string };
  /** The function and route that judged the change (`trail-guard/object-acl-recheck`, `oss-acl-guard`, …). */
  route?: string;
  /** The event's `eventTime` when it was no time: the record is then filed under the time it was received. */
  eventTimeUnparsed?: string;
  /**
   * sha256 over the record without `digest` and `mac`, in canonical key order. Unkeyed: anyone can recompute
   * it, so it only catches accidental damage; `mac` is what a writer without the audit key cannot forge.
   */
  digest: string;
  /** HMAC-SHA256 with the audit key over the record without `digest` and `mac`; absent when no key is set. */
  mac?: string;
  /** Which audit key made `mac` (a KMS secret name, or `env`): bound into the MAC, so it cannot be swapped. */
  macKeyId?: string;
}

export type UnsignedAuditRecord = Omit<AuditRecord, 'digest' | 'mac' | 'macKeyId'>;

/**
 * The secret that keys records and checkpoints: only ossguard's role (and whoever verifies) can read it, so
 * whoever can merely write the audit bucket cannot make a record or checkpoint that verifies. An HMAC computed
 * here, not KMS's GenerateMac, which needs a KMS instance (F-KMS-GENERATEMAC).
 */
export interface AuditKey {
  id: string;
  secret: Buffer;
}

/** JSON with object keys sorted at every level, so the digest does not depend on property order. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join('');
}

/** Into one list of parts, not nested strings: a record is signed up to three times per change. */
function writeCanonical(value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      writeCanonical(item, out);
    });
    out.push(']');
    return;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // Code-unit order, as `<` compares strings.
    const keys = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((key, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      writeCanonical(object[key], out);
    });
    out.push('}');
    return;
  }
  // An undefined array item pushes undefined, which `join` writes as nothing.
  out.push(JSON.stringify(value));
}

export function digestOf(record: UnsignedAuditRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** HMAC-SHA256 of `value` in canonical JSON, with the key id bound in: shared by records and checkpoints. */
export function macOf(value: object, key: AuditKey): string {
  return createHmac('sha256', key.secret)
    .update(canonicalJson({ ...value, macKeyId: key.id }))
    .digest('hex');
}

/**
 * The MAC fields for state ossguard keeps beside its records (deferred work, policy snapshots): what a writer
 * without the audit key cannot make. Without a key there is nothing to add, and nothing to check.
 */
export const sealFields = (value: object, key: AuditKey | undefined): { mac?: string; macKeyId?: string } =>
  key ? { mac: macOf(value, key), macKeyId: key.id } : {};

/** Whether `value` (with its `mac` and `macKeyId`) was sealed with `key`; always so without a key. */
export function sealHolds(value: Record<string, unknown>, key: AuditKey | undefined): boolean {
  if (!key) return true;
  const { mac, macKeyId, ...unsealed } = value;
  if (typeof mac !== 'string' || macKeyId !== key.id) return false;
  const expected = Buffer.from(macOf(unsealed, key), 'hex');
  const actual = Buffer.from(mac, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * `sealHolds` under the audit key or, sealed before its latest rotation, under the version before it: what the
 * functions read back (marks, snapshots, sweep checkpoints) was written by any instance, before or after.
 */
export const sealHoldsEither = (
  value: Record<string, unknown>,
  key: AuditKey | undefined,
  previousKey: AuditKey | undefined,
): boolean =>
  sealHolds(value, key) || (key !== undefined && previousKey !== undefined && sealHolds(value, previousKey));

/**
 * The record with its digest and, given the audit key, its MAC: the same values as `digestOf` and `macOf`,
 * but each field is written in canonical JSON once for both (a change's record, intent and claim are signed
 * on the pipeline's path; the log-trigger benchmark spent ~0.2 s of CPU writing them twice, BENCHMARKS.md).
 */
export function sign(record: UnsignedAuditRecord, key?: AuditKey): AuditRecord {
  const fields = canonicalFields(record);
  const digest = createHash('sha256').update(objectOf(fields)).digest('hex');
  if (!key) return { ...record, digest };
  // `{ ...record, macKeyId }` in canonical JSON: the key id among the fields, in its sorted place.
  const keyed = fields.filter(([name]) => name !== 'macKeyId');
  const at = keyed.findIndex(([name]) => name > 'macKeyId');
  keyed.splice(at < 0 ? keyed.length : at, 0, ['macKeyId', JSON.stringify(key.id)]);
  const mac = createHmac('sha256', key.secret).update(objectOf(keyed)).digest('hex');
  return { ...record, digest, mac, macKeyId: key.id };
}

/** An object's defined fields, in the code-unit order of their names, each value in canonical JSON. */
function canonicalFields(value: object): Array<[string, string]> {
  const object = value as Record<string, unknown>;
  return Object.keys(object)
    .filter((name) => object[name] !== undefined)
    .sort()
    .map((name) => [name, canonicalJson(object[name])]);
}

const objectOf = (fields: ReadonlyArray<[string, string]>): string =>
  `{${fields.map(([name, text]) => `${JSON.stringify(name)}:${text}`).join(',')}}`;

function unsignedOf(value: object): object {
  const { digest: _d, mac: _m, macKeyId: _k, ...rest } = value as Record<string, unknown>;
  return rest;
}

/**
 * How far a record (or checkpoint) can be trusted:
 * - `verified`: its MAC holds under the audit key: written by a holder of the key, unchanged since;
 * - `unkeyed`: its digest holds but it carries no MAC, or no key was given to check one: anyone who can
 *   write the bucket could have written it;
 * - `forged`: its digest holds but its MAC does not, or names another key: rewritten by someone without the key;
 * - `altered`: not even its digest holds.
 */
export type SealState = 'verified' | 'unkeyed' | 'forged' | 'altered';

export function sealOf(
  value: { digest: string; mac?: string | undefined; macKeyId?: string | undefined },
  key: AuditKey | undefined,
  digest: (unsigned: object) => string,
): SealState {
  const unsigned = unsignedOf(value);
  if (digest(unsigned) !== value.digest) return 'altered';
  if (!key || value.mac === undefined) return 'unkeyed';
  if (value.macKeyId !== key.id || typeof value.mac !== 'string') return 'forged';
  const expected = Buffer.from(macOf(unsigned, key), 'hex');
  const actual = Buffer.from(value.mac, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? 'verified' : 'forged';
}

/** `sealOf` for an audit record (or intent). */
export const recordSeal = (record: AuditRecord, key: AuditKey | undefined): SealState =>
  sealOf(record, key, (unsigned) => digestOf(unsigned as UnsignedAuditRecord));

/**
 * Whether a record read back from the bucket can be believed: with the audit key, only a record whose MAC
 * holds; without one (no key configured), one whose digest holds. Stable API for the pipeline and replay.
 */
export const isTrustedRecord = (record: AuditRecord, key: AuditKey | undefined): boolean =>
  recordSeal(record, key) === (key ? 'verified' : 'unkeyed');

/** `isTrustedRecord` under the audit key or, signed before its latest rotation, the version before it. */
export const isTrustedRecordEither = (
  record: AuditRecord,
  key: AuditKey | undefined,
  previousKey: AuditKey | undefined,
): boolean =>
  isTrustedRecord(record, key) || (previousKey !== undefined && isTrustedRecord(record, previousKey));

/**
 * `<prefix>YYYY/MM/DD/<sha256(dedupeKey)>.json`, dated by the event's own time: a redelivered event maps to
 * the same key, and `x-oss-forbid-overwrite` turns the second write into "already handled".
 */
export function auditKey(prefix: string, dedupeKey: string, eventTime: string): string {
  const parsed = Date.parse(eventTime);
  const day = (Number.isNaN(parsed) ? new Date(0) : new Date(parsed))
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '/');
  const hash = createHash('sha256').update(dedupeKey).digest('hex').slice(0, 40);
  return `${prefix}${day}/${hash}.json`;
}

/** Where a change's remediation intent goes: beside the records, under `intents/`, which readers skip. */
export function intentKey(prefix: string, dedupeKey: string, eventTime: string): string {
  return auditKey(`${prefix}${INTENT_DIR}`, dedupeKey, eventTime);
}

/**
 * Directories under the audit prefix that hold no decisions: checkpoint chains (`ossguard audit lock/verify`)
 * and remediation intents (written before a revert, so a redelivery can finish a record that was lost).
 */
export const CHECKPOINT_DIR = 'checkpoints/';
export const INTENT_DIR = 'intents/';
/** Slots of the DingTalk robot's budget shared across instances (shared/alerts/shared-budget.ts). */
export const ALERT_BUDGET_DIR = 'alert-budget/';
