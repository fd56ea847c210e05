import { hasWildcard, wildcardMatches } from '../wildcard';

/** What an OSS action touches; `bucket-admin` can change who has access or destroy the bucket. */
export type ActionCategory = 'object-read' | 'list' | 'object-write' | 'bucket-read' | 'bucket-admin';

/**
 * OSS API names as RAM actions (`oss:<ApiName>`), from the RAM policy editor and the API reference
 * (https://www.alibabacloud.com/help/en/oss/developer-reference/ram-policy-editor). Used to expand wildcards;
 * names missing here are classified by their verb.
 */
const CATALOG: Readonly<Record<ActionCategory, readonly string[]>> = {
  'object-read': [
    'GetObject',
    'HeadObject',
    'GetObjectMeta',
    'GetObjectAcl',
    'GetObjectTagging',
    'GetObjectVersion',
    'GetObjectVersionAcl',
    'GetSymlink',
    'SelectObject',
  ],
  list: ['ListObjects', 'ListObjectVersions', 'ListParts', 'ListMultipartUploads', 'ListBuckets'],
  'object-write': [
    'PutObject',
    'AppendObject',
    'DeleteObject',
    'DeleteObjectVersion',
    'PutObjectAcl',
    'PutObjectVersionAcl',
    'PutObjectTagging',
    'DeleteObjectTagging',
    'PutSymlink',
    'RestoreObject',
    'AbortMultipartUpload',
  ],
  'bucket-read': [
    'GetBucketAcl',
    'GetBucketPolicy',
    'GetBucketPolicyStatus',
    'GetBucketInfo',
    'GetBucketLocation',
    'GetBucketStat',
    'GetBucketTagging',
    'GetBucketLifecycle',
    'GetBucketLogging',
    'GetBucketWebsite',
    'GetBucketReferer',
    'GetBucketCors',
    'GetBucketEncryption',
    'GetBucketVersioning',
    'GetBucketReplication',
    'GetBucketWorm',
    'GetBucketPublicAccessBlock',
    'GetBucketInventory',
  ],
  'bucket-admin': [
    'PutBucket',
    'DeleteBucket',
    'PutBucketAcl',
    'PutBucketPolicy',
    'DeleteBucketPolicy',
    'PutBucketTagging',
    'DeleteBucketTagging',
    'PutBucketLifecycle',
    'DeleteBucketLifecycle',
    'PutBucketLogging',
    'DeleteBucketLogging',
    'PutBucketWebsite',
    'DeleteBucketWebsite',
    'PutBucketReferer',
    'PutBucketCors',
    'DeleteBucketCors',
    'PutBucketEncryption',
    'DeleteBucketEncryption',
    'PutBucketVersioning',
    'PutBucketReplication',
    'DeleteBucketReplication',
    'InitiateBucketWorm',
    'AbortBucketWorm',
    'CompleteBucketWorm',
    'ExtendBucketWorm',
    'PutBucketPublicAccessBlock',
    'DeleteBucketPublicAccessBlock',
    'PutBucketInventory',
    'DeleteBucketInventory',
  ],
};

const KNOWN: ReadonlyMap<string, { name: string; category: ActionCategory }> = new Map(
  Object.entries(CATALOG).flatMap(([category, names]) =>
    names.map((name) => [
      `oss:${name}`.toLowerCase(),
      { name: `oss:${name}`, category: category as ActionCategory },
    ]),
  ),
);

const WRITE_CATEGORIES: ReadonlySet<ActionCategory> = new Set(['object-write', 'bucket-admin']);

/** `*` and `oss:*` grant every OSS operation. */
export const isFullWildcard = (action: string): boolean => /^(oss:)?\*+$/i.test(action);

/** An unknown name is judged by its verb; an unknown verb counts as a write so nothing slips through. */
function categoryOf(action: string): ActionCategory {
  const known = KNOWN.get(action.toLowerCase());
  if (known) return known.category;
  const name = action.replace(/^oss:/i, '');
  const bucketLevel = /Bucket/i.test(name) && !/Object/i.test(name);
  if (/^List/i.test(name)) return 'list';
  if (/^(Get|Head|Select)/i.test(name)) return bucketLevel ? 'bucket-read' : 'object-read';
  return bucketLevel ? 'bucket-admin' : 'object-write';
}

/** The catalogued actions an action pattern matches (RAM matches action names case-insensitively). */
export function expandAction(pattern: string): string[] {
  if (!hasWildcard(pattern)) return [KNOWN.get(pattern.toLowerCase())?.name ?? pattern];
  return [...KNOWN.values()]
    .filter((a) => wildcardMatches(pattern, a.name, { ignoreCase: true }))
    .map((a) => a.name);
}

export const categoriesOf = (pattern: string): Set<ActionCategory> =>
  new Set(expandAction(pattern).map(categoryOf));

/**
 * A wildcard that reaches bucket administration or mixes kinds of operation: what the wildcard-action rule
 * reports, so other rules leave it to that one.
 */
export function isBroadWildcard(pattern: string): boolean {
  if (!hasWildcard(pattern)) return false;
  const categories = categoriesOf(pattern);
  return isFullWildcard(pattern) || categories.has('bucket-admin') || categories.size > 1;
}

export const isWriteAction = (pattern: string): boolean =>
  [...categoriesOf(pattern)].some((c) => WRITE_CATEGORIES.has(c));

export const DATA_READS: readonly ActionCategory[] = ['object-read', 'list'];
export const DATA_OPERATIONS: readonly ActionCategory[] = [...DATA_READS, 'object-write'];

/** The actions of the given categories a pattern covers: how a fix narrows a wildcard. */
export const actionsIn = (pattern: string, categories: readonly ActionCategory[]): string[] =>
  expandAction(pattern).filter((a) => categories.includes(categoryOf(a)));
