import { readCreateBucketConfiguration } from '../bodies';
import { ERR, OssError } from '../errors';
import {
  aclPolicyXml,
  emptyReply,
  type OpContext,
  type Operation,
  ownerXml,
  readAcl,
  regionNames,
  xmlReply,
} from '../operation';
import { assertMayGrantPublic, isPublicAcl } from '../public-access';
import { type OssRequest, param } from '../request';
import { BUCKET_ACLS, type BucketAcl, type BucketState } from '../state';
import { element } from '../xml';
import { byteOrder, maxKeys, ObjectMap, page } from './paging';

/** ali-oss checkBucketName.js, which mirrors OSS's naming rule. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const STORAGE_CLASSES = ['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive'];
const REDUNDANCY_TYPES = ['LRS', 'ZRS'];

function invalidChoice(name: string, value: string): OssError {
  return new OssError(ERR.InvalidArgument, {
    message: `Invalid ${name}: ${value}`,
    details: { ArgumentName: name, ArgumentValue: value },
  });
}

function createBucket(
  ctx: OpContext,
  acl: BucketAcl,
  config: { storageClass?: string; dataRedundancyType?: string } = {},
): BucketState {
  const name = ctx.bucketName;
  if (!BUCKET_NAME.test(name)) throw new OssError(ERR.InvalidBucketName, { details: { BucketName: name } });
  if (ctx.state.bucketsOf(ctx.owner).length >= ctx.state.maxBuckets) throw new OssError(ERR.TooManyBuckets);
  const bucket: BucketState = {
    name,
    owner: ctx.owner,
    createdAt: ctx.now,
    acl,
    storageClass: config.storageClass ?? 'Standard',
    dataRedundancyType: config.dataRedundancyType ?? 'LRS',
    blockPublicAccess: false,
    tags: new Map(),
    objects: new ObjectMap(),
    uploads: new Map(),
    versions: new Map(),
  };
  ctx.state.buckets.set(name, bucket);
  return bucket;
}

/** ali-oss reads the created bucket's name from `Location: /<bucket>` (F-OSS-PUTBUCKETACL-CREATES). */
const locationOf = (ctx: OpContext) => ({ location: `/${ctx.bucketName}` });

const PutBucket: Operation = {
  write: true,
  handle(ctx) {
    const acl = readAcl(ctx.request, 'x-oss-acl', BUCKET_ACLS);
    const config = readCreateBucketConfiguration(ctx.request.body);
    if (config.storageClass && !STORAGE_CLASSES.includes(config.storageClass)) {
      throw invalidChoice('StorageClass', config.storageClass);
    }
    if (config.dataRedundancyType && !REDUNDANCY_TYPES.includes(config.dataRedundancyType)) {
      throw invalidChoice('DataRedundancyType', config.dataRedundancyType);
    }
    const existing = ctx.state.buckets.get(ctx.bucketName);
    if (acl && isPublicAcl(acl)) assertMayGrantPublic(ctx, existing, 'bucket acl');
    if (!existing) {
      createBucket(ctx, acl ?? 'private', config);
      return emptyReply(200, locationOf(ctx));
    }
    // The owner re-creating its bucket succeeds unless it asks for different fixed attributes (HTTP 409 docs).
    // UNVERIFIED: that an x-oss-acl on such a repeat PutBucket replaces the ACL.
    if (config.storageClass && config.storageClass !== existing.storageClass) {
      throw new OssError(ERR.BucketAlreadyExists, {
        message: "Cannot modify existing bucket's storage class.",
      });
    }
    if (config.dataRedundancyType && config.dataRedundancyType !== existing.dataRedundancyType) {
      throw new OssError(ERR.BucketAlreadyExists, {
        message: "Bucket already exists can't modify data redundancy type.",
      });
    }
    if (acl) existing.acl = acl;
    return emptyReply(200, locationOf(ctx));
  },
};

const DeleteBucket: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    // Objects under retention cannot be deleted, so a retained bucket can never get here empty.
    if (bucket.objects.size > 0)
      throw new OssError(ERR.BucketNotEmpty, { details: { BucketName: bucket.name } });
    ctx.state.buckets.delete(bucket.name);
    return emptyReply(204);
  },
};

/**
 * ListBuckets' tag filter (F-OSS-LISTBUCKETS-TAGS): `tag-key` (with `tag-value`), or `tagging` as `"k":"v"`;
 * a bucket is listed when it has that tag.
 */
function tagFilter(request: OssRequest): (tags: ReadonlyMap<string, string>) => boolean {
  const tagging = param(request, 'tagging');
  const pair = tagging ? /^"(.*)":"(.*)"$/.exec(tagging) : null;
  if (tagging && !pair) {
    throw new OssError(ERR.InvalidArgument, { details: { ArgumentName: 'tagging', ArgumentValue: tagging } });
  }
  const key = pair?.[1] ?? param(request, 'tag-key');
  const value = pair?.[2] ?? param(request, 'tag-value');
  if (key === undefined) return () => true;
  return (tags) => tags.has(key) && (value === undefined || tags.get(key) === value);
}

const ListBuckets: Operation = {
  write: false,
  handle(ctx) {
    const { request } = ctx;
    const prefix = param(request, 'prefix') ?? '';
    const marker = param(request, 'marker') ?? '';
    const limit = maxKeys(request);
    const wanted = tagFilter(request);
    const names = ctx.state
      .bucketsOf(ctx.owner)
      .filter((bucket) => wanted(bucket.tags))
      .map((bucket) => bucket.name)
      .sort(byteOrder);
    const result = page(names, { prefix, after: marker, delimiter: '', maxKeys: limit });
    const { location, extranet, intranet } = regionNames(ctx.region);
    const buckets = result.entries.map(({ name }) => {
      const bucket = ctx.state.bucket(name);
      return element(
        'Bucket',
        element('CreationDate', bucket.createdAt.toISOString()),
        element('ExtranetEndpoint', extranet),
        element('IntranetEndpoint', intranet),
        element('Location', location),
        element('Name', name),
        element('Region', ctx.region),
        element('StorageClass', bucket.storageClass),
      );
    });
    return xmlReply(
      element(
        'ListAllMyBucketsResult',
        element('Prefix', prefix),
        element('Marker', marker),
        element('MaxKeys', limit),
        element('IsTruncated', result.truncated),
        result.next === undefined ? undefined : element('NextMarker', result.next),
        ownerXml(ctx.owner),
        element('Buckets', ...buckets),
      ),
    );
  },
};

const GetBucketInfo: Operation = {
  write: false,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const { location, extranet, intranet } = regionNames(ctx.region);
    return xmlReply(
      element(
        'BucketInfo',
        element(
          'Bucket',
          element('AccessMonitor', 'Disabled'),
          element('CreationDate', bucket.createdAt.toISOString()),
          element('ExtranetEndpoint', extranet),
          element('IntranetEndpoint', intranet),
          element('Location', location),
          element('StorageClass', bucket.storageClass),
          element('TransferAcceleration', 'Disabled'),
          element('CrossRegionReplication', 'Disabled'),
          element('DataRedundancyType', bucket.dataRedundancyType),
          element('Name', bucket.name),
          ownerXml(ctx.owner),
          element('AccessControlList', element('Grant', bucket.acl)),
          element('Comment', ''),
          element('BlockPublicAccess', bucket.blockPublicAccess),
          bucket.versioning === undefined ? undefined : element('Versioning', bucket.versioning),
        ),
      ),
    );
  },
};

const GetBucketLocation: Operation = {
  write: false,
  handle(ctx) {
    ctx.state.bucket(ctx.bucketName);
    return xmlReply(element('LocationConstraint', regionNames(ctx.region).location));
  },
};

const GetBucketAcl: Operation = {
  write: false,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    return xmlReply(aclPolicyXml(ctx.owner, bucket.acl));
  },
};

const PutBucketAcl: Operation = {
  write: true,
  handle(ctx) {
    const acl = readAcl(ctx.request, 'x-oss-acl', BUCKET_ACLS);
    if (!acl) {
      throw new OssError(ERR.InvalidArgument, {
        message: 'no such bucket access control exists',
        details: { ArgumentName: 'x-oss-acl', ArgumentValue: '' },
      });
    }
    const bucket = ctx.state.buckets.get(ctx.bucketName);
    if (isPublicAcl(acl)) assertMayGrantPublic(ctx, bucket, 'bucket acl');
    // PutBucketAcl on a missing bucket creates it (PutBucketAcl docs; ali-oss bucket tests rely on it).
    if (bucket) bucket.acl = acl;
    else createBucket(ctx, acl);
    return emptyReply(200, locationOf(ctx));
  },
};

export const bucketOperations = {
  ListBuckets,
  PutBucket,
  DeleteBucket,
  GetBucketInfo,
  GetBucketLocation,
  GetBucketAcl,
  PutBucketAcl,
} satisfies Record<string, Operation>;
