import { readBlockPublicAccess } from '../bodies';
import { ERR, OssError } from '../errors';
import { emptyReply, type Operation, xmlReply } from '../operation';
import { isPolicyPublic, parsePolicy } from '../policy';
import { assertMayGrantPublic } from '../public-access';
import { element } from '../xml';

/** Bucket policies and Block Public Access, at bucket and account level. */

const GetBucketPolicy: Operation = {
  write: false,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    if (bucket.policy === undefined) {
      throw new OssError(ERR.NoSuchBucketPolicy, { details: { BucketName: bucket.name } });
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: bucket.policy };
  },
};

const PutBucketPolicy: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const text = ctx.request.body.toString('utf8');
    if (isPolicyPublic(parsePolicy(text))) assertMayGrantPublic(ctx, bucket, 'bucket policy');
    // Stored as sent: GetBucketPolicy returns the caller's own text, not a normalised document.
    bucket.policy = text;
    return emptyReply();
  },
};

const DeleteBucketPolicy: Operation = {
  write: true,
  handle(ctx) {
    ctx.state.bucket(ctx.bucketName).policy = undefined;
    return emptyReply(204);
  },
};

const GetBucketPolicyStatus: Operation = {
  write: false,
  handle(ctx) {
    const { policy } = ctx.state.bucket(ctx.bucketName);
    const isPublic = policy !== undefined && isPolicyPublic(parsePolicy(policy));
    return xmlReply(element('PolicyStatus', element('IsPublic', isPublic)));
  },
};

const publicAccessBlockXml = (on: boolean) =>
  xmlReply(element('PublicAccessBlockConfiguration', element('BlockPublicAccess', on)));

// UNVERIFIED: whether OSS answers Get*PublicAccessBlock on a never-configured bucket or account with 404;
// the docs give BlockPublicAccess a default of false, which is what the emulator reports.
const GetBucketPublicAccessBlock: Operation = {
  write: false,
  handle: (ctx) => publicAccessBlockXml(ctx.state.bucket(ctx.bucketName).blockPublicAccess),
};

const PutBucketPublicAccessBlock: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    bucket.blockPublicAccess = readBlockPublicAccess(ctx.request.body);
    return emptyReply();
  },
};

const DeleteBucketPublicAccessBlock: Operation = {
  write: true,
  handle(ctx) {
    ctx.state.bucket(ctx.bucketName).blockPublicAccess = false;
    return emptyReply(204);
  },
};

const GetPublicAccessBlock: Operation = {
  write: false,
  handle: (ctx) => publicAccessBlockXml(ctx.state.accountsBlockingPublicAccess.has(ctx.owner)),
};

const PutPublicAccessBlock: Operation = {
  write: true,
  handle(ctx) {
    if (readBlockPublicAccess(ctx.request.body)) ctx.state.accountsBlockingPublicAccess.add(ctx.owner);
    else ctx.state.accountsBlockingPublicAccess.delete(ctx.owner);
    return emptyReply();
  },
};

const DeletePublicAccessBlock: Operation = {
  write: true,
  handle(ctx) {
    ctx.state.accountsBlockingPublicAccess.delete(ctx.owner);
    return emptyReply(204);
  },
};

export const accessOperations = {
  GetBucketPolicy,
  PutBucketPolicy,
  DeleteBucketPolicy,
  GetBucketPolicyStatus,
  GetBucketPublicAccessBlock,
  PutBucketPublicAccessBlock,
  DeleteBucketPublicAccessBlock,
  GetPublicAccessBlock,
  PutPublicAccessBlock,
  DeletePublicAccessBlock,
} satisfies Record<string, Operation>;
