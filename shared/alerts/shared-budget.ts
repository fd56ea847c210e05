import { createHash } from 'node:crypto';
import { ALERT_BUDGET_DIR, type AuditKey, macOf } from '../audit/record';
import type { OssGateway } from '../clients/oss';
import { usableSlots } from './ratelimit';

/** A send budget that every instance of every function shares, so that scaling out cannot exceed it. */
export interface SharedSendBudget {
  /**
   * Sends the current window still allows a message without a critical alert: what a batch is planned for,
   * so that its critical alerts never need more than the reserved slots (shared/alerts/ratelimit.ts).
   */
  remaining(): Promise<number>;
  /**
   * Takes one send for a message that carries a critical alert (any slot) or not (no reserved slot): 0 when
   * taken, else the milliseconds until the next window may have room.
   */
  take(critical: boolean): Promise<number>;
}

export interface WindowBudgetOptions {
  gateway: OssGateway;
  bucket: string;
  /** The audit prefix: slots go under `<prefix>alert-budget/`, which the role may write and `audit verify` skips. */
  prefix: string;
  /** Names the robot without its token (a credential): a hash of the webhook. */
  webhook: string;
  /** Sends per window. */
  limit: number;
  windowMs: number;
  /** The audit key the functions sign records with (`runtimeAuditKey`): it keys the windows' directories. */
  key?: AuditKey;
  now?: () => number;
}

/** A slot's name in its window: its number, three digits. */
const slotName = (slot: number): string => String(slot).padStart(3, '0');
const SLOT_NAME = /^\d{3}$/;

/**
 * How many of the keys listed under a window's directory are slots: only exact slot names count, so that
 * whatever else a writer of the audit bucket puts there (which ossguard's threat model does not trust, hence
 * the records' MACs) cannot use up a window. Counting low is safe: `take` then finds those slots taken and
 * tries the next.
 */
export const countSlots = (keys: readonly string[], dir: string): number =>
  keys.filter((key) => key.startsWith(dir) && SLOT_NAME.test(key.slice(dir.length))).length;

/**
 * The directory of the robot's window starting at `start`. With the audit key it is a MAC of both, so that
 * whoever may write the audit bucket but does not hold the key cannot tell where a future window's slots will
 * be, and so cannot fill them ahead of time to keep every alert, critical ones included, off DingTalk (in a
 * WORM bucket, for as long as retention lasts). The directories of past and current windows show in a listing,
 * but a window once past is never used again. Without an audit key there is no secret to derive it from: the
 * directory is the window's start, as guessable as before, and a writer who plants slot names ahead of time
 * can still use up those windows (configure `OSSGUARD_AUDIT_KEY` or `secrets.auditKey`).
 *
 * When the key is rotated (KMS's ACSPrevious), an instance keeps the version it read until its next refresh
 * (SECRET_REFRESH_MS, shared/config/secrets.ts), so for that while instances on the old and the new version
 * take slots in different directories: each version has a budget of its own, and the robot may be offered up
 * to twice its rate. That errs toward sending. Sharing one budget across the rotation would need the
 * directory to come from a key every instance holds at once; an instance cannot tell which of its current and
 * previous versions the others use (each holds a different pair), and counting slots in two directories would
 * lose the write-once race that keeps instances within one budget. Never toward muting: a directory no
 * instance uses again only means no slot there is taken.
 */
export function windowDirectory(
  prefix: string,
  robot: string,
  start: number,
  key: AuditKey | undefined,
): string {
  const window = key ? macOf({ alertBudget: robot, windowStart: start }, key).slice(0, 32) : String(start);
  return `${prefix}${ALERT_BUDGET_DIR}${robot}/${window}/`;
}

/**
 * Fixed windows of slots in the audit bucket: a send takes slot `n` of its window by writing
 * `<window>/<n>` with `x-oss-forbid-overwrite` (F-OSS-FORBID-OVERWRITE), which OSS lets exactly one writer
 * create; a writer that finds it taken tries the next. Any 60 s overlaps at most two 60 s windows, so a limit
 * of half the robot's per-minute budget per window keeps every instance together within it. The last slots
 * of a window (`reservedForCritical`) are only for messages with a critical alert: a writer without one stops
 * before them, so no flood of lesser alerts can take them, and which writer may create which slot needs no
 * coordination beyond the write-once slot itself. Every writer starts at the count of slots taken and takes
 * the first free one, so the taken slots are always `0..n-1` and the reserved ones are the last to go.
 */
export class OssWindowBudget implements SharedSendBudget {
  private readonly now: () => number;
  private readonly robot: string;

  constructor(private readonly options: WindowBudgetOptions) {
    this.now = options.now ?? Date.now;
    this.robot = createHash('sha256').update(options.webhook).digest('hex').slice(0, 16);
  }

  private window(): { start: number; dir: string } {
    const start = Math.floor(this.now() / this.options.windowMs) * this.options.windowMs;
    return { start, dir: windowDirectory(this.options.prefix, this.robot, start, this.options.key) };
  }

  private async taken(dir: string): Promise<number> {
    // A full page, not `limit` keys: other objects listed before the slots would hide them.
    const page = await this.options.gateway.listObjects(this.options.bucket, dir);
    return countSlots(
      page.keys.map((listed) => listed.key),
      dir,
    );
  }

  async remaining(): Promise<number> {
    return Math.max(0, usableSlots(this.options.limit, false) - (await this.taken(this.window().dir)));
  }

  async take(critical: boolean): Promise<number> {
    const { start, dir } = this.window();
    const usable = usableSlots(this.options.limit, critical);
    for (let slot = await this.taken(dir); slot < usable; slot++) {
      const at = `${dir}${slotName(slot)}`;
      if ((await this.options.gateway.putObjectIfAbsent(this.options.bucket, at, '{}')) === 'created')
        return 0;
    }
    return Math.max(1, start + this.options.windowMs - this.now());
  }
}
