import type { Caller } from '../identity';
import type { OperationName } from './operations';

/**
 * What a RAM policy is checked against for an OSS request: the action (`oss:<ApiName>`, except where the API
 * reference names another permission) and the resource ARN `acs:oss:{region}:{owner}:{bucket}[/{key}]`
 * (F-OSS-RAM-ACTIONS).
 */
export type Authorize = (caller: Caller, action: string, resource: string) => boolean;

const PERMISSION_OF: Partial<Record<OperationName, string>> = {
  // "The oss:GetObject permission is required" (HeadObject, GetObjectMeta API pages).
  HeadObject: 'GetObject',
  GetObjectMeta: 'GetObject',
  // GetBucketTags page: "The permission of oss:GetBucketTagging is required"; ossutil's page says
  // oss:GetBucketTags, so the name is UNVERIFIED against real OSS.
  GetBucketTags: 'GetBucketTagging',
  PutBucketTags: 'PutBucketTagging',
  DeleteBucketTags: 'DeleteBucketTagging',
  ListObjectsV2: 'ListObjects',
  // UNVERIFIED: CopyObject also needs oss:GetObject on the source; only the target is checked here.
  CopyObject: 'PutObject',
  // Multipart uploads and form uploads write the object: oss:PutObject (F-OSS-MULTIPART, F-OSS-POSTOBJECT);
  // PutSymlink needs oss:PutObject and GetSymlink oss:GetObject (F-OSS-SYMLINK).
  InitiateMultipartUpload: 'PutObject',
  UploadPart: 'PutObject',
  CompleteMultipartUpload: 'PutObject',
  PostObject: 'PutObject',
  PutSymlink: 'PutObject',
  GetSymlink: 'GetObject',
  // AppendObject writes the object; DeleteMultipleObjects deletes each (F-OSS-APPEND, F-OSS-DELETE-MULTIPLE).
  AppendObject: 'PutObject',
  DeleteMultipleObjects: 'DeleteObject',
};

export const ramActionOf = (operation: OperationName): string =>
  `oss:${PERMISSION_OF[operation] ?? operation}`;

/** Service-level calls (ListBuckets, account Block Public Access) name no bucket: the resource is `*`. */
export const resourceOf = (region: string, owner: string, bucket?: string, key?: string): string =>
  `acs:oss:${region}:${owner}:${bucket === undefined ? '*' : key === undefined ? bucket : `${bucket}/${key}`}`;
