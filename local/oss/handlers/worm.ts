import { randomBytes } from 'node:crypto';
import { readRetentionDays } from '../bodies';
import { ERR, OssError } from '../errors';
import { emptyReply, type OpContext, type Operation, xmlReply } from '../operation';
import { param } from '../request';
import type { WormConfiguration } from '../state';
import { element } from '../xml';

/** Retention policies (WORM): 1 day to 70 years (InitiateBucketWorm docs). */
const MAX_RETENTION_DAYS = 25_550;

function checkDays(days: number): number {
  if (days >= 1 && days <= MAX_RETENTION_DAYS) return days;
  throw new OssError(ERR.InvalidArgument, {
    message: `RetentionPeriodInDays must be between 1 and ${MAX_RETENTION_DAYS}.`,
    details: { ArgumentName: 'RetentionPeriodInDays', ArgumentValue: String(days) },
  });
}

function wormOf(ctx: OpContext): WormConfiguration {
  const worm = ctx.state.activeWorm(ctx.state.bucket(ctx.bucketName), ctx.now);
  if (!worm) throw new OssError(ERR.NoSuchWORMConfiguration);
  return worm;
}

/** The configuration a CompleteBucketWorm / ExtendBucketWorm names with `wormId`. */
function namedWorm(ctx: OpContext): WormConfiguration {
  const worm = wormOf(ctx);
  if (param(ctx.request, 'wormId') !== worm.id) {
    throw new OssError(ERR.NoSuchWORMConfiguration, { message: 'The specified WORM ID does not exist.' });
  }
  return worm;
}

const lockedError = () => new OssError(ERR.WORMConfigurationLocked);

const InitiateBucketWorm: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const days = checkDays(readRetentionDays(ctx.request.body, 'InitiateWormConfiguration'));
    // UNVERIFIED: OSS's answer to a second InitiateBucketWorm; a locked policy cannot be replaced, and the
    // emulator lets an unlocked one be superseded.
    if (ctx.state.activeWorm(bucket, ctx.now)?.state === 'Locked') throw lockedError();
    const id = randomBytes(8).toString('hex').toUpperCase();
    bucket.worm = { id, state: 'InProgress', days, createdAt: ctx.now };
    return emptyReply(200, { 'x-oss-worm-id': id });
  },
};

const CompleteBucketWorm: Operation = {
  write: true,
  handle(ctx) {
    const worm = namedWorm(ctx);
    // UNVERIFIED: whether completing an already locked policy is an error or a no-op.
    if (worm.state === 'Locked') throw lockedError();
    worm.state = 'Locked';
    return emptyReply();
  },
};

const ExtendBucketWorm: Operation = {
  write: true,
  handle(ctx) {
    const worm = namedWorm(ctx);
    const days = checkDays(readRetentionDays(ctx.request.body, 'ExtendWormConfiguration'));
    // UNVERIFIED: the error codes for extending an unlocked policy or shortening a locked one.
    if (worm.state !== 'Locked') {
      throw new OssError(ERR.InvalidArgument, {
        message: 'Only a locked WORM configuration can be extended.',
      });
    }
    if (days <= worm.days) {
      throw new OssError(ERR.InvalidArgument, { message: 'The retention period can only be extended.' });
    }
    worm.days = days;
    return emptyReply();
  },
};

const AbortBucketWorm: Operation = {
  write: true,
  handle(ctx) {
    const worm = wormOf(ctx);
    if (worm.state === 'Locked') throw lockedError();
    ctx.state.bucket(ctx.bucketName).worm = undefined;
    // UNVERIFIED: 204 (ali-oss does not check the status of AbortBucketWorm).
    return emptyReply(204);
  },
};

const GetBucketWorm: Operation = {
  write: false,
  handle(ctx) {
    const worm = wormOf(ctx);
    return xmlReply(
      element(
        'WormConfiguration',
        element('WormId', worm.id),
        element('State', worm.state),
        element('RetentionPeriodInDays', worm.days),
        // The docs' sample writes CreationDate without milliseconds or zone: 2020-10-15T15:50:32.
        element('CreationDate', worm.createdAt.toISOString().slice(0, 19)),
      ),
    );
  },
};

export const wormOperations = {
  InitiateBucketWorm,
  CompleteBucketWorm,
  ExtendBucketWorm,
  AbortBucketWorm,
  GetBucketWorm,
} satisfies Record<string, Operation>;
