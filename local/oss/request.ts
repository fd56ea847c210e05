import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ERR, OssError } from './errors';

/** An incoming request reduced to what OSS looks at: the addressed bucket/key, query, headers and body. */
export interface OssRequest {
  method: string;
  /** Undefined for service-level requests (ListBuckets, account-level Block Public Access). */
  bucket?: string;
  /** Undefined for bucket-level requests. */
  key?: string;
  /** Decoded query parameters in wire order; a value-less parameter (`?acl`, `?acl=`) has value ''. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Lower-case names. Values are the raw header bytes read as UTF-8 (Node hands them over as latin1). */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  sourceIp: string;
  userAgent: string;
}

export const param = (request: OssRequest, name: string): string | undefined =>
  request.query.find(([key]) => key === name)?.[1];

export const hasParam = (request: OssRequest, name: string): boolean => param(request, name) !== undefined;

/**
 * `<bucket>.oss-<region>[-internal].aliyuncs.com` is virtual-hosted; ali-oss with an IP endpoint sends
 * `.oss-<region>.aliyuncs.com` (empty bucket label) for service-level calls (F-OSS-ADDRESSING).
 */
const VIRTUAL_HOST = /^(?:([^.]*)\.)?oss-[a-z0-9-]+\.aliyuncs\.com$/;

export function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OssError(ERR.InvalidArgument, { message: `Invalid URI encoding: ${text}` });
  }
}

/** A key that is not UTF-8 once decoded is an invalid object name (F-OSS-OBJECT-NAMES, EC 0016-00000002). */
function decodeKey(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new OssError(ERR.InvalidObjectName, { ec: '0016-00000002', details: { Key: text } });
  }
}

/**
 * Addressing per F-OSS-ADDRESSING: an OSS host name carries the bucket in its first label (virtual-hosted);
 * any other host (IP literal, localhost, a container name) means path-style `/<bucket>/<key>`.
 */
export function parseTarget(host: string, url: string): Pick<OssRequest, 'bucket' | 'key' | 'query'> {
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : url.slice(queryStart + 1);
  const query = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair): [string, string] => {
      const eq = pair.indexOf('=');
      const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [decodeComponent(name.replaceAll('+', ' ')), decodeComponent(value.replaceAll('+', ' '))];
    });

  const hostname = host.toLowerCase().replace(/:\d+$/, '');
  const virtual = isIP(hostname.replace(/^\[|\]$/g, '')) ? null : VIRTUAL_HOST.exec(hostname);
  let bucket: string | undefined;
  let keyPath: string;
  if (virtual) {
    bucket = virtual[1];
    keyPath = path.slice(1);
  } else {
    const rest = path.slice(1);
    const slash = rest.indexOf('/');
    bucket = slash < 0 ? rest : rest.slice(0, slash);
    keyPath = slash < 0 ? '' : rest.slice(slash + 1);
  }
  const key = keyPath === '' ? undefined : decodeKey(keyPath);
  return { bucket: bucket ? decodeComponent(bucket) : undefined, key, query };
}

export function readHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    headers[name] = Buffer.from(joined, 'latin1').toString('utf8');
  }
  return headers;
}

/** The inverse of readHeaders, for header values that may hold UTF-8 (user metadata). */
export const toHeaderValue = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

export const sourceIpOf = (message: IncomingMessage): string =>
  (message.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/** OSS refuses a body whose Content-MD5 does not match it, before the operation sees it. */
export function assertContentMd5(request: OssRequest): void {
  const claimed = request.headers['content-md5'];
  if (claimed === undefined) return;
  if (createHash('md5').update(request.body).digest('base64') === claimed) return;
  throw new OssError(ERR.InvalidDigest, { details: { 'Content-MD5': claimed } });
}
