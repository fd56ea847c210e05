import { randomBytes } from 'node:crypto';
import { ossguardVersion } from '../version';
import { CHECKPOINT_DIR, canonicalJson } from './record';
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
  bucket: string;
  prefix: string;
  previous: { key: string; digest: string } | null;
  entries: CheckpointEntry[];
  /** Objects pinned by the chain up to and including this checkpoint. */
  total: number;
  ossguardVersion: string;
  /** sha256 over the checkpoint without this field, in canonical key order. */
  digest: string;
}

export const checkpointPrefix = (prefix: string): string => `${prefix}${CHECKPOINT_DIR}`;

/** Keys sort by creation time: a fixed-width UTC timestamp, then randomness against same-millisecond runs. */
export function checkpointKey(prefix: string, createdAt: Date): string {
  const stamp = createdAt.toISOString().replace(/[-:]/g, '');
  return `${checkpointPrefix(prefix)}${stamp}-${randomBytes(4).toString('hex')}.json`;
}

export function checkpointDigest(checkpoint: Omit<Checkpoint, 'digest'> | Checkpoint): string {
  const { digest: _ignored, ...rest } = checkpoint as Checkpoint;
  return sha256Hex(canonicalJson(rest));
}

export function buildCheckpoint(
  fields: Omit<Checkpoint, 'kind' | 'schemaVersion' | 'ossguardVersion' | 'digest'>,
): Checkpoint {
  const unsigned = {
    kind: 'ossguard-audit-checkpoint' as const,
    schemaVersion: 1 as const,
    ...fields,
    ossguardVersion,
  };
  return { ...unsigned, digest: checkpointDigest(unsigned) };
}

/** The checkpoint in `body`, or why it cannot be trusted. */
export function parseCheckpoint(body: Buffer): { checkpoint: Checkpoint } | { problem: string } {
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
  if (checkpointDigest(value) !== value.digest) return { problem: 'does not match its digest' };
  return { checkpoint: value };
}
