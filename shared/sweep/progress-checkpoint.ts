import type { OssGateway } from '../clients/oss';

/**
 * Sweep checkpoints live beside the audit records, not among them (`ossguard audit verify` would report them
 * as unreadable records), in a fixed place the function role's policy can name, like the policy snapshots.
 */
export const SWEEP_PREFIX = 'ossguard/sweep/';

/** Where a sweep stands: written when an invocation stops, read by the next one. */
export interface SweepCheckpoint {
  kind: 'ossguard-sweep-checkpoint';
  runId: string;
  startedAt: string;
  /** Checkpoints of one run count up from 1. */
  seq: number;
  /** Every bucket up to and including this name (in ListBuckets order) was swept; absent: none yet. */
  after?: string;
  complete: boolean;
  buckets: number;
  exposed: number;
  writtenAt: string;
}

/** Larger than any epoch millisecond or sequence ossguard will see, so inverted values keep a fixed width. */
const INVERT_MS = 9_999_999_999_999;
const INVERT_SEQ = 999_999;
const CHECKPOINT_NAME = /^\d{13}\/\d{6}\.json$/;

/**
 * Checkpoints are write-once objects (a WORM-locked audit bucket refuses overwrites) named so that the newest
 * sorts first: `<prefix><inverted run start>/<inverted seq>.json`. One ListObjects call with max-keys 1 finds
 * it, however many runs came before.
 */
export class SweepCheckpoints {
  constructor(
    private readonly gateway: OssGateway,
    private readonly bucket: string,
    readonly prefix: string,
  ) {}

  async latest(): Promise<SweepCheckpoint | undefined> {
    const { keys } = await this.gateway.listObjects(this.bucket, this.prefix, undefined, 1);
    const key = keys[0]?.key;
    // The members' checkpoints live under the deploying account's prefix (`accounts/<id>/`, shared/sweep/
    // members.ts) and sort after its own digit-named ones: a key of theirs here means this prefix has none.
    if (!key || !CHECKPOINT_NAME.test(key.slice(this.prefix.length))) return undefined;
    const body = await this.gateway.getObjectWithin(this.bucket, key);
    if (!body) return undefined;
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return isCheckpoint(value) ? value : undefined;
  }

  /** `exists`: another invocation of the same run wrote this step first, so this one must stop. */
  write(checkpoint: SweepCheckpoint): Promise<'created' | 'exists'> {
    const started = Date.parse(checkpoint.startedAt);
    const run = String(INVERT_MS - started).padStart(13, '0');
    const seq = String(INVERT_SEQ - checkpoint.seq).padStart(6, '0');
    return this.gateway.putObjectIfAbsent(
      this.bucket,
      `${this.prefix}${run}/${seq}.json`,
      JSON.stringify(checkpoint),
    );
  }
}

function isCheckpoint(value: unknown): value is SweepCheckpoint {
  const c = value as Partial<SweepCheckpoint> | null;
  return (
    c !== null &&
    typeof c === 'object' &&
    c.kind === 'ossguard-sweep-checkpoint' &&
    typeof c.runId === 'string' &&
    typeof c.startedAt === 'string' &&
    typeof c.seq === 'number' &&
    typeof c.complete === 'boolean' &&
    (c.after === undefined || typeof c.after === 'string')
  );
}
