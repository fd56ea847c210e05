import type { OssGateway } from '../clients/oss';
import { GuardError } from '../errors';

/**
 * The safety net around every bucket-policy repair (issue #20): a repaired policy grants no more than the
 * live one it replaces, keeps every statement that may deny, and is written only over the policy that was
 * judged. Comparisons are on statements as JSON values, so the check needs no model of OSS's matching: a
 * request the repaired policy allows is allowed by one of its Allow statements, each of which the live
 * policy holds too, and is denied by none of the live policy's Denies, each of which the repair keeps.
 */

/** The live policy changed under a repair, or OSS called the repaired policy public: ossguard wrote nothing that stands. */
export class RepairConflictError extends GuardError {}

/** Keys sorted at every level: two statements that differ only in key order are the same statement. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The document of a policy, or undefined when it is not an object with a Statement list; null: no policy. */
function documentOf(
  policy: string | null,
): { doc: Record<string, unknown>; statements: unknown[] } | null | undefined {
  if (policy === null) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const record = doc as Record<string, unknown>;
  const statement = record.Statement;
  if (Array.isArray(statement)) return { doc: record, statements: statement };
  if (typeof statement === 'object' && statement !== null) return { doc: record, statements: [statement] };
  return undefined;
}

/**
 * Anything but an exact `"Effect": "Allow"` may deny (OSS reads only Allow and Deny, F-OSS-POLICY-GRAMMAR):
 * a repair never drops it, and it never counts as the grant of a repaired policy.
 */
export const mayDeny = (statement: unknown): boolean =>
  !(
    typeof statement === 'object' &&
    statement !== null &&
    (statement as { Effect?: unknown }).Effect === 'Allow'
  );

/** Whether the statement at `index` of the policy may deny; unreadable policies count as all Deny. */
export function statementMayDeny(policy: string, index: number): boolean {
  const found = documentOf(policy);
  return !found || mayDeny(found.statements[index]);
}

/** Two policy texts that say the same (OSS may return a policy re-serialised; unverified either way). */
export const samePolicy = (a: string | null, b: string | null): boolean => {
  if (a === null || b === null) return a === b;
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
};

/**
 * The candidate with every live statement that may deny and that it lacks appended: restoring an older
 * policy or deleting one never drops a Deny the owner added since. Undefined when the live policy cannot be
 * read, since its Denies are then unknown.
 */
export function keepLiveDenies(candidate: string | null, live: string | null): string | null | undefined {
  const liveDoc = documentOf(live);
  if (liveDoc === undefined) return undefined;
  const denies = liveDoc?.statements.filter(mayDeny) ?? [];
  const target = documentOf(candidate);
  if (target === undefined) return undefined;
  const have = new Set((target?.statements ?? []).map(canonical));
  const missing = denies.filter((s) => !have.has(canonical(s)));
  if (missing.length === 0) return candidate;
  if (target === null) return JSON.stringify({ Version: '1', Statement: missing });
  return JSON.stringify({ ...target.doc, Statement: [...target.statements, ...missing] });
}

/** Statements of `previous` that may deny and that `live` lacks, as canonical JSON; none when `previous` is unreadable. */
export function droppedDenies(previous: string | null, live: string | null): string[] {
  const before = documentOf(previous);
  if (!before) return [];
  const after = documentOf(live);
  const kept = new Set((after?.statements ?? []).map(canonical));
  return before.statements
    .filter(mayDeny)
    .map(canonical)
    .filter((s) => !kept.has(s));
}

/**
 * Why the candidate could grant a request the live policy refuses, or undefined when it cannot: each of its
 * grants is a statement of the live policy, and each live statement that may deny is kept. Checked right
 * before planning the write; anything unreadable counts as a widening.
 */
export function wideningOf(candidate: string | null, live: string | null): string | undefined {
  const liveDoc = documentOf(live);
  const target = documentOf(candidate);
  if (liveDoc === undefined || target === undefined) return 'the live or the repaired policy cannot be read';
  const liveSet = new Set((liveDoc?.statements ?? []).map(canonical));
  const grants = (target?.statements ?? []).filter((s) => !mayDeny(s));
  const added = grants.findIndex((s) => !liveSet.has(canonical(s)));
  if (added >= 0)
    return `the repaired policy would allow what the live one does not (its Allow ${canonical(grants[added])})`;
  const kept = new Set((target?.statements ?? []).map(canonical));
  const dropped = (liveDoc?.statements ?? []).filter(mayDeny).find((s) => !kept.has(canonical(s)));
  if (dropped !== undefined) return `the repaired policy would drop the live Deny ${canonical(dropped)}`;
  return undefined;
}

/**
 * Sets the bucket's policy to `policy` (null: deletes it), but only over `replaces`, the policy that was
 * judged. OSS has no conditional policy write, so the policy is re-read right before the write and read
 * back after it; OSS's own verdict on the result is checked too (F-OSS-POLICY-STATUS), and a result OSS
 * calls public is rolled back to `replaces`. Every refusal throws RepairConflictError, which the pipeline
 * records as a failed decision and alerts.
 */
export async function writeBucketPolicy(
  oss: OssGateway,
  bucket: string,
  policy: string | null,
  replaces: string | null,
): Promise<void> {
  const before = await oss.getBucketPolicy(bucket);
  // Already what the repair writes: the other delivery of this change (EventBridge and the trail) got there
  // first, and nothing of the owner's is in the way.
  if (samePolicy(before, policy)) return;
  if (!samePolicy(before, replaces)) {
    throw new RepairConflictError(
      `the policy of bucket ${bucket} changed after it was judged; ossguard did not write, and the newer policy stands`,
      { bucket },
    );
  }
  await setPolicy(oss, bucket, policy);
  const after = await oss.getBucketPolicy(bucket);
  if (!samePolicy(after, policy)) {
    throw new RepairConflictError(
      `the policy of bucket ${bucket} changed right after ossguard's repair; the newer policy stands and is judged on its own event`,
      { bucket },
    );
  }
  if (policy !== null && (await oss.getBucketPolicyStatus(bucket))) {
    await setPolicy(oss, bucket, replaces);
    throw new RepairConflictError(
      `OSS calls the repaired policy of bucket ${bucket} public (GetBucketPolicyStatus); ossguard put the previous policy back`,
      { bucket },
    );
  }
}

const setPolicy = (oss: OssGateway, bucket: string, policy: string | null): Promise<void> =>
  policy === null ? oss.deleteBucketPolicy(bucket) : oss.putBucketPolicy(bucket, policy);
