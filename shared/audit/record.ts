import { createHash } from 'node:crypto';
import type { DeliveryResult } from '../alerts/types';
import type { CallEntry } from '../clients/calllog';
import type { Actor, ChangeResources } from '../events/types';
import type { AppliedException, IgnoredException } from '../rule-exceptions';
import type { RuleFinding, RuleMode } from '../rules/types';

export const DECISIONS = ['remediated', 'alerted', 'excepted', 'skipped', 'failed', 'dry-run'] as const;
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
  accountId?: string;
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
  /** sha256 over the record without this field, in canonical key order: `ossguard audit verify` recomputes it. */
  digest: string;
}

export type UnsignedAuditRecord = Omit<AuditRecord, 'digest'>;

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

export function sign(record: UnsignedAuditRecord): AuditRecord {
  return { ...record, digest: digestOf(record) };
}

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
