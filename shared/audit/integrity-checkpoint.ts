import { randomBytes } from 'node:crypto';
import { ossguardVersion } from '../version';
import { type AuditKey, CHECKPOINT_DIR, canonicalJson, macOf, sealOf } from './record';
import { sha256Hex } from './store';

/** An object of the audit prefix pinned by a checkpoint: its key and the sha256 of its bytes. */
export interface CheckpointEntry {
  key: string;
  sha256: string;
}

/**
 * A write-once object under `<prefix>checkpoints/` that pins the audit objects seen for the first time
 * since the previous checkpoint. The chain's union is every object ever pinned, so a later checkpoint can
 * never "forget" a record: verify reports a pinned key that is gone (removed) or whose bytes changed.
 * Each checkpoint names its predecessor's key and digest, so deleting one breaks the chain visibly.
 */
export interface Checkpoint {
  kind: 'ossguard-audit-checkpoint';
  schemaVersion: 1;
  createdAt: string;
  /** When the listing it pins began (absent from checkpoints older versions wrote): every object written earlier is pinned. */
  listedAt?: string;
  bucket: string;
  prefix: string;
  previous: { key: string; digest: string } | null;
  entries: CheckpointEntry[];
  /** Objects pinned by the chain up to and including this checkpoint. */
  total: number;
  ossguardVersion: string;
  /** sha256 over the checkpoint without `digest` and `mac`, in canonical key order. */
  digest: string;
  /** HMAC-SHA256 with the audit key, as on records: a checkpoint without the key cannot be forged. */
  mac?: string;
  macKeyId?: string;
}

type UnsignedCheckpoint = Omit<Checkpoint, 'digest' | 'mac' | 'macKeyId'>;

export const checkpointPrefix = (prefix: string): string => `${prefix}${CHECKPOINT_DIR}`;

/** Keys sort by creation time: a fixed-width UTC timestamp, then randomness against same-millisecond runs. */
export function checkpointKey(prefix: string, createdAt: Date): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '');
  return `${checkpointPrefix(prefix)}${stamp}-${randomBytes(4).toString('hex')}.json`;
}

const checkpointDigest = (checkpoint: object): string => sha256Hex(canonicalJson(checkpoint));

export function buildCheckpoint(
  fields: Omit<UnsignedCheckpoint, 'kind' | 'schemaVersion' | 'ossguardVersion'>,
  key?: AuditKey,
): Checkpoint {
  const unsigned: UnsignedCheckpoint = {
    kind: 'ossguard-audit-checkpoint',
    schemaVersion: 1,
    ...fields,
    ossguardVersion,
  };
  return {
    ...unsigned,
    digest: checkpointDigest(unsigned),
    ...(key ? { mac: macOf(unsigned, key), macKeyId: key.id } : {}),
  };
}

/**
 * The checkpoint in `body`, or why it cannot be trusted. With the audit key, a checkpoint must carry a MAC
 * that holds: one without could have been written by anyone who can write the bucket.
 */
export function parseCheckpoint(
  body: Buffer,
  key?: AuditKey,
): { checkpoint: Checkpoint } | { problem: string } {
  let value: Checkpoint;
  try {
    value = JSON.parse(body.toString('utf8')) as Checkpoint;
  } catch {
    return { problem: 'is not JSON' };
  }
  const wellFormed =
    value !== null &&
    typeof value === 'object' &&
    value.kind === 'ossguard-audit-checkpoint' &&
    typeof value.digest === 'string' &&
    Array.isArray(value.entries) &&
    value.entries.every((e) => typeof e?.key === 'string' && typeof e?.sha256 === 'string') &&
    (value.previous === null ||
      (typeof value.previous?.key === 'string' && typeof value.previous?.digest === 'string'));
  if (!wellFormed) return { problem: 'is not an ossguard checkpoint' };
  const seal = sealOf(value, key, checkpointDigest);
  if (seal === 'altered') return { problem: 'does not match its digest' };
  if (key && seal === 'unkeyed')
    return { problem: 'carries no MAC: anyone who can write the bucket could have written it' };
  if (seal === 'forged')
    return { problem: `has a MAC that does not hold under audit key ${key?.id}: forged or rewritten` };
  return { checkpoint: value };
}
