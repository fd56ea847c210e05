import { readDelete } from '../bodies';
import { ERR, OssError } from '../errors';
import { emptyReply, type Operation, xmlReply } from '../operation';
import { param } from '../request';
import { element } from '../xml';
import { attributesOf, requestedAcl, storeObject } from './objects';

/**
 * DeleteMultipleObjects (F-OSS-DELETE-MULTIPLE): `POST /?delete` with `<Delete><Quiet/><Object><Key/>…`, at
 * most 1000 keys, Content-MD5 required; answers every deleted key, or none in quiet mode. A key that does not
 * exist counts as deleted.
 */
const MAX_KEYS = 1000;

const DeleteMultipleObjects: Operation = {
  write: true,
  objectLevel: true,
  handle(ctx) {
    if (ctx.request.headers['content-md5'] === undefined) {
      // Content-MD5 is required (F-OSS-DELETE-MULTIPLE); the code answered without it is UNVERIFIED.
      throw new OssError(ERR.InvalidDigest, {
        message: 'Missing required header for this request: Content-MD5.',
      });
    }
    const bucket = ctx.state.bucket(ctx.bucketName);
    const { quiet, keys } = readDelete(ctx.request.body);
    if (keys.length > MAX_KEYS)
      throw new OssError(ERR.MalformedXML, { message: `At most ${MAX_KEYS} keys.` });
    for (const key of keys) ctx.state.assertMutable(bucket, key, ctx.now);
    for (const key of keys) bucket.objects.delete(key);
    return xmlReply(
      element('DeleteResult', ...(quiet ? [] : keys.map((key) => element('Deleted', element('Key', key))))),
    );
  },
};

/**
 * AppendObject (F-OSS-APPEND): `POST /<key>?append&position=<n>`. Position 0 creates an Appendable object
 * (with the ACL and tags of that first call); later appends must name its current length, else 409
 * `PositionNotEqualToLength`; a Normal or Multipart object is 409 `ObjectNotAppendable`. Answers
 * `x-oss-next-append-position`.
 */
const AppendObject: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const raw = param(ctx.request, 'position') ?? '';
    const position = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(position)) {
      throw new OssError(ERR.InvalidArgument, { details: { ArgumentName: 'position', ArgumentValue: raw } });
    }
    const existing = bucket.objects.get(ctx.key);
    if (existing && existing.type !== 'Appendable') {
      throw new OssError(ERR.ObjectNotAppendable, { details: { Key: ctx.key } });
    }
    const length = existing?.body.length ?? 0;
    if (position !== length) {
      throw new OssError(ERR.PositionNotEqualToLength, { details: { Key: ctx.key } });
    }
    const object = existing
      ? storeObject(ctx, bucket, {
          body: Buffer.concat([existing.body, ctx.request.body]),
          attributes: { contentType: existing.contentType, meta: existing.meta, headers: existing.headers },
          acl: requestedAcl(ctx.request) ?? existing.acl,
          type: 'Appendable',
          tags: existing.tags,
          storageClass: existing.storageClass,
        })
      : storeObject(ctx, bucket, {
          body: ctx.request.body,
          attributes: attributesOf(ctx.request),
          acl: requestedAcl(ctx.request) ?? 'default',
          type: 'Appendable',
        });
    return emptyReply(200, {
      etag: object.etag,
      'x-oss-next-append-position': String(object.body.length),
      'x-oss-hash-crc64ecma': object.crc64,
    });
  },
};

export const objectBatchOperations = { DeleteMultipleObjects, AppendObject } satisfies Record<
  string,
  Operation
>;
