import { createHash } from 'node:crypto';
import { CLOCK_SKEW_MS, newestFirstKey, timeOfNewestFirstKey } from '../audit/newest-first';
import { type AuditKey, sealFields, sealHoldsEither } from '../audit/record';
import type { OssGateway } from '../clients/oss';

/**
 * The bucket policies that passed, kept in the audit bucket so that `policy.mode: restore` can put the last
 * one back. Keys are write-once (a WORM-locked audit bucket still takes new objects) and sort newest first,
 * so the newest snapshot is one ListObjects with max-keys=1 away.
 */
export interface PolicySnapshot {
  bucket: string;
  /** The policy text as OSS returned it; null when the bucket had no policy, which restores as a deletion. */
  policy: string | null;
  takenAt: string;
  /** The event whose check found the policy passing. */
  eventId: string;
  /**
   * GetBucketInfo CreationDate of the bucket it was taken of (F-OSS-GETBUCKETINFO): a bucket re-created under
   * the same name is another bucket, and never gets this policy back. Absent in snapshots taken before.
   */
  bucketCreatedAt?: string;
}

export const SNAPSHOT_PREFIX = 'ossguard/policy-snapshots/';

export const snapshotPrefix = (bucket: string): string => `${SNAPSHOT_PREFIX}${bucket}/`;

/**
 * `<prefix><bucket>/<inverted ms>-<event hash>.json`: keys list in reverse time order, and two snapshots
 * taken in the same millisecond still get keys of their own.
 */
export function snapshotKey(bucket: string, takenAt: Date, eventId: string): string {
  const inverted = newestFirstKey('', takenAt.getTime());
  const event = createHash('sha256').update(eventId).digest('hex').slice(0, 12);
  return `${snapshotPrefix(bucket)}${inverted}-${event}.json`;
}

/** How many of a bucket's newest snapshots a restore looks through for one ossguard sealed. */
const SNAPSHOTS_READ = 20;

/** Sealed with the audit key: whoever can write the audit bucket cannot plant a policy for restore to put back. */
export async function keepSnapshot(
  gateway: OssGateway,
  auditBucket: string,
  snapshot: PolicySnapshot,
  auditKey: AuditKey | undefined,
): Promise<string> {
  const key = snapshotKey(snapshot.bucket, new Date(snapshot.takenAt), snapshot.eventId);
  await gateway.putObjectIfAbsent(
    auditBucket,
    key,
    JSON.stringify({ ...snapshot, ...sealFields(snapshot, auditKey) }),
  );
  return key;
}

/**
 * The newest snapshot of the bucket that ossguard sealed, without `snapshot` when the newest object is none
 * (nothing is then restored). Objects dated ahead of now, or sealed with neither the audit key nor its version
 * before the latest rotation (`previousKey`), are passed over:
 * a planted object that sorts first must neither block restore nor stand in for the last passing policy.
 */
export async function latestSnapshot(
  gateway: OssGateway,
  auditBucket: string,
  bucket: string,
  auditKey: AuditKey | undefined,
  now: Date,
  previousKey?: AuditKey,
): Promise<{ key: string; snapshot?: PolicySnapshot } | undefined> {
  const { keys } = await gateway.listObjects(auditBucket, snapshotPrefix(bucket), undefined, SNAPSHOTS_READ);
  const prefix = snapshotPrefix(bucket);
  const dated = keys.filter(({ key }) => timeOfNewestFirstKey(key, prefix) <= now.getTime() + CLOCK_SKEW_MS);
  for (const { key } of dated) {
    const body = await gateway.getObjectWithin(auditBucket, key);
    const snapshot = body && parseSnapshot(body.toString('utf8'), bucket, auditKey, previousKey);
    if (snapshot) return { key, snapshot };
  }
  const [first] = dated;
  return first ? { key: first.key } : undefined;
}

function parseSnapshot(
  text: string,
  bucket: string,
  auditKey: AuditKey | undefined,
  previousKey: AuditKey | undefined,
): PolicySnapshot | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const s = value as Record<string, unknown>;
  const wellFormed =
    s.bucket === bucket &&
    (typeof s.policy === 'string' || s.policy === null) &&
    typeof s.takenAt === 'string' &&
    typeof s.eventId === 'string' &&
    (s.bucketCreatedAt === undefined || typeof s.bucketCreatedAt === 'string') &&
    sealHoldsEither(s, auditKey, previousKey);
  if (!wellFormed) return undefined;
  const { mac: _mac, macKeyId: _macKeyId, ...snapshot } = s;
  return snapshot as unknown as PolicySnapshot;
}
