import { ERR, OssError } from './errors';
import type { ObjectMap } from './handlers/paging';

/** ACL values OSS accepts (F-OSS-ACL-VALUES); a new object's is `default` (F-OSS-GETOBJECTACL-DEFAULT). */
export const BUCKET_ACLS = ['private', 'public-read', 'public-read-write'] as const;
export const OBJECT_ACLS = ['default', ...BUCKET_ACLS] as const;
export type BucketAcl = (typeof BUCKET_ACLS)[number];
export type ObjectAcl = (typeof OBJECT_ACLS)[number];

/** Response headers an object keeps from its upload, besides Content-Type and user metadata. */
export const STORED_OBJECT_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;

/**
 * Normal (PutObject, CopyObject, PostObject), Multipart (CompleteMultipartUpload), Symlink (PutSymlink),
 * Appendable (AppendObject).
 */
export type ObjectType = 'Normal' | 'Multipart' | 'Symlink' | 'Appendable';

export interface StoredObject {
  key: string;
  type: ObjectType;
  /** A symlink's target key, in the same bucket (F-OSS-SYMLINK). */
  symlinkTarget?: string;
  body: Buffer;
  /** Quoted upper-case hex MD5, as OSS writes it. */
  etag: string;
  crc64: string;
  lastModified: Date;
  acl: ObjectAcl;
  contentType: string;
  storageClass: string;
  /** `x-oss-meta-*` headers, names without the prefix, lower case. */
  meta: Record<string, string>;
  /** Object tags (F-OSS-OBJECT-TAGGING). */
  tags: Map<string, string>;
  /** Set once the bucket's versioning was ever switched on: `null` while it is suspended (F-OSS-VERSIONING). */
  versionId?: string;
  headers: Partial<Record<(typeof STORED_OBJECT_HEADERS)[number], string>>;
}

/** An upload between InitiateMultipartUpload and its Complete or Abort (F-OSS-MULTIPART). */
export interface MultipartUpload {
  uploadId: string;
  key: string;
  initiated: Date;
  /** The ACL Initiate asked for; CompleteMultipartUpload's own header wins over it. */
  acl?: ObjectAcl;
  storageClass?: string;
  attributes: Pick<StoredObject, 'contentType' | 'meta' | 'headers'>;
  parts: Map<number, { body: Buffer; etag: string; lastModified: Date }>;
}

export interface WormConfiguration {
  id: string;
  state: 'InProgress' | 'Locked';
  days: number;
  createdAt: Date;
}

export interface BucketState {
  name: string;
  /** The account that created the bucket: bucket names are global, each bucket has one owner account. */
  owner: string;
  createdAt: Date;
  acl: BucketAcl;
  storageClass: string;
  dataRedundancyType: string;
  /** The policy text exactly as PutBucketPolicy received it. */
  policy?: string;
  blockPublicAccess: boolean;
  tags: Map<string, string>;
  worm?: WormConfiguration;
  objects: ObjectMap<StoredObject>;
  /** In-progress multipart uploads by upload id. */
  uploads: Map<string, MultipartUpload>;
  /** Unset until PutBucketVersioning; then Enabled or Suspended, never unset again (F-OSS-VERSIONING). */
  versioning?: 'Enabled' | 'Suspended';
  /** Every version of each key, oldest first, delete markers included; kept once versioning was set. */
  versions: Map<string, ObjectVersion[]>;
}

/** One version of a key in a versioned bucket: an object, or a delete marker. */
export type ObjectVersion =
  | { kind: 'object'; object: StoredObject }
  | { kind: 'marker'; key: string; versionId: string; lastModified: Date };

/** An unlocked retention policy lapses 24 hours after InitiateBucketWorm (OSS InitiateBucketWorm docs). */
const UNLOCKED_WORM_LIFETIME_MS = 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** The emulated account's OSS data in one region. */
export class OssState {
  readonly buckets = new Map<string, BucketState>();
  /** The accounts whose account-level Block Public Access is on. */
  readonly accountsBlockingPublicAccess = new Set<string>();
  /** An account may own 100 buckets per region (PutBucket docs) unless a quota increase raised it. */
  maxBuckets = 100;

  /** The buckets one account owns. */
  bucketsOf(owner: string): BucketState[] {
    return [...this.buckets.values()].filter((bucket) => bucket.owner === owner);
  }

  bucket(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new OssError(ERR.NoSuchBucket, { details: { BucketName: name } });
    return bucket;
  }

  object(bucket: BucketState, key: string): StoredObject {
    const object = bucket.objects.get(key);
    if (!object) throw new OssError(ERR.NoSuchKey, { details: { Key: key } });
    return object;
  }

  /**
   * The object a request names: the current one, or with `versionId` that version (404 NoSuchVersion when the
   * bucket has none of that id; `null` names the version written while unversioned or suspended).
   */
  objectVersion(bucket: BucketState, key: string, versionId: string | undefined): StoredObject {
    if (versionId === undefined) return this.object(bucket, key);
    const found = (bucket.versions.get(key) ?? []).find(
      (v) => (v.kind === 'object' ? v.object.versionId : v.versionId) === versionId,
    );
    if (!found) {
      const current = bucket.objects.get(key);
      if (versionId === 'null' && current && current.versionId === undefined) return current;
      throw new OssError(ERR.NoSuchVersion, { details: { Key: key, VersionId: versionId } });
    }
    // UNVERIFIED: what a read of a delete marker's version answers; NoSuchKey here.
    if (found.kind === 'marker') throw new OssError(ERR.NoSuchKey, { details: { Key: key } });
    return found.object;
  }

  /** Block Public Access applies when either the owner account or the bucket switches it on. */
  blocksPublicAccess(owner: string, bucket?: BucketState): boolean {
    return this.accountsBlockingPublicAccess.has(owner) || (bucket?.blockPublicAccess ?? false);
  }

  /** The retention policy in force: locked, or unlocked and not yet lapsed (a lapsed one is dropped). */
  activeWorm(bucket: BucketState, now: Date): WormConfiguration | undefined {
    const worm = bucket.worm;
    if (
      worm?.state === 'InProgress' &&
      now.getTime() - worm.createdAt.getTime() >= UNLOCKED_WORM_LIFETIME_MS
    ) {
      bucket.worm = undefined;
    }
    return bucket.worm;
  }

  /** Retention counts from the object's last write, as OSS's time-based retention does. */
  assertMutable(bucket: BucketState, key: string, now: Date): void {
    const object = bucket.objects.get(key);
    const worm = this.activeWorm(bucket, now);
    if (!object || !worm) return;
    if (object.lastModified.getTime() + worm.days * DAY_MS > now.getTime()) {
      throw new OssError(ERR.FileImmutable, { details: { Key: key } });
    }
  }
}
