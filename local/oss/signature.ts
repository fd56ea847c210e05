import { createHash, createHmac } from 'node:crypto';
import { ERR, OssError } from './errors';
import { type OssRequest, type PostForm, param } from './request';

/**
 * Server-side recomputation of the OSS V1 and V4 signatures exactly as ali-oss 6.x and the Go SDK v2 build
 * them (F-OSS-SIGNATURE-V1, F-OSS-SIGNATURE-V4): the emulator never trusts a signature it cannot reproduce
 * byte for byte.
 */

/** What a request claims about its signer, and how to recompute the signature once the secret is known. */
export interface SignatureClaim {
  scheme: 'V1' | 'V1-URL' | 'V1-POST' | 'V4' | 'V4-URL' | 'V4-POST';
  accessKeyId: string;
  provided: string;
  securityToken?: string;
  /** When the request was signed (header schemes), or until when it is valid (presigned URLs). */
  time: { kind: 'signed-at'; at: Date } | { kind: 'expires'; at: Date } | { kind: 'missing' };
  expected(secret: string): ExpectedSignature;
}

export interface ExpectedSignature {
  signature: string;
  stringToSign: string;
  canonicalRequest?: string;
}

/**
 * Query parameters that are part of the V1 CanonicalizedResource: OSS's documented list, the Go SDK v2 list,
 * and the per-operation subresources ali-oss passes as `subres`. Plain listing parameters (prefix, marker,
 * max-keys, delimiter, list-type, start-after, encoding-type, fetch-owner) are never signed.
 */
const V1_SIGNED_PARAMS = new Set([
  'acl',
  'append',
  'asyncFetch',
  'bucketInfo',
  'callback',
  'callback-var',
  'cloudboxes',
  'cname',
  'comp',
  'continuation-token',
  'cors',
  'delete',
  'encryption',
  'endTime',
  'img',
  'inventory',
  'inventoryId',
  'lifecycle',
  'live',
  'location',
  'logging',
  'objectMeta',
  'partNumber',
  'policy',
  'policyStatus',
  'position',
  'publicAccessBlock',
  'qos',
  'referer',
  'regionList',
  'replication',
  'replicationLocation',
  'replicationProgress',
  'requestPayment',
  'resourceGroup',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'security-token',
  'sequential',
  'startTime',
  'stat',
  'status',
  'style',
  'styleName',
  'symlink',
  'tagging',
  'transferAcceleration',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'vod',
  'website',
  'worm',
  'wormExtend',
  'wormId',
]);

export const isSignedSubresource = (name: string): boolean =>
  V1_SIGNED_PARAMS.has(name) || name.startsWith('x-oss-');

/** JavaScript's default sort (UTF-16 code units), which is what ali-oss applies to header names and subresources. */
const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function ossHeaderLines(headers: Readonly<Record<string, string>>): string[] {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort(codeUnitOrder)
    .map((name) => `${name}:${headers[name]?.trim()}`);
}

function v1Resource(request: OssRequest): string {
  const path = `/${request.bucket ? `${request.bucket}/` : ''}${request.key ?? ''}`;
  const subresources = request.query
    .filter(([name]) => isSignedSubresource(name))
    .sort(([a], [b]) => codeUnitOrder(a, b))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  return subresources.length > 0 ? `${path}?${subresources.join('&')}` : path;
}

function v1StringToSign(request: OssRequest, dateLine: string): string {
  const { headers } = request;
  return [
    request.method,
    headers['content-md5'] ?? '',
    headers['content-type'] ?? '',
    dateLine,
    ...ossHeaderLines(headers),
    v1Resource(request),
  ].join('\n');
}

const hmacSha1Base64 = (secret: string, text: string): string =>
  createHmac('sha1', secret).update(text, 'utf8').digest('base64');

/** RFC 3986 encoding as ali-oss `encodeString` and the Go SDK `escapePath` produce it. */
const encodeRfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

function v4CanonicalRequest(request: OssRequest, additionalHeaders: string[]): string {
  const { headers } = request;
  const uri = encodeRfc3986(`/${request.bucket ? `${request.bucket}/` : ''}${request.key ?? ''}`).replace(
    /%2F/g,
    '/',
  );
  const query = request.query
    .filter(([name]) => name !== 'x-oss-signature')
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a], [b]) => codeUnitOrder(a, b))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`))
    .join('&');
  const signedHeaders = new Set(additionalHeaders.filter((name) => headers[name] !== undefined));
  for (const name of Object.keys(headers)) {
    if (name === 'content-type' || name === 'content-md5' || name.startsWith('x-oss-'))
      signedHeaders.add(name);
  }
  const headerBlock = [...signedHeaders]
    .sort(codeUnitOrder)
    .map((name) => `${name}:${headers[name]?.trim()}\n`)
    .join('');
  return [
    request.method,
    uri,
    query,
    headerBlock,
    additionalHeaders.join(';'),
    headers['x-oss-content-sha256'] || UNSIGNED_PAYLOAD,
  ].join('\n');
}

const hmacSha256 = (key: string | Buffer, text: string): Buffer =>
  createHmac('sha256', key).update(text).digest();

/**
 * What a V4 signature (header or presigned) must be. The scope is rebuilt from the request time and the
 * emulator's own region: a request signed for another region or day fails here, as it would against the real
 * endpoint.
 */
function v4Expected(
  request: Parameters<typeof v4CanonicalRequest>[0],
  additionalHeaders: Parameters<typeof v4CanonicalRequest>[1],
  dateTime: string,
  region: string,
  secret: string,
) {
  const day = dateTime.slice(0, 8);
  const canonicalRequest = v4CanonicalRequest(request, additionalHeaders);
  const stringToSign = [
    V4_ALGORITHM,
    dateTime,
    `${day}/${region}/oss/aliyun_v4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  return { canonicalRequest, stringToSign, signature: v4Signature(secret, day, region, stringToSign) };
}

function v4Signature(secret: string, day: string, region: string, stringToSign: string): string {
  const dateKey = hmacSha256(`aliyun_v4${secret}`, day);
  const regionKey = hmacSha256(dateKey, region);
  const signingKey = hmacSha256(hmacSha256(regionKey, 'oss'), 'aliyun_v4_request');
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

/** `yyyymmddTHHMMSSZ` */
function parseIsoBasic(text: string | undefined): Date | undefined {
  const m = text ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

function parseHttpDate(text: string | undefined): Date | undefined {
  const at = text ? new Date(text) : undefined;
  return at && !Number.isNaN(at.getTime()) ? at : undefined;
}

const signedAt = (at: Date | undefined): SignatureClaim['time'] =>
  at ? { kind: 'signed-at', at } : { kind: 'missing' };

const malformedAuthorization = (detail: string): OssError =>
  // UNVERIFIED: the code OSS answers a syntactically broken Authorization header with.
  new OssError(ERR.InvalidArgument, { message: `Authorization header is invalid: ${detail}` });

function v1HeaderClaim(request: OssRequest, credentials: string): SignatureClaim {
  const colon = credentials.lastIndexOf(':');
  if (colon <= 0) throw malformedAuthorization('expected "OSS <AccessKeyId>:<Signature>"');
  // ali-oss sends only x-oss-date; the Go SDK sends only Date; OSS reads Date first.
  const dateLine = request.headers.date ?? request.headers['x-oss-date'] ?? '';
  return {
    scheme: 'V1',
    accessKeyId: credentials.slice(0, colon),
    provided: credentials.slice(colon + 1),
    securityToken: request.headers['x-oss-security-token'],
    time: signedAt(parseHttpDate(dateLine)),
    expected(secret) {
      const stringToSign = v1StringToSign(request, dateLine);
      return { stringToSign, signature: hmacSha1Base64(secret, stringToSign) };
    },
  };
}

function v1UrlClaim(request: OssRequest, accessKeyId: string, provided: string): SignatureClaim {
  const expires = param(request, 'Expires') ?? '';
  const seconds = /^\d+$/.test(expires) ? Number(expires) : Number.NaN;
  return {
    scheme: 'V1-URL',
    accessKeyId,
    provided,
    securityToken: param(request, 'security-token'),
    time: Number.isNaN(seconds) ? { kind: 'missing' } : { kind: 'expires', at: new Date(seconds * 1000) },
    expected(secret) {
      const stringToSign = v1StringToSign(request, expires);
      return { stringToSign, signature: hmacSha1Base64(secret, stringToSign) };
    },
  };
}

function v4HeaderClaim(request: OssRequest, fields: string, region: string): SignatureClaim {
  const parts = new Map(
    fields.split(',').map((field) => {
      const eq = field.indexOf('=');
      return [field.slice(0, eq).trim(), field.slice(eq + 1).trim()] as const;
    }),
  );
  const credential = parts.get('Credential')?.split('/') ?? [];
  const provided = parts.get('Signature');
  const accessKeyId = credential[0];
  if (credential.length !== 5 || !accessKeyId || !provided) {
    throw malformedAuthorization(
      'expected "OSS4-HMAC-SHA256 Credential=<AK>/<date>/<region>/oss/aliyun_v4_request,Signature=<hex>"',
    );
  }
  const additional = parts.get('AdditionalHeaders');
  const additionalHeaders = additional === undefined ? [] : additional.split(';');
  if (additionalHeaders.some((name) => name === '')) {
    throw new OssError(ERR.InvalidArgument, {
      message: 'AdditionalHeaders contains an empty header name.',
      ec: '0002-00000210',
    });
  }
  const dateTime = request.headers['x-oss-date'] ?? '';
  return {
    scheme: 'V4',
    accessKeyId,
    provided,
    securityToken: request.headers['x-oss-security-token'],
    time: signedAt(parseIsoBasic(dateTime)),
    expected(secret) {
      return v4Expected(request, additionalHeaders, dateTime, region, secret);
    },
  };
}

/**
 * A PostObject form's signature over the base64 policy as sent: V1 base64(HMAC-SHA1(secret, policy)), or V4
 * (`x-oss-signature-version`, `x-oss-credential`, `x-oss-date`, `x-oss-signature`); valid until the policy's
 * `expiration` (F-OSS-POSTOBJECT). A form without OSSAccessKeyId or x-oss-credential is anonymous.
 */
function postFormClaim(form: PostForm, region: string): SignatureClaim | undefined {
  const v4 = form.fields.get('x-oss-signature-version');
  if (v4 !== undefined && v4 !== V4_ALGORITHM) {
    throw malformedAuthorization(`x-oss-signature-version must be ${V4_ALGORITHM}`);
  }
  const credential = (form.fields.get('x-oss-credential') ?? '').split('/');
  const accessKeyId = v4 ? credential[0] : form.fields.get('ossaccesskeyid');
  if (!accessKeyId) return undefined;
  const policy = form.fields.get('policy') ?? '';
  let expiration: Date | undefined;
  try {
    const text = (JSON.parse(Buffer.from(policy, 'base64').toString('utf8')) as { expiration?: unknown })
      .expiration;
    expiration = typeof text === 'string' ? parseHttpDate(text) : undefined;
  } catch {
    expiration = undefined;
  }
  if (!policy || !expiration) {
    // The EC is the documented one for a signed form without a policy; the code is UNVERIFIED.
    throw new OssError(ERR.InvalidPolicyDocument, {
      message: 'Invalid Policy: a signed form needs a policy with an expiration.',
      ec: '0002-00000702',
    });
  }
  // V4: HMAC-SHA256 (hex) over the base64 policy with the V4 signing key of the form's day and this region.
  const day = (form.fields.get('x-oss-date') ?? '').slice(0, 8);
  return {
    scheme: v4 ? 'V4-POST' : 'V1-POST',
    accessKeyId,
    provided: form.fields.get(v4 ? 'x-oss-signature' : 'signature') ?? '',
    securityToken: form.fields.get('x-oss-security-token'),
    time: { kind: 'expires', at: expiration },
    expected: (secret) => ({
      stringToSign: policy,
      signature: v4 ? v4Signature(secret, day, region, policy) : hmacSha1Base64(secret, policy),
    }),
  };
}

/**
 * A V4 presigned URL (F-OSS-PRESIGNED-V4): the signature in `x-oss-signature`, the scope in `x-oss-credential`
 * (`<AK>/<yyyymmdd>/<region>/oss/aliyun_v4_request`), valid `x-oss-expires` seconds after `x-oss-date`; the
 * canonical request is the header scheme's, with every query parameter but the signature.
 */
function v4UrlClaim(request: OssRequest, region: string): SignatureClaim {
  if (param(request, 'x-oss-signature-version') !== V4_ALGORITHM) {
    throw malformedAuthorization(`x-oss-signature-version must be ${V4_ALGORITHM}`);
  }
  const credential = (param(request, 'x-oss-credential') ?? '').split('/');
  const accessKeyId = credential[0];
  const provided = param(request, 'x-oss-signature');
  if (credential.length !== 5 || !accessKeyId || !provided) {
    throw malformedAuthorization('a V4 presigned URL needs x-oss-credential and x-oss-signature');
  }
  const dateTime = param(request, 'x-oss-date') ?? '';
  const signed = parseIsoBasic(dateTime);
  const rawExpires = param(request, 'x-oss-expires') ?? '';
  const expiresSeconds = /^\d+$/.test(rawExpires) ? Number(rawExpires) : Number.NaN;
  const additional = param(request, 'x-oss-additional-headers');
  const additionalHeaders = additional ? additional.split(';') : [];
  return {
    scheme: 'V4-URL',
    accessKeyId,
    provided,
    securityToken: param(request, 'x-oss-security-token'),
    time:
      signed && !Number.isNaN(expiresSeconds)
        ? { kind: 'expires', at: new Date(signed.getTime() + expiresSeconds * 1000) }
        : { kind: 'missing' },
    expected(secret) {
      return v4Expected(request, additionalHeaders, dateTime, region, secret);
    },
  };
}

/** The request's signature claim, or undefined for an anonymous (unsigned) request. */
export function readSignature(request: OssRequest, region: string): SignatureClaim | undefined {
  if (request.form) return postFormClaim(request.form, region);
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    if (authorization.startsWith('OSS ')) return v1HeaderClaim(request, authorization.slice(4).trim());
    if (authorization.startsWith(`${V4_ALGORITHM} `)) {
      return v4HeaderClaim(request, authorization.slice(V4_ALGORITHM.length + 1), region);
    }
    throw malformedAuthorization('unknown signature scheme');
  }
  const urlKey = param(request, 'OSSAccessKeyId');
  const urlSignature = param(request, 'Signature');
  if (urlKey !== undefined && urlSignature !== undefined) return v1UrlClaim(request, urlKey, urlSignature);
  if (param(request, 'x-oss-signature-version') !== undefined) return v4UrlClaim(request, region);
  return undefined;
}

/** How OSS shows the bytes it signed in a SignatureDoesNotMatch body: space-separated hex. */
export const stringToSignBytes = (stringToSign: string): string =>
  [...Buffer.from(stringToSign, 'utf8')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
