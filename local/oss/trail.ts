import { buildRecord, type EmittedRecord } from '../../shared/events/actiontrail-event';
import type { Caller } from '../identity';
import type { OssRequest } from './request';

/** The endpoint that handled the request, as ActionTrail's eventSource and the error HostId name it. */
export const hostOf = (region: string, bucket?: string): string =>
  `${bucket ? `${bucket}.` : ''}oss-${region}.aliyuncs.com`;

export interface TrailInput {
  operation: string;
  caller: Caller;
  request: OssRequest;
  region: string;
  requestId: string;
  error?: { code: string; message: string };
}

/**
 * The ActionTrail record of one OSS write. requestParameters carry the bucket, the object key and the ACL
 * header the caller sent; real ActionTrail may well leave these out (F-ACTIONTRAIL-OSS-ACL-HEADER), so
 * consumers must treat them as hints and re-read the live state.
 */
export function ossRecord({
  operation,
  caller,
  request,
  region,
  requestId,
  error,
}: TrailInput): EmittedRecord {
  const { bucket, key } = request;
  // A PostObject's ACL and other x-oss fields come in its form, not in headers.
  const headers: Record<string, string | undefined> = {
    ...request.headers,
    'x-oss-object-acl': request.headers['x-oss-object-acl'] ?? request.form?.fields.get('x-oss-object-acl'),
  };
  const requestParameters: Record<string, unknown> = {
    ...(bucket ? { bucketName: bucket } : {}),
    ...(key === undefined ? {} : { objectKey: key }),
    ...(headers['x-oss-acl'] === undefined ? {} : { 'x-oss-acl': headers['x-oss-acl'] }),
    ...(headers['x-oss-object-acl'] === undefined ? {} : { 'x-oss-object-acl': headers['x-oss-object-acl'] }),
  };
  const referencedResources: Record<string, string[]> = {
    ...(bucket ? { 'ACS::OSS::Bucket': [bucket] } : {}),
    // UNVERIFIED: that ActionTrail names objects `<bucket>/<key>`.
    ...(bucket && key !== undefined ? { 'ACS::OSS::Object': [`${bucket}/${key}`] } : {}),
  };
  return buildRecord({
    caller,
    eventName: operation,
    serviceName: 'Oss',
    eventSource: hostOf(region, bucket),
    region,
    requestId,
    sourceIp: request.sourceIp,
    userAgent: request.userAgent,
    requestParameters,
    referencedResources,
    ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
  });
}

/**
 * The OSS data events ActionTrail's published list names, as the emulator calls them
 * (F-ACTIONTRAIL-OSS-DATA-EVENTS; the list as read was cut off after UploadPartCopy). A trail model that
 * records only these drops CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads, ListParts,
 * PutSymlink and GetSymlink.
 */
export const PUBLISHED_OSS_DATA_EVENTS: ReadonlySet<string> = new Set([
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
  'PutObject',
  'GetObject',
  'CopyObject',
  'AppendObject',
  'DeleteObject',
  'DeleteMultipleObjects',
  'HeadObject',
  'GetObjectMeta',
  'PostObject',
  'RestoreObject',
  'SelectObject',
  'InitiateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
]);
