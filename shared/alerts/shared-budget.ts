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
  /** The audit key the functions sign records with (`runtimeAuditKey`): it keys the windows and their slots. */
  key?: AuditKey;
  /**
   * The audit key's version before its latest rotation (`previousRuntimeAuditKey`), when the instance read one:
   * a send then takes a slot under it too, the budget the instances still on that version use (`windowDirectory`).
   */
  previousKey?: AuditKey;
  now?: () => number;
}

/**
 * The names of a window's `limit` slots, in the order they are taken. With the audit key each is the slot's
 * number and a MAC of the window's directory and that number, so that a writer of the audit bucket who sees a
 * window in use (its directory shows in a listing once a slot is taken) can name none of its free slots, and
 * so cannot fill the window, its critical reserve included. Without an audit key there is no secret: the
 * names are the numbers (three digits), as guessable as the directory, and a writer who watches the listing
 * can fill a window in use (configure `OSSGUARD_AUDIT_KEY` or `secrets.auditKey`).
 */
export function slotNames(dir: string, limit: number, key: AuditKey | undefined): string[] {
  return Array.from({ length: limit }, (_, slot) => {
    const number = String(slot).padStart(3, '0');
    return key ? `${number}-${macOf({ alertBudgetSlot: slot, window: dir }, key).slice(0, 32)}` : number;
  });
}

/**
 * How many of the keys listed under a window's directory are slots: only the window's own slot names count
 * (`slotNames`), so that whatever else a writer of the audit bucket puts there (which ossguard's threat model
 * does not trust, hence the records' MACs) cannot use up a window. Counting low is safe: `take` then finds
 * those slots taken and tries the next.
 */
export function countSlots(keys: readonly string[], dir: string, names: readonly string[]): number {
  const slots = new Set(names);
  return keys.filter((key) => key.startsWith(dir) && slots.has(key.slice(dir.length))).length;
}

/**
 * The directory of the robot's window starting at `start`. With the audit key it is a MAC of both, so that
 * whoever may write the audit bucket but does not hold the key cannot tell where a future window's slots will
 * be, and so cannot fill them ahead of time to keep every alert, critical ones included, off DingTalk (in a
 * WORM bucket, for as long as retention lasts). The directories of past and current windows show in a listing,
 * but a window once past is never used again. Without an audit key there is no secret to derive it from: the
 * directory is the window's start, as guessable as before, and a writer who plants slot names ahead of time
 * can still use up those windows (configure `OSSGUARD_AUDIT_KEY` or `secrets.auditKey`).
 *
 * When the key is rotated (KMS's ACSPrevious, F-KMS-PUTSECRETVALUE), an instance keeps the version it read
 * until its next refresh (SECRET_REFRESH_MS, shared/config/secrets.ts), so for that while instances on the old
 * and the new version derive different directories: two budgets, and the robot offered up to twice its 20 a
 * minute, which it answers with a 10-minute block (F-DINGTALK-RATE-LIMIT). So an instance that holds the
 * previous version as well takes each send's slot in both windows (`OssWindowBudget`): the old version's window
 * is then one every instance takes from, the old ones as their own and the new ones beside theirs, and all of
 * them together stay within one budget, each window still guarded by its write-once slots. The cost is a
 * second listing and write a send for as long as a previous version exists. What it does not cover: an
 * instance whose ACSPrevious read failed (it takes only its own window until it reads it), and a second
 * rotation within SECRET_REFRESH_MS of the first (instances three versions apart share no window); both err
 * toward sending, never toward muting.
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
 * `<window>/<name of n>` (`slotNames`) with `x-oss-forbid-overwrite` (F-OSS-FORBID-OVERWRITE), which OSS lets exactly one writer
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
  /** The previous version's first: the window the instances not yet on the current version share with this one. */
  private readonly keys: ReadonlyArray<AuditKey | undefined>;

  constructor(private readonly options: WindowBudgetOptions) {
    this.now = options.now ?? Date.now;
    this.robot = createHash('sha256').update(options.webhook).digest('hex').slice(0, 16);
    this.keys = options.previousKey ? [options.previousKey, options.key] : [options.key];
  }

  /** The windows this instance takes each send from, now (`windowDirectory`), with their slot names. */
  private windows(): { start: number; windows: Array<{ dir: string; names: string[] }> } {
    const start = Math.floor(this.now() / this.options.windowMs) * this.options.windowMs;
    return {
      start,
      windows: this.keys.map((key) => {
        const dir = windowDirectory(this.options.prefix, this.robot, start, key);
        return { dir, names: slotNames(dir, this.options.limit, key) };
      }),
    };
  }

  private async taken({ dir, names }: { dir: string; names: string[] }): Promise<number> {
    // A full page, not `limit` keys: other objects listed before the slots would hide them.
    const page = await this.options.gateway.listObjects(this.options.bucket, dir);
    return countSlots(
      page.keys.map((listed) => listed.key),
      dir,
      names,
    );
  }

  async remaining(): Promise<number> {
    const taken = await Promise.all(this.windows().windows.map((window) => this.taken(window)));
    return Math.max(0, usableSlots(this.options.limit, false) - Math.max(...taken));
  }

  async take(critical: boolean): Promise<number> {
    const { start, windows } = this.windows();
    const usable = usableSlots(this.options.limit, critical);
    for (const window of windows) {
      let slot = await this.taken(window);
      while (
        slot < usable &&
        (await this.options.gateway.putObjectIfAbsent(
          this.options.bucket,
          `${window.dir}${window.names[slot]}`,
          '{}',
        )) !== 'created'
      )
        slot++;
      // A slot taken in the previous version's window stays spent: that window only ever holds at least as
      // many as this instance's own, so its own is full only in a race it then loses for one slot.
      if (slot >= usable) return Math.max(1, start + this.options.windowMs - this.now());
    }
    return 0;
  }
}
