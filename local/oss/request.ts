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
  /** A PostObject's form; its `key` field is the request's key. */
  form?: PostForm;
}

/** A multipart/form-data body: fields by lower-case name (F-OSS-POSTOBJECT), and the `file` field. */
export interface PostForm {
  fields: Map<string, string>;
  file?: { content: Buffer; filename?: string; contentType?: string };
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

/**
 * The form of a PostObject (`POST /` on a bucket with multipart/form-data): the request as the key field names
 * it, `${filename}` replaced by the uploaded file's name (F-OSS-POSTOBJECT). Anything else is left as it is.
 */
const FILENAME_PLACEHOLDER = '$' + '{filename}';

export function withPostForm(request: OssRequest): OssRequest {
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(
    request.headers['content-type'] ?? '',
  )?.[1];
  if (request.method !== 'POST' || request.key !== undefined || request.query.length > 0 || !boundary) {
    return request;
  }
  const form: PostForm = { fields: new Map() };
  const delimiter = Buffer.from(`--${boundary}`);
  let start = request.body.indexOf(delimiter);
  while (start >= 0) {
    const partStart = start + delimiter.length + 2;
    const next = request.body.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = request.body.subarray(partStart, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1]?.toLowerCase();
    if (name === 'file') {
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      const contentType = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim();
      form.file = { content, ...(filename ? { filename } : {}), ...(contentType ? { contentType } : {}) };
    } else if (name !== undefined) {
      form.fields.set(name, content.toString('utf8'));
    }
    start = next;
  }
  // The literal `${filename}` placeholder of the key field.
  const key = form.fields.get('key')?.replaceAll(FILENAME_PLACEHOLDER, form.file?.filename ?? '');
  if (!key) {
    throw new OssError(ERR.InvalidArgument, {
      message: 'The key field of a PostObject form is missing or empty.',
    });
  }
  return { ...request, key, form };
}
