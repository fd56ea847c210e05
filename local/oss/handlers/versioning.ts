import { readVersioningStatus } from '../bodies';
import { emptyReply, type Operation, ownerXml, xmlReply } from '../operation';
import { param } from '../request';
import type { ObjectVersion } from '../state';
import { element } from '../xml';
import { byteOrder, maxKeys } from './paging';

/**
 * Bucket versioning (F-OSS-VERSIONING): PutBucketVersioning (`PUT /?versioning`, Enabled or Suspended, never
 * back to unversioned), GetBucketVersioning (no Status element before it was ever set), ListObjectVersions
 * (`GET /?versions`: every version and delete marker, newest first per key). Writes, deletes and versioned
 * reads are in objects.ts.
 */

const PutBucketVersioning: Operation = {
  write: true,
  handle(ctx) {
    ctx.state.bucket(ctx.bucketName).versioning = readVersioningStatus(ctx.request.body);
    return emptyReply();
  },
};

const GetBucketVersioning: Operation = {
  write: false,
  handle(ctx) {
    const { versioning } = ctx.state.bucket(ctx.bucketName);
    return xmlReply(element('VersioningConfiguration', versioning && element('Status', versioning)));
  },
};

const ListObjectVersions: Operation = {
  write: false,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const prefix = param(ctx.request, 'prefix') ?? '';
    const keyMarker = param(ctx.request, 'key-marker') ?? '';
    const limit = maxKeys(ctx.request);
    const keys = [...new Set([...bucket.versions.keys(), ...bucket.objects.keys()])]
      .filter((key) => key.startsWith(prefix) && byteOrder(key, keyMarker) > 0)
      .sort(byteOrder);
    const entries: Array<{ version: ObjectVersion; latest: boolean }> = [];
    for (const key of keys) {
      const current = bucket.objects.get(key);
      const history: ObjectVersion[] =
        bucket.versions.get(key) ?? (current ? [{ kind: 'object', object: current }] : []);
      history.forEach((version, index) => {
        entries.push({ version, latest: index === history.length - 1 });
      });
    }
    // Newest first within a key, keys in order; a page ends at a key boundary.
    const ordered = keys.flatMap((key) => entries.filter((e) => keyOf(e.version) === key).reverse());
    const page = ordered.slice(0, limit);
    const truncated = ordered.length > limit;
    const last = page.at(-1);
    return xmlReply(
      element(
        'ListVersionsResult',
        element('Name', ctx.bucketName),
        element('Prefix', prefix),
        element('KeyMarker', keyMarker),
        element('VersionIdMarker', ''),
        element('MaxKeys', limit),
        element('IsTruncated', truncated),
        truncated && last ? element('NextKeyMarker', keyOf(last.version)) : undefined,
        ...page.map(({ version, latest }) =>
          version.kind === 'marker'
            ? element(
                'DeleteMarker',
                element('Key', version.key),
                element('VersionId', version.versionId),
                element('IsLatest', latest),
                element('LastModified', version.lastModified.toISOString()),
                ownerXml(ctx.owner),
              )
            : element(
                'Version',
                element('Key', version.object.key),
                element('VersionId', version.object.versionId ?? 'null'),
                element('IsLatest', latest),
                element('LastModified', version.object.lastModified.toISOString()),
                element('ETag', version.object.etag),
                element('Type', version.object.type),
                element('Size', version.object.body.length),
                element('StorageClass', version.object.storageClass),
                ownerXml(ctx.owner),
              ),
        ),
      ),
    );
  },
};

const keyOf = (version: ObjectVersion): string =>
  version.kind === 'marker' ? version.key : version.object.key;

export const versioningOperations = {
  PutBucketVersioning,
  GetBucketVersioning,
  ListObjectVersions,
} satisfies Record<string, Operation>;
