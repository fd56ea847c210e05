import { createHash } from 'node:crypto';
import type { OssGateway } from '../clients/oss';
import type { ChangeRecord } from '../events/types';

/**
 * The pipeline's own state beside the audit records, not among them (`ossguard audit verify` would report it
 * as unreadable records), in a fixed place the function role's policy names (deploy/role-policy.json).
 */
export const PIPELINE_PREFIX = 'ossguard/pipeline/';

const REMEDIATED_DIR = `${PIPELINE_PREFIX}remediated/`;

/** Larger than any epoch millisecond until the year 2286, so inverted times keep 13 digits and sort newest first. */
const TIME_CEILING = 9_999_999_999_999;

/** The revert that last fixed a resource: what a later change's `skipped` record names as `remediatedBy`. */
export interface RemediationMark {
  eventId: string;
  eventName: string;
  auditKey: string;
  at: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One directory per resource a guard judges: the bucket, object or key the change names, in its region. */
function resourceDir(guard: string, change: ChangeRecord): string {
  const { bucket, objectKey, ramUser, accessKeyId } = change.resources;
  const id = JSON.stringify([
    guard,
    change.region,
    bucket ?? '',
    objectKey ?? '',
    ramUser ?? '',
    accessKeyId ?? '',
  ]);
  return `${REMEDIATED_DIR}${sha256(id).slice(0, 40)}/`;
}

/** Notes a revert against its resource, write-once (WORM-safe): `<dir><inverted ms>-<event hash>.json`. */
export async function markRemediated(
  audit: { gateway: OssGateway; bucket: string },
  guard: string,
  change: ChangeRecord,
  mark: RemediationMark,
): Promise<void> {
  const inverted = String(TIME_CEILING - Date.parse(mark.at)).padStart(13, '0');
  const key = `${resourceDir(guard, change)}${inverted}-${sha256(change.dedupeKey).slice(0, 12)}.json`;
  await audit.gateway.putObjectIfAbsent(audit.bucket, key, JSON.stringify(mark));
}

/** The newest revert of the change's resource, if ossguard made one. */
export async function lastRemediation(
  audit: { gateway: OssGateway; bucket: string },
  guard: string,
  change: ChangeRecord,
): Promise<RemediationMark | undefined> {
  const [newest] = (await audit.gateway.listObjects(audit.bucket, resourceDir(guard, change), undefined, 1))
    .keys;
  if (!newest) return undefined;
  let value: unknown;
  try {
    value = JSON.parse((await audit.gateway.getObject(audit.bucket, newest.key)).toString('utf8'));
  } catch {
    return undefined;
  }
  const m = value as Partial<RemediationMark> | null;
  return m &&
    typeof m.eventId === 'string' &&
    typeof m.eventName === 'string' &&
    typeof m.auditKey === 'string' &&
    typeof m.at === 'string'
    ? { eventId: m.eventId, eventName: m.eventName, auditKey: m.auditKey, at: m.at }
    : undefined;
}
