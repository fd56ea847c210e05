import { ERR, OssError } from '../errors';
import { type OpContext, type Operation, ownerXml, xmlReply } from '../operation';
import { param } from '../request';
import type { StoredObject } from '../state';
import { element, type Xml } from '../xml';
import { byteOrder, maxKeys, type Page, page } from './paging';

/** `encoding-type=url` asks OSS to URL-encode the names in the response (ListObjects docs). */
function encoderOf(ctx: OpContext): { encode: (name: string) => string; marker: Xml | undefined } {
  const encodingType = param(ctx.request, 'encoding-type');
  if (encodingType === undefined || encodingType === '') return { encode: (name) => name, marker: undefined };
  if (encodingType !== 'url') {
    throw new OssError(ERR.InvalidArgument, {
      details: { ArgumentName: 'encoding-type', ArgumentValue: encodingType },
    });
  }
  return { encode: encodeURIComponent, marker: element('EncodingType', 'url') };
}

interface Listing {
  page: Page;
  objects: Map<string, StoredObject>;
  prefix: string;
  delimiter: string;
  maxKeys: number;
}

function list(ctx: OpContext, after: string): Listing {
  const bucket = ctx.state.bucket(ctx.bucketName);
  const prefix = param(ctx.request, 'prefix') ?? '';
  const delimiter = param(ctx.request, 'delimiter') ?? '';
  const limit = maxKeys(ctx.request);
  return {
    page: page(bucket.objects.sortedNames(), { prefix, after, delimiter, maxKeys: limit }),
    objects: bucket.objects,
    prefix,
    delimiter,
    maxKeys: limit,
  };
}

function entriesXml(
  ctx: OpContext,
  listing: Listing,
  encode: (name: string) => string,
  withOwner: boolean,
): Xml[] {
  const contents = listing.page.entries
    .filter((entry) => !entry.commonPrefix)
    .map(({ name }) => {
      const object = listing.objects.get(name)!;
      return element(
        'Contents',
        element('Key', encode(name)),
        element('LastModified', object.lastModified.toISOString()),
        element('ETag', object.etag),
        element('Type', 'Normal'),
        element('Size', object.body.length),
        element('StorageClass', object.storageClass),
        withOwner ? ownerXml(ctx.owner) : undefined,
      );
    });
  const prefixes = listing.page.entries
    .filter((entry) => entry.commonPrefix)
    .map(({ name }) => element('CommonPrefixes', element('Prefix', encode(name))));
  return [...contents, ...prefixes];
}

const ListObjects: Operation = {
  write: false,
  handle(ctx) {
    const marker = param(ctx.request, 'marker') ?? '';
    const listing = list(ctx, marker);
    const { encode, marker: encodingType } = encoderOf(ctx);
    return xmlReply(
      element(
        'ListBucketResult',
        element('Name', ctx.bucketName),
        element('Prefix', encode(listing.prefix)),
        element('Marker', encode(marker)),
        element('MaxKeys', listing.maxKeys),
        element('Delimiter', encode(listing.delimiter)),
        encodingType,
        element('IsTruncated', listing.page.truncated),
        listing.page.next === undefined ? undefined : element('NextMarker', encode(listing.page.next)),
        // ali-oss `list()` dereferences every Contents' Owner, so v1 always sends it.
        ...entriesXml(ctx, listing, encode, true),
      ),
    );
  },
};

/** Continuation tokens are opaque to clients; here they carry the last name returned. */
const toToken = (name: string): string => Buffer.from(name, 'utf8').toString('base64url');
const fromToken = (token: string): string => Buffer.from(token, 'base64url').toString('utf8');

const ListObjectsV2: Operation = {
  write: false,
  handle(ctx) {
    const token = param(ctx.request, 'continuation-token');
    const startAfter = param(ctx.request, 'start-after');
    const afterToken = token ? fromToken(token) : '';
    const after = startAfter && byteOrder(startAfter, afterToken) > 0 ? startAfter : afterToken;
    const listing = list(ctx, after);
    const { encode, marker: encodingType } = encoderOf(ctx);
    return xmlReply(
      element(
        'ListBucketResult',
        element('Name', ctx.bucketName),
        element('Prefix', encode(listing.prefix)),
        startAfter === undefined ? undefined : element('StartAfter', encode(startAfter)),
        token === undefined ? undefined : element('ContinuationToken', token),
        element('MaxKeys', listing.maxKeys),
        element('Delimiter', encode(listing.delimiter)),
        encodingType,
        element('IsTruncated', listing.page.truncated),
        listing.page.next === undefined
          ? undefined
          : element('NextContinuationToken', toToken(listing.page.next)),
        element('KeyCount', listing.page.entries.length),
        ...entriesXml(ctx, listing, encode, param(ctx.request, 'fetch-owner') === 'true'),
      ),
    );
  },
};

export const listingOperations = { ListObjects, ListObjectsV2 } satisfies Record<string, Operation>;
