import { CLOCK_SKEW_MS, newestFirstKey, timeOfNewestFirstKey } from '../audit/newest-first';
import { type AuditKey, macOf, sealFields, sealHoldsEither } from '../audit/record';
import { isNotFound, type OssGateway } from '../clients/oss';
import type { Logger } from '../log';

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

const INVERT_SEQ = 999_999;
/** `<inverted run start>/<inverted seq>[-<suffix>].json`: the suffix when written with an audit key (`stepKey`). */
const CHECKPOINT_NAME = /^(\d{13})\/(\d{6})(?:-([0-9a-f]{32}))?\.json$/;
/**
 * Checkpoint keys listed at once (ListObjectsV2's largest page, F-OSS-LISTV2-MAX-KEYS), and bodies read at most
 * among those named by ossguard. With an audit key a planted name is told from the step's suffix alone, so it
 * costs no GET: it takes more than a page of them, planted since the last real checkpoint, to start a new run.
 */
const CHECKPOINTS_LISTED = 1_000;
const CHECKPOINTS_READ = 20;

/** Which checkpoints read back are ossguard's, and where the others are reported. */
export interface CheckpointTrust {
  /** Seals and names the checkpoints written; one read back must hold under it (or `previousKey`). */
  key: AuditKey | undefined;
  /** The audit key's version before a rotation: checkpoints it sealed before the rotation still hold. */
  previousKey?: AuditKey | undefined;
  /** What a checkpoint read back must not be dated ahead of, by more than the clock skew. */
  now: () => Date;
  log: Logger;
}

/**
 * Checkpoints are write-once objects (a WORM-locked audit bucket refuses overwrites) named so that the newest
 * sorts first: `<prefix><inverted run start>/<inverted seq>-<suffix>.json` (newest-first.ts). Whoever can write
 * the audit bucket can compute such names, so a checkpoint is sealed with the audit key over its fields and its
 * own key, as remediation marks are (shared/pipeline/remediated.ts), and its suffix is a MAC (`stepKey`); one
 * that is not named or sealed by ossguard, does not parse or is dated ahead is passed over for the next.
 */
export class SweepCheckpoints {
  constructor(
    private readonly gateway: OssGateway,
    private readonly bucket: string,
    readonly prefix: string,
    private readonly trust: CheckpointTrust,
  ) {}

  /**
   * The newest checkpoint ossguard wrote, or undefined: then the sweep starts a new run. Listed from now plus
   * the clock skew on (F-OSS-LIST-START-AFTER): a key dated further ahead lists before every real one.
   */
  async latest(): Promise<SweepCheckpoint | undefined> {
    const ahead = newestFirstKey(this.prefix, this.trust.now().getTime() + CLOCK_SKEW_MS);
    const { keys } = await this.gateway.listObjects(
      this.bucket,
      this.prefix,
      undefined,
      CHECKPOINTS_LISTED,
      ahead,
    );
    const passed: string[] = [];
    let read = 0;
    let found: SweepCheckpoint | undefined;
    for (const { key } of keys) {
      const name = key.slice(this.prefix.length);
      // The members' checkpoints live under the deploying account's prefix (`accounts/<id>/`, shared/sweep/
      // members.ts) and sort after its own digit-named ones: a key of theirs here means this prefix has no more.
      if (!/^\d/.test(name) || read >= CHECKPOINTS_READ) break;
      if (this.namedByOssguard(name)) {
        read += 1;
        found = await this.read(key);
        if (found) break;
      }
      passed.push(key);
    }
    if (passed.length > 0)
      this.trust.log.warn(
        'sweep checkpoint passed over: not named or sealed by ossguard, not one, or dated ahead',
        {
          prefix: this.prefix,
          count: passed.length,
          newest: passed[0],
        },
      );
    return found;
  }

  /** Whether ossguard could have written a checkpoint under this name: with an audit key, its suffix holds. */
  private namedByOssguard(name: string): boolean {
    const [, run, seq, suffix] = CHECKPOINT_NAME.exec(name) ?? [];
    if (run === undefined || seq === undefined) return false;
    const { key, previousKey } = this.trust;
    if (!key) return true;
    const step = { run: timeOfNewestFirstKey(run, ''), seq: INVERT_SEQ - Number(seq) };
    return [key, previousKey].some((k) => k !== undefined && suffix === this.suffix(step, k));
  }

  /** The checkpoint at `key`, when ossguard sealed it there and dated it no later than now plus the skew. */
  private async read(key: string): Promise<SweepCheckpoint | undefined> {
    let value: unknown;
    try {
      const body = await this.gateway.getObjectWithin(this.bucket, key);
      value = body && JSON.parse(body.toString('utf8'));
    } catch (error) {
      // Gone since the listing, or not JSON: nothing ossguard wrote. A fault of OSS fails the run as before.
      if (!isNotFound(error) && !(error instanceof SyntaxError)) throw error;
    }
    const limit = this.trust.now().getTime() + CLOCK_SKEW_MS;
    return isCheckpoint(value) &&
      sealHoldsEither({ ...value, key }, this.trust.key, this.trust.previousKey) &&
      Date.parse(value.startedAt) <= limit &&
      Date.parse(value.writtenAt) <= limit
      ? value
      : undefined;
  }

  /** `exists`: another invocation of the same run wrote this step first, so this one must stop. */
  write(checkpoint: SweepCheckpoint): Promise<'created' | 'exists'> {
    const key = this.stepKey(checkpoint);
    return this.gateway.putObjectIfAbsent(
      this.bucket,
      key,
      JSON.stringify({ ...checkpoint, ...sealFields({ ...checkpoint, key }, this.trust.key) }),
    );
  }

  /**
   * Where a run's step is written. Its suffix is a MAC under the audit key, as a change's later attempts are
   * named (shared/pipeline/resolve.ts `attemptKey`): two invocations of one run compute the same key, so the
   * second learns the first wrote the step, but someone who can only write the bucket can neither take the key
   * ahead of them, which would keep every step of the run from being recorded, nor name a checkpoint
   * `latest` reads.
   */
  private stepKey(checkpoint: SweepCheckpoint): string {
    const step = { run: Date.parse(checkpoint.startedAt), seq: checkpoint.seq };
    const seq = String(INVERT_SEQ - step.seq).padStart(6, '0');
    const { key } = this.trust;
    return `${newestFirstKey(this.prefix, step.run)}/${seq}${key ? `-${this.suffix(step, key)}` : ''}.json`;
  }

  /** The step's suffix: over the run's start in ms, as its name holds it, so that `namedByOssguard` can check it. */
  private suffix(step: { run: number; seq: number }, key: AuditKey): string {
    return macOf({ prefix: this.prefix, ...step }, key).slice(0, 32);
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
    typeof c.writtenAt === 'string' &&
    (c.after === undefined || typeof c.after === 'string')
  );
}
