import { ERR, OssError } from '../errors';
import { emptyReply, type Operation } from '../operation';
import { decodeComponent } from '../request';
import { attributesOf, checkKey, requestedAcl, storeObject } from './objects';

/**
 * Symlinks (F-OSS-SYMLINK): PutSymlink (`PUT ?symlink`, target in `x-oss-symlink-target`, URL-encoded as
 * ali-oss sends it) stores a link with its own ACL without checking the target; GetSymlink answers the target
 * in the same header. A GetObject through the link reads the target (objects.ts).
 */

const PutSymlink: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const raw = ctx.request.headers['x-oss-symlink-target'];
    if (!raw) {
      // UNVERIFIED: the code OSS answers a PutSymlink without a target with.
      throw new OssError(ERR.InvalidArgument, {
        details: { ArgumentName: 'x-oss-symlink-target', ArgumentValue: '' },
      });
    }
    const target = decodeComponent(raw);
    checkKey(target);
    const object = storeObject(ctx, bucket, {
      body: Buffer.alloc(0),
      attributes: attributesOf(ctx.request),
      acl: requestedAcl(ctx.request) ?? 'default',
      type: 'Symlink',
      symlinkTarget: target,
    });
    return emptyReply(200, { etag: object.etag });
  },
};

const GetSymlink: Operation = {
  write: false,
  handle(ctx) {
    const object = ctx.state.object(ctx.state.bucket(ctx.bucketName), ctx.key);
    if (object.symlinkTarget === undefined) {
      // UNVERIFIED: the code for GetSymlink on an object that is not a symlink.
      throw new OssError(ERR.NotSymlink, { details: { Key: ctx.key } });
    }
    return emptyReply(200, {
      etag: object.etag,
      'last-modified': object.lastModified.toUTCString(),
      'x-oss-symlink-target': encodeURIComponent(object.symlinkTarget),
    });
  },
};

export const symlinkOperations = { PutSymlink, GetSymlink } satisfies Record<string, Operation>;
