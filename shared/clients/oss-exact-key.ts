import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * OSS calls on an object addressed by its exact key, signed here rather than by ali-oss. ali-oss signs the key
 * it is given, but its HTTP client parses the URL with WHATWG `URL`, which drops `.` and `..` segments
 * (`urllib` `lib/urllib.js`), and `_objectName` strips a leading `/` (`ali-oss` `lib/object.js`): a key
 * such as `a/../b.txt` then fails with SignatureDoesNotMatch, and `/x` would address `x`
 * (F-ALIOSS-PATH-NORMALISED). OSS itself keeps the key as sent (F-OSS-OBJECT-NAMES).
 *
 * The pipeline's own small objects (records, intents, marks) go this way too: an ali-oss PutObject or
 * HeadObject spends about twice the CPU of this request, and a change writes three of them (BENCHMARKS.md,
 * "burst").
 */

export interface ExactKeyTarget {
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** As OssClientOptions.endpoint; without it the region's public endpoint over HTTPS. */
  endpoint?: string;
  region: string;
  timeoutMs: number;
}

export interface ExactKeyCall {
  method: 'GET' | 'PUT' | 'HEAD';
  bucket: string;
  key: string;
  /** A value-less sub-resource such as `acl`: part of the V1 CanonicalizedResource. None: the object itself. */
  subresource?: string;
  /** `x-oss-*` headers, lower-case names. */
  headers?: Record<string, string>;
  /** A PUT's content; its Content-Type is signed (F-OSS-SIGNATURE-V1). */
  body?: { content: Buffer; contentType: string };
  /** A GET's `Range` (F-OSS-GETOBJECT-RANGE); like Content-Length, not part of the V1 signature. */
  range?: string;
  /**
   * The most bytes of the answer read: past them the connection is closed and the answer says `tooLarge`. The
   * bytes are counted as they arrive, never decoded: an object stored with `Content-Encoding: gzip` comes as
   * its compressed bytes, where ali-oss's HTTP client would inflate it in memory before any size check.
   */
  maxBodyBytes?: number;
}

/** `res` as ali-oss results carry it, so the request id is read the same way. */
export interface ExactKeyAnswer {
  res: { status: number; headers: IncomingHttpHeaders };
  body: string;
  /** The answer's bytes as they came; only the first `maxBodyBytes` + 1 when `tooLarge`. `body` is empty
   * for a successful call with `maxBodyBytes`: an object read wants the bytes. */
  content: Buffer;
  /** The answer had more than the call's `maxBodyBytes`; the rest was never read. */
  tooLarge?: true;
}

/** The error shape ali-oss throws, so that one classifier (toCloudApiError) reads both. */
export interface OssServiceError extends Error {
  code: string;
  status: number;
  requestId?: string;
}

/** What ali-oss also refuses to send: a bucket name OSS could never have (3-63 of a-z, 0-9, `-`). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export const isIpHost = (host: string): boolean => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');

/** The key as a URL path, every byte but `/` percent-encoded, so nothing on the way can rewrite it. */
const encodeKeyPath = (key: string): string =>
  key
    .split('/')
    .map((segment) =>
      segment === '.' || segment === '..'
        ? segment.replaceAll('.', '%2E')
        : encodeURIComponent(segment).replace(
            /[!'()*]/g,
            (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
          ),
    )
    .join('/');

/**
 * Where the request goes, addressed the way ali-oss addresses it (F-OSS-ADDRESSING): virtual-hosted on the
 * region's endpoint; path-style on a host-name endpoint; on an IP endpoint with the bucket in the Host header.
 */
function addressOf(target: ExactKeyTarget, bucket: string, keyPath: string) {
  const regionHost = `${bucket}.oss-${target.region}.aliyuncs.com`;
  if (!target.endpoint)
    return { url: new URL(`https://${regionHost}`), path: `/${keyPath}`, host: regionHost };
  const url = new URL(target.endpoint);
  return isIpHost(url.hostname)
    ? { url, path: `/${keyPath}`, host: regionHost }
    : { url, path: `/${bucket}/${keyPath}`, host: url.host };
}

/**
 * The V1 header signature (F-OSS-SIGNATURE-V1): VERB, Content-MD5, Content-Type, Date, the sorted `x-oss-*`
 * headers, then `/<bucket>/<key>?<subresource>` with the key as it is, not encoded.
 */
function authorization(
  target: ExactKeyTarget,
  call: ExactKeyCall,
  date: string,
  ossHeaders: Record<string, string>,
) {
  const canonicalHeaders = Object.keys(ossHeaders)
    .sort()
    .map((name) => `${name}:${ossHeaders[name]}`);
  const stringToSign = [
    call.method,
    '',
    call.body?.contentType ?? '',
    date,
    ...canonicalHeaders,
    `/${call.bucket}/${call.key}${query(call)}`,
  ].join('\n');
  const signature = createHmac('sha1', target.credentials.accessKeySecret)
    .update(stringToSign, 'utf8')
    .digest('base64');
  return `OSS ${target.credentials.accessKeyId}:${signature}`;
}

const query = (call: ExactKeyCall): string => (call.subresource ? `?${call.subresource}` : '');

const xmlText = (xml: string, element: string): string | undefined =>
  new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1];

/**
 * The error document: the body, or for a HEAD (no body) the base64 `x-oss-err` header (F-OSS-ERROR-FORMAT).
 * A HEAD's 404 is NoSuchKey whatever the header says, as ali-oss reads it (F-ALIOSS-HEAD-404), so
 * existence checks answer as they did through ali-oss.
 */
function errorDocument(answer: ExactKeyAnswer): string {
  if (answer.body || answer.res.status === 404) return answer.body;
  const header = answer.res.headers['x-oss-err'];
  return typeof header === 'string' ? Buffer.from(header, 'base64').toString('utf8') : '';
}

function serviceError(answer: ExactKeyAnswer, method: ExactKeyCall['method']): OssServiceError {
  const { status, headers } = answer.res;
  const document = errorDocument(answer);
  const headNotFound = method === 'HEAD' && status === 404 ? 'NoSuchKey' : undefined;
  const code = xmlText(document, 'Code') ?? headNotFound ?? `HTTP${status}`;
  const requestId = headers['x-oss-request-id'];
  return Object.assign(new Error(xmlText(document, 'Message') ?? `OSS answered ${status}`), {
    name: `${code}Error`,
    code,
    status,
    ...(typeof requestId === 'string' ? { requestId } : {}),
  });
}

/** Sends one signed call; a non-2xx answer rejects with the OSS error, a network failure with Node's. */
export function exactKeyRequest(target: ExactKeyTarget, call: ExactKeyCall): Promise<ExactKeyAnswer> {
  if (!BUCKET_NAME.test(call.bucket)) return Promise.reject(new Error(`invalid bucket name: ${call.bucket}`));
  const { url, path, host } = addressOf(target, call.bucket, encodeKeyPath(call.key));
  const ossHeaders: Record<string, string> = {
    ...call.headers,
    ...(target.credentials.securityToken ? { 'x-oss-security-token': target.credentials.securityToken } : {}),
  };
  const date = new Date().toUTCString();
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method: call.method,
        path: `${path}${query(call)}`,
        headers: {
          ...ossHeaders,
          host,
          date,
          ...(call.body ? { 'content-type': call.body.contentType } : {}),
          ...(call.range ? { range: call.range } : {}),
          'content-length': String(call.body?.content.length ?? 0),
          authorization: authorization(target, call, date, ossHeaders),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const settle = (tooLarge: boolean) => {
          const status = res.statusCode ?? 0;
          const content = Buffer.concat(chunks);
          const ok = status >= 200 && status < 300;
          const answer: ExactKeyAnswer = {
            res: { status, headers: res.headers },
            // An object read is wanted as bytes only: no second copy of up to the cap as a string.
            body: ok && call.maxBodyBytes !== undefined ? '' : content.toString('utf8'),
            content,
            ...(tooLarge ? { tooLarge: true as const } : {}),
          };
          if (ok) resolve(answer);
          else reject(serviceError(answer, call.method));
        };
        res.on('data', (chunk: Buffer) => {
          if (received > (call.maxBodyBytes ?? Number.POSITIVE_INFINITY)) return;
          received += chunk.length;
          chunks.push(chunk);
          if (call.maxBodyBytes === undefined || received <= call.maxBodyBytes) return;
          res.removeAllListeners('end');
          req.destroy();
          settle(true);
        });
        res.on('error', reject);
        res.on('end', () => settle(false));
      },
    );
    // A connection silent for the client's timeout fails as a network fault, which is retried.
    req.setTimeout(target.timeoutMs, () =>
      req.destroy(
        Object.assign(new Error(`OSS did not answer within ${target.timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      ),
    );
    req.on('error', reject);
    req.end(call.body?.content);
  });
}

/** The ACL in a GetObjectAcl answer. */
export const grantOf = (answer: ExactKeyAnswer): string | undefined => xmlText(answer.body, 'Grant');
