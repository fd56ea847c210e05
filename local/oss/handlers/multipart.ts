import { createHash, randomBytes } from 'node:crypto';
import { readCompleteMultipartUpload } from '../bodies';
import { ERR, OssError } from '../errors';
import { emptyReply, type OpContext, type Operation, xmlReply } from '../operation';
import { param } from '../request';
import type { BucketState, MultipartUpload } from '../state';
import { element } from '../xml';
import { attributesOf, checkKey, requestedAcl, storeObject } from './objects';
import { byteOrder } from './paging';

/**
 * Multipart upload (F-OSS-MULTIPART): Initiate (`POST ?uploads`), UploadPart (`PUT ?partNumber&uploadId`),
 * Complete (`POST ?uploadId`), Abort (`DELETE ?uploadId`), ListParts (`GET ?uploadId`) and, on the bucket,
 * ListMultipartUploads (`GET ?uploads`). The object, and the ACL Initiate or Complete asked for, exist only
 * once Complete succeeds.
 */

const MIN_PART_BYTES = 100 * 1024;
const MAX_PART_NUMBER = 10_000;

const md5Hex = (body: Buffer): string => createHash('md5').update(body).digest('hex').toUpperCase();

function uploadOf(ctx: OpContext, bucket: BucketState): MultipartUpload {
  const uploadId = param(ctx.request, 'uploadId') ?? '';
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== ctx.key) {
    throw new OssError(ERR.NoSuchUpload, { details: { UploadId: uploadId } });
  }
  return upload;
}

const InitiateMultipartUpload: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    checkKey(ctx.key);
    const acl = requestedAcl(ctx.request);
    const uploadId = randomBytes(16).toString('hex').toUpperCase();
    const storageClass = ctx.request.headers['x-oss-storage-class'];
    bucket.uploads.set(uploadId, {
      uploadId,
      key: ctx.key,
      initiated: ctx.now,
      ...(acl ? { acl } : {}),
      ...(storageClass ? { storageClass } : {}),
      attributes: attributesOf(ctx.request),
      parts: new Map(),
    });
    return xmlReply(
      element(
        'InitiateMultipartUploadResult',
        element('Bucket', ctx.bucketName),
        element('Key', ctx.key),
        element('UploadId', uploadId),
      ),
    );
  },
};

const UploadPart: Operation = {
  write: true,
  handle(ctx) {
    const upload = uploadOf(ctx, ctx.state.bucket(ctx.bucketName));
    const raw = param(ctx.request, 'partNumber') ?? '';
    const partNumber = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(partNumber >= 1 && partNumber <= MAX_PART_NUMBER)) {
      throw new OssError(ERR.InvalidArgument, {
        message: 'Part number must be an integer between 1 and 10000, inclusive.',
        ec: '0017-00000220',
        details: { ArgumentName: 'PartNumber', ArgumentValue: raw },
      });
    }
    const etag = `"${md5Hex(ctx.request.body)}"`;
    upload.parts.set(partNumber, { body: ctx.request.body, etag, lastModified: ctx.now });
    return emptyReply(200, { etag });
  },
};

const CompleteMultipartUpload: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const upload = uploadOf(ctx, bucket);
    const listed = readCompleteMultipartUpload(ctx.request.body);
    if (listed.length === 0) throw new OssError(ERR.MalformedXML);
    if (
      listed.some(({ partNumber }, index) => index > 0 && (listed[index - 1]?.partNumber ?? 0) >= partNumber)
    ) {
      throw new OssError(ERR.InvalidPartOrder, { ec: '0042-00000209' });
    }
    const parts = listed.map(({ partNumber, etag }, index) => {
      const part = upload.parts.get(partNumber);
      if (!part || part.etag.replace(/"/g, '') !== etag.replace(/"/g, '').toUpperCase()) {
        throw new OssError(ERR.InvalidPart, { details: { PartNumber: String(partNumber), ETag: etag } });
      }
      if (index < listed.length - 1 && part.body.length < MIN_PART_BYTES) {
        throw new OssError(ERR.EntityTooSmall, { ec: '0042-00000213' });
      }
      return part;
    });
    // The header on Complete wins over Initiate's (the Go SDK v2 uploader sends it on Complete).
    const acl = requestedAcl(ctx.request) ?? upload.acl ?? 'default';
    const digest = createHash('md5');
    for (const part of parts) digest.update(Buffer.from(part.etag.replace(/"/g, ''), 'hex'));
    const object = storeObject(ctx, bucket, {
      body: Buffer.concat(parts.map((part) => part.body)),
      attributes: upload.attributes,
      acl,
      type: 'Multipart',
      etag: `"${digest.digest('hex').toUpperCase()}-${parts.length}"`,
      ...(upload.storageClass ? { storageClass: upload.storageClass } : {}),
    });
    bucket.uploads.delete(upload.uploadId);
    return xmlReply(
      element(
        'CompleteMultipartUploadResult',
        element(
          'Location',
          `http://${ctx.bucketName}.oss-${ctx.region}.aliyuncs.com/${encodeURIComponent(ctx.key)}`,
        ),
        element('Bucket', ctx.bucketName),
        element('Key', ctx.key),
        element('ETag', object.etag),
      ),
    );
  },
};

const AbortMultipartUpload: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    bucket.uploads.delete(uploadOf(ctx, bucket).uploadId);
    return emptyReply(204);
  },
};

const ListParts: Operation = {
  write: false,
  handle(ctx) {
    const upload = uploadOf(ctx, ctx.state.bucket(ctx.bucketName));
    const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b);
    return xmlReply(
      element(
        'ListPartsResult',
        element('Bucket', ctx.bucketName),
        element('Key', ctx.key),
        element('UploadId', upload.uploadId),
        element('IsTruncated', false),
        ...parts.map(([partNumber, part]) =>
          element(
            'Part',
            element('PartNumber', partNumber),
            element('LastModified', part.lastModified.toISOString()),
            element('ETag', part.etag),
            element('Size', part.body.length),
          ),
        ),
      ),
    );
  },
};

const ListMultipartUploads: Operation = {
  write: false,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const prefix = param(ctx.request, 'prefix') ?? '';
    const keyMarker = param(ctx.request, 'key-marker') ?? '';
    const uploadIdMarker = param(ctx.request, 'upload-id-marker') ?? '';
    const rawMax = param(ctx.request, 'max-uploads') ?? '1000';
    const max = Number(rawMax);
    if (!/^\d+$/.test(rawMax) || max < 1 || max > 1000) {
      throw new OssError(ERR.InvalidArgument, {
        details: { ArgumentName: 'max-uploads', ArgumentValue: rawMax },
      });
    }
    // Key order, then initiation order; after the markers: a later key, or the marker key's later uploads.
    const after = [...bucket.uploads.values()]
      .filter((u) => u.key.startsWith(prefix))
      .sort((a, b) => byteOrder(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime())
      .filter((u) => {
        const order = byteOrder(u.key, keyMarker);
        return order > 0 || (order === 0 && uploadIdMarker !== '' && u.uploadId > uploadIdMarker);
      });
    const items = after.slice(0, max);
    const truncated = after.length > max;
    const last = items.at(-1);
    return xmlReply(
      element(
        'ListMultipartUploadsResult',
        element('Bucket', ctx.bucketName),
        element('KeyMarker', keyMarker),
        element('UploadIdMarker', uploadIdMarker),
        element('NextKeyMarker', truncated ? last?.key : ''),
        element('NextUploadIdMarker', truncated ? last?.uploadId : ''),
        element('Delimiter', ''),
        element('Prefix', prefix),
        element('MaxUploads', max),
        element('IsTruncated', truncated),
        ...items.map((u) =>
          element(
            'Upload',
            element('Key', u.key),
            element('UploadId', u.uploadId),
            element('Initiated', u.initiated.toISOString()),
          ),
        ),
      ),
    );
  },
};

export const multipartOperations = {
  InitiateMultipartUpload,
  UploadPart,
  CompleteMultipartUpload,
  AbortMultipartUpload,
  ListParts,
  ListMultipartUploads,
} satisfies Record<string, Operation>;
