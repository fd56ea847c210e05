import type { OssClientFactory } from '../clients/oss';

/** OSS allows a retention period from one day to 70 years (InitiateBucketWorm). */
export const MAX_WORM_DAYS = 25_550;

export type WormStatus =
  | { state: 'none' }
  | { state: 'InProgress' | 'Locked'; wormId: string; days: number; creationDate?: string };

export type LockOutcome =
  | { kind: 'locked'; days: number }
  | { kind: 'already-locked'; days: number }
  | { kind: 'extended'; from: number; to: number };

/** A lock that ossguard will not perform; the message says what to do instead. */
export class WormRefusal extends Error {
  override readonly name = 'WormRefusal';
}

interface AliOssWormResult {
  status?: number;
  res?: { status?: number };
}

/** @types/ali-oss lacks the WORM methods that ali-oss 6 has (F-OSS-WORM). */
interface AliOssWorm {
  initiateBucketWorm(name: string, days: string): Promise<AliOssWormResult & { wormId?: string }>;
  completeBucketWorm(name: string, wormId: string): Promise<AliOssWormResult>;
  extendBucketWorm(name: string, wormId: string, days: string): Promise<AliOssWormResult>;
  abortBucketWorm(name: string): Promise<AliOssWormResult>;
  getBucketWorm(
    name: string,
  ): Promise<AliOssWormResult & { wormId?: string; state?: string; days?: string; creationDate?: string }>;
}

/** The audit bucket's retention policy (WORM): reading it and locking it. */
export class AuditWorm {
  private readonly client: AliOssWorm;

  constructor(
    factory: OssClientFactory,
    region: string,
    private readonly bucket: string,
  ) {
    this.client = factory.client(region) as unknown as AliOssWorm;
  }

  async status(): Promise<WormStatus> {
    try {
      const result = await this.client.getBucketWorm(this.bucket);
      const state = result.state === 'Locked' ? 'Locked' : 'InProgress';
      return {
        state,
        wormId: String(result.wormId ?? ''),
        days: Number(result.days),
        ...(result.creationDate ? { creationDate: String(result.creationDate) } : {}),
      };
    } catch (error) {
      if ((error as { code?: string }).code === 'NoSuchWORMConfiguration') return { state: 'none' };
      throw error;
    }
  }

  /**
   * Ensures a locked policy of at least `days`. A locked policy can only grow, so a longer one is kept; an
   * unlocked one of another length is someone else's unfinished change, and ossguard neither locks it in
   * (irreversible, and not what was asked) nor replaces it with a shorter one.
   */
  async lock(days: number): Promise<LockOutcome> {
    const current = await this.status();
    if (current.state === 'Locked') {
      if (current.days >= days) return { kind: 'already-locked', days: current.days };
      this.check(
        'ExtendBucketWorm',
        await this.client.extendBucketWorm(this.bucket, current.wormId, String(days)),
      );
      await this.expectLocked(days);
      return { kind: 'extended', from: current.days, to: days };
    }
    if (current.state === 'InProgress') {
      if (current.days > days) {
        throw new WormRefusal(
          `an unlocked ${current.days}-day retention policy is in progress on ${this.bucket}; refusing to replace ` +
            `it with a shorter one: run with --days ${current.days} to lock it, or abort it first`,
        );
      }
      if (current.days < days) this.check('AbortBucketWorm', await this.client.abortBucketWorm(this.bucket));
      else return this.complete(current.wormId, days);
    }
    const initiated = await this.client.initiateBucketWorm(this.bucket, String(days));
    if (!initiated.wormId) throw new Error('InitiateBucketWorm answered without an x-oss-worm-id');
    return this.complete(initiated.wormId, days);
  }

  private async complete(wormId: string, days: number): Promise<LockOutcome> {
    // completeBucketWorm resolves on any HTTP status, so success is the status plus a re-read.
    this.check('CompleteBucketWorm', await this.client.completeBucketWorm(this.bucket, wormId));
    await this.expectLocked(days);
    return { kind: 'locked', days };
  }

  private check(operation: string, result: AliOssWormResult): void {
    const status = result.status ?? result.res?.status;
    if (status === undefined || status < 200 || status >= 300)
      throw new Error(`${operation} on ${this.bucket} failed with HTTP ${status ?? 'unknown'}`);
  }

  private async expectLocked(days: number): Promise<void> {
    const after = await this.status();
    if (after.state !== 'Locked' || after.days < days) {
      const seen = after.state === 'none' ? 'no policy' : `${after.state}, ${after.days} days`;
      throw new Error(
        `the retention policy of ${this.bucket} is not locked for ${days} days after locking (${seen})`,
      );
    }
  }
}
