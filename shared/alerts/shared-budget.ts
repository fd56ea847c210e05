import { createHash } from 'node:crypto';
import { ALERT_BUDGET_DIR } from '../audit/record';
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
  now?: () => number;
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
    return { start, dir: `${this.options.prefix}${ALERT_BUDGET_DIR}${this.robot}/${start}/` };
  }

  private async taken(dir: string): Promise<number> {
    const page = await this.options.gateway.listObjects(
      this.options.bucket,
      dir,
      undefined,
      this.options.limit,
    );
    return page.keys.length;
  }

  async remaining(): Promise<number> {
    return Math.max(0, usableSlots(this.options.limit, false) - (await this.taken(this.window().dir)));
  }

  async take(critical: boolean): Promise<number> {
    const { start, dir } = this.window();
    const usable = usableSlots(this.options.limit, critical);
    for (let slot = await this.taken(dir); slot < usable; slot++) {
      const at = `${dir}${String(slot).padStart(3, '0')}`;
      if ((await this.options.gateway.putObjectIfAbsent(this.options.bucket, at, '{}')) === 'created')
        return 0;
    }
    return Math.max(1, start + this.options.windowMs - this.now());
  }
}
