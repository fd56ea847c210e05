import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { MAX_OBJECT_BYTES, type OssGateway } from '../clients/oss';
import { type AuditRecord, DECISIONS } from './record';

/** One object read from the audit bucket: the parsed record, or why it is not one. */
export interface StoredObject {
  key: string;
  /** sha256 of the stored bytes: what a checkpoint pins. */
  sha256: string;
  record?: AuditRecord;
  problem?: string;
}

export type ReadProgress = (done: number, total: number) => void;

const LIST_CONCURRENCY = 8;
const READ_CONCURRENCY = 16;

/** The audit bucket as the review commands see it: paged listings and bounded-concurrency reads. */
export class AuditStore {
  constructor(
    readonly gateway: OssGateway,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  /** Every key under the given prefixes, one ListObjectsV2 page at a time, in key order. */
  async listKeys(prefixes: string[], keep: (key: string) => boolean = () => true): Promise<string[]> {
    return (await this.listObjects(prefixes, keep)).map((o) => o.key);
  }

  /** Like `listKeys`, with each object's LastModified: set by OSS, not by whoever wrote the object. */
  async listObjects(
    prefixes: string[],
    keep: (key: string) => boolean = () => true,
  ): Promise<Array<{ key: string; lastModified: string }>> {
    const perPrefix = await mapLimited(prefixes, LIST_CONCURRENCY, async (prefix) => {
      const objects: Array<{ key: string; lastModified: string }> = [];
      let token: string | undefined;
      do {
        const page = await this.gateway.listObjects(this.bucket, prefix, token);
        for (const { key, lastModified } of page.keys) if (keep(key)) objects.push({ key, lastModified });
        token = page.next;
      } while (token);
      return objects;
    });
    return perPrefix.flat().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async read(keys: string[], onProgress?: ReadProgress): Promise<StoredObject[]> {
    let done = 0;
    return mapLimited(keys, READ_CONCURRENCY, async (key) => {
      const body = await this.bytes(key);
      done += 1;
      onProgress?.(done, keys.length);
      // Far larger than a record: reported, as any object that is not one is, rather than ending the review.
      // Unread, its bytes have no hash to pin.
      return body
        ? parseStored(key, body)
        : { key, sha256: '', problem: `is larger than ${MAX_OBJECT_BYTES} bytes: not read` };
    });
  }

  /** The object's bytes, or undefined when it holds more than `maxBytes` (OssGateway.getObject): left unread. */
  bytes(key: string, maxBytes?: number): Promise<Buffer | undefined> {
    return this.gateway.getObjectWithin(this.bucket, key, maxBytes);
  }

  async write(key: string, body: string): Promise<'created' | 'exists'> {
    return this.gateway.putObjectIfAbsent(this.bucket, key, body);
  }
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function parseStored(key: string, body: Buffer): StoredObject {
  const sha256 = sha256Hex(body);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { key, sha256, problem: 'is not JSON' };
  }
  const problem = recordShapeProblem(value);
  return problem ? { key, sha256, problem } : { key, sha256, record: value as AuditRecord };
}

/**
 * The fields the review commands rely on. A record is untrusted input here (it may have been tampered
 * with), so a wrong shape is reported instead of crashing a renderer.
 */
function recordShapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JSON object';
  const r = value as Record<string, unknown>;
  for (const field of ['eventId', 'dedupeKey', 'eventName', 'time', 'reason', 'digest'] as const) {
    if (typeof r[field] !== 'string') return `has no string field ${field}`;
  }
  if (!(DECISIONS as readonly unknown[]).includes(r.decision)) return 'has no known decision';
  if (!isObject(r.actor) || !isObject(r.resource)) return 'has no actor or resource object';
  if (!Array.isArray(r.rules) || !r.rules.every((rule) => isObject(rule) && typeof rule.ruleId === 'string'))
    return 'has malformed rules';
  for (const field of ['before', 'after'] as const) {
    if (r[field] !== undefined && !isObject(r[field])) return `has a malformed ${field}`;
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Like `Promise.all(items.map(fn))`, with at most `limit` calls in flight; results keep input order. */
export const mapLimited = <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> => pLimit(limit).map(items, (item) => fn(item));
