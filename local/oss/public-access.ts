import { ERR, OssError } from './errors';
import type { OpContext } from './operation';
import { anonymousDecision, parsePolicy } from './policy';
import type { BucketAcl, BucketState, ObjectAcl } from './state';

/**
 * Public access as OSS defines it (F-OSS-PUBLIC-DEFINITION, F-OSS-BPA): public ACLs and public bucket
 * policies, both switched off by Block Public Access at account or bucket level, which also refuses granting new public access.
 */
export const isPublicAcl = (acl: BucketAcl | ObjectAcl): boolean =>
  acl === 'public-read' || acl === 'public-read-write';

/** Operations an anonymous caller can be let into; every other one needs a signature. */
const ANONYMOUS_READS = new Set(['GetObject', 'HeadObject', 'GetObjectMeta']);

/**
 * Refuses to grant public access while Block Public Access is on. UNVERIFIED: the messages (and EC) real OSS
 * uses for these refusals; the code AccessDenied is what the Block Public Access docs imply.
 */
export function assertMayGrantPublic(
  ctx: OpContext,
  bucket: BucketState | undefined,
  what: 'bucket acl' | 'object acl' | 'bucket policy',
): void {
  if (!ctx.state.blocksPublicAccess(ctx.owner, bucket)) return;
  throw new OssError(ERR.AccessDenied, {
    message: `Put public ${what} is not allowed since public access is blocked.`,
  });
}

const denied = (message: string): OssError => new OssError(ERR.AccessDenied, { message });

/**
 * Lets an anonymous request through only for object reads that an explicit bucket-policy Allow for `*`, or
 * a public object ACL (or, for `default`, a public bucket ACL), makes public, with Block Public Access off.
 * A policy Deny wins over both.
 */
export function authorizeAnonymous(ctx: OpContext, operation: string): void {
  if (!ANONYMOUS_READS.has(operation)) throw denied('Anonymous access is forbidden for this operation.');
  const bucket = ctx.state.bucket(ctx.bucketName);
  // UNVERIFIED: the message OSS sends when Block Public Access overrides a public ACL or policy.
  if (ctx.state.blocksPublicAccess(ctx.owner, bucket))
    throw denied('Public access is blocked for this bucket.');

  const decision = bucket.policy
    ? anonymousDecision(parsePolicy(bucket.policy), {
        action: 'oss:GetObject',
        resource: `acs:oss:*:${ctx.owner}:${bucket.name}/${ctx.key}`,
        sourceIp: ctx.request.sourceIp,
        userAgent: ctx.request.userAgent,
        now: ctx.now,
      })
    : 'none';
  if (decision === 'deny') throw denied('Access denied by bucket policy.');
  if (decision === 'allow') return;

  // A read through a symlink needs the link's ACL and its target's to allow it (F-OSS-SYMLINK).
  const link = bucket.objects.get(ctx.key);
  const keys = link?.symlinkTarget === undefined ? [ctx.key] : [ctx.key, link.symlinkTarget];
  for (const key of keys) {
    const objectAcl = bucket.objects.get(key)?.acl ?? 'default';
    const effective = objectAcl === 'default' ? bucket.acl : objectAcl;
    if (!isPublicAcl(effective)) throw denied('Anonymous user has no right to access this object.');
  }
}

/**
 * A signed request on a bucket another account owns. Creating it again is refused as for any taken name;
 * otherwise the request gets no more than public access gives (F-ORG-OSS-CROSS-ACCOUNT): the caller's own RAM
 * permissions are its account's, not the owner's. Bucket-policy grants naming other accounts are not emulated.
 */
export function authorizeOtherAccount(ctx: OpContext, operation: string): void {
  if (operation === 'PutBucket') throw new OssError(ERR.BucketAlreadyExists);
  authorizeAnonymous(ctx, operation);
}
