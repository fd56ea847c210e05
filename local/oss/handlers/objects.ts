import { createHash, randomBytes } from 'node:crypto';
import { crc64ecma } from '../crc64';
import { ERR, OssError } from '../errors';
import {
  aclPolicyXml,
  emptyReply,
  type OpContext,
  type Operation,
  type OssReply,
  parseAcl,
  readAcl,
  xmlReply,
} from '../operation';
import { assertMayGrantPublic, isPublicAcl } from '../public-access';
import { decodeComponent, type OssRequest, param, toHeaderValue } from '../request';
import {
  type BucketState,
  OBJECT_ACLS,
  type ObjectAcl,
  type ObjectType,
  type ObjectVersion,
  STORED_OBJECT_HEADERS,
  type StoredObject,
} from '../state';
import { element } from '../xml';
import { taggingHeader } from './object-tagging';

export type ObjectAttributes = Pick<StoredObject, 'contentType' | 'meta' | 'headers'>;

const META_PREFIX = 'x-oss-meta-';

/**
 * Object names (F-OSS-OBJECT-NAMES): 1 to 1023 bytes of UTF-8, not starting with `/` or a backslash (EC 0016-00000005),
 * case-sensitive. Nothing else is documented, so `.` and `..` segments, `//` and any other character are kept
 * as sent, never resolved like a file path.
 */
export function checkKey(key: string): void {
  if (key.startsWith('/') || key.startsWith('\\')) {
    throw new OssError(ERR.InvalidObjectName, { details: { Key: key }, ec: '0016-00000005' });
  }
  if (Buffer.byteLength(key) > 1023) {
    throw new OssError(ERR.InvalidObjectName, { details: { Key: key }, ec: '0016-00000002' });
  }
}

export function attributesOf(request: OssRequest): ObjectAttributes {
  const meta: Record<string, string> = {};
  const headers: StoredObject['headers'] = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(META_PREFIX)) meta[name.slice(META_PREFIX.length)] = value;
  }
  for (const name of STORED_OBJECT_HEADERS) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return { contentType: request.headers['content-type'] ?? 'application/octet-stream', meta, headers };
}

/** The ACL header of an object write, validated; undefined when the caller sent none. */
export const requestedAcl = (request: OssRequest): ObjectAcl | undefined =>
  readAcl(request, 'x-oss-object-acl', OBJECT_ACLS);

/** The same, from a PostObject form field. */
export const requestedAclOf = (value: string | undefined): ObjectAcl | undefined =>
  parseAcl(value, 'x-oss-object-acl', OBJECT_ACLS);

export interface NewObject {
  body: Buffer;
  attributes: ObjectAttributes;
  acl: ObjectAcl;
  type?: ObjectType;
  /** Multipart objects carry a composite ETag rather than the body's MD5. */
  etag?: string;
  symlinkTarget?: string;
  storageClass?: string;
  /** Default: the `x-oss-tagging` header of the request. */
  tags?: Map<string, string>;
}

/**
 * The write path every object-creating call shares (PutObject, CopyObject, PostObject, CompleteMultipartUpload,
 * PutSymlink): name rules, public-access checks on the ACL, overwrite protection, retention, then the object.
 */
export function storeObject(ctx: OpContext, bucket: BucketState, created: NewObject): StoredObject {
  const { request, key } = ctx;
  checkKey(key);
  if (isPublicAcl(created.acl)) assertMayGrantPublic(ctx, bucket, 'object acl');
  if (request.headers['x-oss-forbid-overwrite'] === 'true' && bucket.objects.has(key)) {
    throw new OssError(ERR.FileAlreadyExists, { details: { Key: key } });
  }
  ctx.state.assertMutable(bucket, key, ctx.now);
  const { body } = created;
  const object: StoredObject = {
    key,
    type: created.type ?? 'Normal',
    ...(created.symlinkTarget === undefined ? {} : { symlinkTarget: created.symlinkTarget }),
    body,
    etag: created.etag ?? `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`,
    crc64: crc64ecma(body),
    lastModified: ctx.now,
    acl: created.acl,
    tags: created.tags ?? taggingHeader(request),
    storageClass: created.storageClass ?? request.headers['x-oss-storage-class'] ?? bucket.storageClass,
    ...created.attributes,
  };
  const stored = addVersion(bucket, object);
  bucket.objects.set(key, stored);
  return stored;
}

const newVersionId = (): string => `CAEQ${randomBytes(12).toString('hex')}`;
const versionIdOf = (version: ObjectVersion): string | undefined =>
  version.kind === 'object' ? version.object.versionId : version.versionId;

/** A key's versions; an object written before versioning was switched on becomes version `null`. */
function historyOf(bucket: BucketState, key: string): ObjectVersion[] {
  const history = bucket.versions.get(key);
  if (history) return history;
  const current = bucket.objects.get(key);
  if (current) current.versionId = 'null';
  return current ? [{ kind: 'object', object: current }] : [];
}

/**
 * Versioning (F-OSS-VERSIONING): a write adds a version when versioning is Enabled, and replaces the `null`
 * version when it is Suspended; an unversioned bucket keeps no history.
 */
function addVersion(bucket: BucketState, object: StoredObject): StoredObject {
  if (!bucket.versioning) return object;
  const versionId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
  const stored: StoredObject = { ...object, versionId };
  const kept = historyOf(bucket, object.key).filter((v) => versionId !== 'null' || versionIdOf(v) !== 'null');
  bucket.versions.set(object.key, [...kept, { kind: 'object', object: stored }]);
  return stored;
}

/** A delete without versionId in a versioned bucket: a delete marker becomes the key's latest version. */
function addDeleteMarker(ctx: OpContext, bucket: BucketState): string {
  const versionId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
  const kept = historyOf(bucket, ctx.key).filter((v) => versionId !== 'null' || versionIdOf(v) !== 'null');
  bucket.versions.set(ctx.key, [...kept, { kind: 'marker', key: ctx.key, versionId, lastModified: ctx.now }]);
  bucket.objects.delete(ctx.key);
  return versionId;
}

/** DeleteObject with versionId removes that version for good; the newest remaining one becomes current. */
function deleteVersion(bucket: BucketState, key: string, versionId: string): OssReply {
  const history = historyOf(bucket, key);
  const removed = history.find((v) => versionIdOf(v) === versionId);
  const left = history.filter((v) => v !== removed);
  bucket.versions.set(key, left);
  const latest = left.at(-1);
  if (latest?.kind === 'object') bucket.objects.set(key, latest.object);
  else bucket.objects.delete(key);
  return emptyReply(204, {
    'x-oss-version-id': versionId,
    ...(removed?.kind === 'marker' ? { 'x-oss-delete-marker': 'true' } : {}),
  });
}

/** The version a read or an ACL call names with `versionId`, or the current object. */
const namedObject = (ctx: OpContext, bucket = ctx.state.bucket(ctx.bucketName)): StoredObject =>
  ctx.state.objectVersion(bucket, ctx.key, param(ctx.request, 'versionId'));

function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
    'content-type': object.contentType,
    'accept-ranges': 'bytes',
    'x-oss-object-type': object.type,
    'x-oss-storage-class': object.storageClass,
    'x-oss-hash-crc64ecma': object.crc64,
    ...(object.tags.size > 0 ? { 'x-oss-tagging-count': String(object.tags.size) } : {}),
    ...(object.versionId === undefined ? {} : { 'x-oss-version-id': object.versionId }),
    ...object.headers,
  };
  for (const [name, value] of Object.entries(object.meta))
    headers[`${META_PREFIX}${name}`] = toHeaderValue(value);
  return headers;
}

const unquote = (etag: string): string => etag.replace(/^W\//, '').replace(/"/g, '');

/** The four condition headers of a read, or their `x-oss-copy-source-` forms on a copy's source. */
const READ_CONDITIONS = {
  ifMatch: 'if-match',
  ifNoneMatch: 'if-none-match',
  ifModifiedSince: 'if-modified-since',
  ifUnmodifiedSince: 'if-unmodified-since',
} as const;
const COPY_CONDITIONS = {
  ifMatch: 'x-oss-copy-source-if-match',
  ifNoneMatch: 'x-oss-copy-source-if-none-match',
  ifModifiedSince: 'x-oss-copy-source-if-modified-since',
  ifUnmodifiedSince: 'x-oss-copy-source-if-unmodified-since',
} as const;

const httpSeconds = (text: string | undefined): number | undefined => {
  const at = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.floor(at / 1000);
};

/**
 * Conditional requests (F-OSS-CONDITIONAL): a failed If-Match or If-Unmodified-Since is 412 PreconditionFailed
 * (EC 0017-00001001), a failed If-None-Match or If-Modified-Since is 304 Not Modified; evaluated in RFC 7232
 * order, where an ETag condition overrides its date counterpart. Undefined when the request goes ahead.
 */
function conditionReply(
  request: OssRequest,
  object: StoredObject,
  names: typeof READ_CONDITIONS | typeof COPY_CONDITIONS,
): OssReply | undefined {
  const { headers } = request;
  const etag = unquote(object.etag);
  const modified = Math.floor(object.lastModified.getTime() / 1000);
  const failed = (condition: string) =>
    new OssError(ERR.PreconditionFailed, { details: { Condition: condition }, ec: '0017-00001001' });
  const ifMatch = headers[names.ifMatch];
  if (ifMatch !== undefined && unquote(ifMatch) !== etag) throw failed(names.ifMatch);
  const unmodifiedSince = httpSeconds(headers[names.ifUnmodifiedSince]);
  if (ifMatch === undefined && unmodifiedSince !== undefined && modified > unmodifiedSince) {
    throw failed(names.ifUnmodifiedSince);
  }
  const ifNoneMatch = headers[names.ifNoneMatch];
  const modifiedSince = httpSeconds(headers[names.ifModifiedSince]);
  const notModified =
    ifNoneMatch !== undefined
      ? unquote(ifNoneMatch) === etag
      : modifiedSince !== undefined && modified <= modifiedSince;
  if (!notModified) return undefined;
  return { status: 304, headers: { etag: object.etag, 'last-modified': object.lastModified.toUTCString() } };
}

/**
 * A single `bytes=` range; OSS ignores an invalid or unsatisfiable range, an end past the object's included,
 * and returns the whole object (without `x-oss-range-behavior: standard`, which is not modelled;
 * F-OSS-GETOBJECT-RANGE).
 */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const [start, end] =
    m[1] === ''
      ? [Math.max(0, size - Number(m[2])), size - 1]
      : [Number(m[1]), m[2] === '' ? size - 1 : Number(m[2])];
  return start <= end && end < size ? { start, end } : undefined;
}

/** A read through a symlink reads its target in the same bucket (F-OSS-SYMLINK). */
function readable(ctx: OpContext): StoredObject {
  const bucket = ctx.state.bucket(ctx.bucketName);
  const object = namedObject(ctx, bucket);
  if (object.symlinkTarget === undefined) return object;
  const target = bucket.objects.get(object.symlinkTarget);
  if (!target) throw new OssError(ERR.SymlinkTargetNotExist, { details: { Key: ctx.key } });
  return target;
}

/** The headers a GetObject may override with `response-<header>` parameters (F-OSS-RESPONSE-OVERRIDES). */
const OVERRIDABLE = [
  'content-type',
  'content-language',
  'expires',
  'cache-control',
  'content-disposition',
  'content-encoding',
] as const;

function responseOverrides(request: OssRequest): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const name of OVERRIDABLE) {
    const value = request.query.find(([n]) => n === `response-${name}`)?.[1];
    if (value !== undefined) overrides[name] = toHeaderValue(value);
  }
  return overrides;
}

function readObject(ctx: OpContext, withBody: boolean): OssReply {
  const object = readable(ctx);
  const notModified = conditionReply(ctx.request, object, READ_CONDITIONS);
  if (notModified) return notModified;
  const headers = objectHeaders(object);
  const size = object.body.length;
  const range = byteRange(ctx.request.headers.range, size);
  const body = range ? object.body.subarray(range.start, range.end + 1) : object.body;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  if (withBody) Object.assign(headers, responseOverrides(ctx.request));
  headers['content-length'] = String(body.length);
  return { status: range ? 206 : 200, headers, ...(withBody ? { body } : {}) };
}

const PutObject: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const { body } = ctx.request;
    const object = storeObject(ctx, bucket, {
      body,
      attributes: attributesOf(ctx.request),
      acl: requestedAcl(ctx.request) ?? 'default',
    });
    return emptyReply(200, {
      etag: object.etag,
      'x-oss-hash-crc64ecma': object.crc64,
      'content-md5': createHash('md5').update(body).digest('base64'),
      ...(object.versionId === undefined ? {} : { 'x-oss-version-id': object.versionId }),
    });
  },
};

/** `x-oss-copy-source: /<bucket>/<url-encoded key>[?versionId=…]` as ali-oss `_getSourceName` builds it. */
function copySource(request: OssRequest): { bucket: string; key: string } {
  const raw = request.headers['x-oss-copy-source'] ?? '';
  const path = raw.replace(/^\//, '').replace(/\?.*$/, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new OssError(ERR.InvalidArgument, {
      message: 'Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.',
      details: { ArgumentName: 'x-oss-copy-source', ArgumentValue: raw },
    });
  }
  return { bucket: decodeComponent(path.slice(0, slash)), key: decodeComponent(path.slice(slash + 1)) };
}

const CopyObject: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const from = copySource(ctx.request);
    const source = ctx.state.object(ctx.state.bucket(from.bucket), from.key);
    const notModified = conditionReply(ctx.request, source, COPY_CONDITIONS);
    if (notModified) return notModified;
    const directive = ctx.request.headers['x-oss-metadata-directive'] ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw new OssError(ERR.InvalidArgument, {
        details: { ArgumentName: 'x-oss-metadata-directive', ArgumentValue: directive },
      });
    }
    const attributes =
      directive === 'REPLACE'
        ? attributesOf(ctx.request)
        : { contentType: source.contentType, meta: source.meta, headers: source.headers };
    const tagging = ctx.request.headers['x-oss-tagging-directive'] ?? 'COPY';
    const object = storeObject(ctx, bucket, {
      body: source.body,
      attributes,
      acl: requestedAcl(ctx.request) ?? 'default',
      ...(tagging === 'REPLACE' ? {} : { tags: new Map(source.tags) }),
    });
    return xmlReply(
      element(
        'CopyObjectResult',
        element('ETag', object.etag),
        element('LastModified', object.lastModified.toISOString()),
      ),
    );
  },
};

const GetObject: Operation = { write: false, handle: (ctx) => readObject(ctx, true) };

const HeadObject: Operation = { write: false, handle: (ctx) => readObject(ctx, false) };

const GetObjectMeta: Operation = {
  write: false,
  handle(ctx) {
    const object = ctx.state.object(ctx.state.bucket(ctx.bucketName), ctx.key);
    return emptyReply(200, {
      etag: object.etag,
      'content-length': String(object.body.length),
      'last-modified': object.lastModified.toUTCString(),
    });
  },
};

const DeleteObject: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    ctx.state.assertMutable(bucket, ctx.key, ctx.now);
    const versionId = param(ctx.request, 'versionId');
    if (versionId !== undefined) return deleteVersion(bucket, ctx.key, versionId);
    if (bucket.versioning) {
      return emptyReply(204, {
        'x-oss-delete-marker': 'true',
        'x-oss-version-id': addDeleteMarker(ctx, bucket),
      });
    }
    // Deleting a key that does not exist also answers 204.
    bucket.objects.delete(ctx.key);
    return emptyReply(204);
  },
};

const GetObjectAcl: Operation = {
  write: false,
  handle(ctx) {
    const object = namedObject(ctx);
    return xmlReply(aclPolicyXml(ctx.owner, object.acl));
  },
};

const PutObjectAcl: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    if (!ctx.request.headers['x-oss-object-acl']) {
      throw new OssError(ERR.InvalidArgument, {
        message: 'The x-oss-object-acl header is missing or empty.',
        ec: '0017-00000105',
      });
    }
    const acl = requestedAcl(ctx.request) ?? 'default';
    const object = namedObject(ctx, bucket);
    if (isPublicAcl(acl)) assertMayGrantPublic(ctx, bucket, 'object acl');
    object.acl = acl;
    return emptyReply();
  },
};

export const objectOperations = {
  PutObject,
  CopyObject,
  GetObject,
  HeadObject,
  GetObjectMeta,
  DeleteObject,
  GetObjectAcl,
  PutObjectAcl,
} satisfies Record<string, Operation>;
