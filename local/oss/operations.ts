import { ERR, OssError } from './errors';
import { accessOperations } from './handlers/access';
import { bucketOperations } from './handlers/buckets';
import { listingOperations } from './handlers/listing';
import { multipartOperations } from './handlers/multipart';
import { objectBatchOperations } from './handlers/object-batch';
import { objectTaggingOperations } from './handlers/object-tagging';
import { objectOperations } from './handlers/objects';
import { postObjectOperations } from './handlers/post-object';
import { symlinkOperations } from './handlers/symlink';
import { taggingOperations } from './handlers/tagging';
import { versioningOperations } from './handlers/versioning';
import { wormOperations } from './handlers/worm';
import type { Operation } from './operation';
import { hasParam, type OssRequest } from './request';
import { isSignedSubresource } from './signature';

/** One handler per OSS API, keyed by the API name ActionTrail and RAM use. */
export const OPERATIONS = {
  ...bucketOperations,
  ...listingOperations,
  ...accessOperations,
  ...taggingOperations,
  ...wormOperations,
  ...objectOperations,
  ...multipartOperations,
  ...postObjectOperations,
  ...symlinkOperations,
  ...objectBatchOperations,
  ...objectTaggingOperations,
  ...versioningOperations,
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

type Scope = 'service' | 'bucket' | 'object';

interface Route {
  scope: Scope;
  method: string;
  operation: OperationName;
  /** The query parameter that selects the operation (`?acl`, `?policy`, …); none for the plain resource. */
  subresource?: string;
  when?: (request: OssRequest) => boolean;
}

const route = (
  scope: Scope,
  method: string,
  subresource: string | undefined,
  operation: OperationName,
  when?: Route['when'],
): Route => ({
  scope,
  method,
  operation,
  ...(subresource ? { subresource } : {}),
  ...(when ? { when } : {}),
});

/** First match wins: ExtendBucketWorm (`?wormExtend&wormId=`) precedes CompleteBucketWorm (`?wormId=`). */
const ROUTES: Route[] = [
  route('service', 'GET', undefined, 'ListBuckets'),
  // ListBuckets filtered by `tagging="k":"v"` (F-OSS-LISTBUCKETS-TAGS).
  route('service', 'GET', 'tagging', 'ListBuckets'),
  route('service', 'GET', 'publicAccessBlock', 'GetPublicAccessBlock'),
  route('service', 'PUT', 'publicAccessBlock', 'PutPublicAccessBlock'),
  route('service', 'DELETE', 'publicAccessBlock', 'DeletePublicAccessBlock'),

  route('bucket', 'PUT', undefined, 'PutBucket'),
  route('bucket', 'DELETE', undefined, 'DeleteBucket'),
  route('bucket', 'GET', undefined, 'ListObjectsV2', (r) =>
    r.query.some(([n, v]) => n === 'list-type' && v === '2'),
  ),
  route('bucket', 'GET', undefined, 'ListObjects'),
  route('bucket', 'GET', 'bucketInfo', 'GetBucketInfo'),
  route('bucket', 'GET', 'location', 'GetBucketLocation'),
  route('bucket', 'GET', 'acl', 'GetBucketAcl'),
  route('bucket', 'PUT', 'acl', 'PutBucketAcl'),
  route('bucket', 'GET', 'policy', 'GetBucketPolicy'),
  route('bucket', 'PUT', 'policy', 'PutBucketPolicy'),
  route('bucket', 'DELETE', 'policy', 'DeleteBucketPolicy'),
  route('bucket', 'GET', 'policyStatus', 'GetBucketPolicyStatus'),
  route('bucket', 'GET', 'publicAccessBlock', 'GetBucketPublicAccessBlock'),
  route('bucket', 'PUT', 'publicAccessBlock', 'PutBucketPublicAccessBlock'),
  route('bucket', 'DELETE', 'publicAccessBlock', 'DeleteBucketPublicAccessBlock'),
  route('bucket', 'GET', 'tagging', 'GetBucketTags'),
  route('bucket', 'PUT', 'tagging', 'PutBucketTags'),
  route('bucket', 'DELETE', 'tagging', 'DeleteBucketTags'),
  route('bucket', 'POST', 'worm', 'InitiateBucketWorm'),
  route('bucket', 'POST', 'wormExtend', 'ExtendBucketWorm'),
  route('bucket', 'POST', 'wormId', 'CompleteBucketWorm'),
  route('bucket', 'DELETE', 'worm', 'AbortBucketWorm'),
  route('bucket', 'GET', 'worm', 'GetBucketWorm'),

  route('bucket', 'GET', 'uploads', 'ListMultipartUploads'),
  route('bucket', 'PUT', 'versioning', 'PutBucketVersioning'),
  route('bucket', 'GET', 'versioning', 'GetBucketVersioning'),
  route('bucket', 'GET', 'versions', 'ListObjectVersions'),
  route('bucket', 'POST', 'delete', 'DeleteMultipleObjects'),
  route('object', 'POST', 'append', 'AppendObject'),
  route('object', 'GET', 'tagging', 'GetObjectTagging'),
  route('object', 'PUT', 'tagging', 'PutObjectTagging'),
  route('object', 'DELETE', 'tagging', 'DeleteObjectTagging'),
  route('object', 'POST', 'uploads', 'InitiateMultipartUpload'),
  // UploadPartCopy (a copy source on the part) is not emulated: it answers NotImplemented.
  route('object', 'PUT', 'uploadId', 'UploadPart', (r) => r.headers['x-oss-copy-source'] === undefined),
  route('object', 'POST', 'uploadId', 'CompleteMultipartUpload'),
  route('object', 'DELETE', 'uploadId', 'AbortMultipartUpload'),
  route('object', 'GET', 'uploadId', 'ListParts'),

  route('object', 'POST', undefined, 'PostObject', (r) => r.form !== undefined),
  route('object', 'PUT', 'symlink', 'PutSymlink'),
  route('object', 'GET', 'symlink', 'GetSymlink'),

  route('object', 'PUT', undefined, 'CopyObject', (r) => r.headers['x-oss-copy-source'] !== undefined),
  route('object', 'PUT', undefined, 'PutObject'),
  route('object', 'GET', undefined, 'GetObject'),
  route('object', 'HEAD', undefined, 'HeadObject'),
  route('object', 'HEAD', 'objectMeta', 'GetObjectMeta'),
  route('object', 'DELETE', undefined, 'DeleteObject'),
  route('object', 'GET', 'acl', 'GetObjectAcl'),
  route('object', 'PUT', 'acl', 'PutObjectAcl'),
];

const SELECTORS = new Set(ROUTES.flatMap((r) => (r.subresource ? [r.subresource] : [])));

/** Signed parameters that qualify a request without selecting another operation. */
const isQualifier = (name: string): boolean =>
  ['continuation-token', 'security-token', 'versionId', 'partNumber', 'position'].includes(name) ||
  name.startsWith('response-') ||
  name.startsWith('x-oss-');

/**
 * Parameters that ask for a feature the local cloud does not emulate: answered NotImplemented, never with a
 * plausible success (F-OSS-UNEMULATED: image and document processing). A signed sub-resource that selects no
 * emulated operation (`restore`, `lifecycle`, …) is NotImplemented already.
 */
const UNEMULATED = ['x-oss-process', 'x-oss-async-process'];

export function resolveOperation(request: OssRequest): OperationName {
  for (const name of UNEMULATED) {
    if (hasParam(request, name)) {
      throw new OssError(ERR.NotImplemented, {
        message: `The local cloud does not emulate ${name}: use a real OSS bucket for it.`,
        details: { Parameter: name },
      });
    }
  }
  const scope: Scope =
    request.bucket === undefined ? 'service' : request.key === undefined ? 'bucket' : 'object';
  const names = request.query.map(([name]) => name);
  const unsupported = names.find((n) => isSignedSubresource(n) && !SELECTORS.has(n) && !isQualifier(n));
  const plain = !names.some((n) => SELECTORS.has(n));
  const match =
    unsupported === undefined
      ? ROUTES.find(
          (r) =>
            r.scope === scope &&
            r.method === request.method &&
            (r.subresource ? hasParam(request, r.subresource) : plain) &&
            (r.when?.(request) ?? true),
        )
      : undefined;
  if (!match) {
    throw new OssError(ERR.NotImplemented, {
      details: { Method: request.method, ...(unsupported ? { Subresource: unsupported } : {}) },
    });
  }
  return match.operation;
}
