import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Caller, IdentityStore } from '../identity';
import { AcsError, GATEWAY_ERRORS } from './errors';

/**
 * Signature V3 (`ACS3-HMAC-SHA256`, F-POP-ACS3-SIGNATURE), as documented in "Request syntax and signature
 * method V3"
 * (https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature) and as
 * `@alicloud/openapi-core` 1.0.x computes it (`src/utils.ts` getAuthorization). openapi-core signs every call
 * this way unless the client sets `signatureAlgorithm: 'v2'`, RPC-style generic `callApi` with
 * `reqBodyType: 'formData'` included, so the emulators verify V3 only.
 */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding: what openapi-core's `encode` does (encodeURIComponent plus `!'()*`). */
export const percentEncode = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export interface SignableRequest {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** Decoded query parameters, in any order. */
  query: ReadonlyArray<readonly [string, string]>;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  signedHeaders: readonly string[];
  hashedPayload: string;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function canonicalRequest(request: SignableRequest): string {
  // openapi-core touches only these three characters of the path; RPC paths are `/`.
  const uri = request.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  // The spec encodes names and values; openapi-core encodes values only. They agree on every name the SDKs
  // send (letters, digits, dots).
  const query = [...request.query]
    .sort(([a], [b]) => byCodeUnit(a, b))
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join('&');
  const headers = request.signedHeaders
    .map((name) => `${name}:${(request.headers[name] ?? '').trim()}\n`)
    .join('');
  return [request.method, uri, query, headers, request.signedHeaders.join(';'), request.hashedPayload].join(
    '\n',
  );
}

export const stringToSign = (canonical: string): string => `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;

export const signature = (secret: string, toSign: string): string =>
  createHmac('sha256', secret).update(toSign).digest('hex');

interface Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^(\S+) Credential=([^,\s]+),SignedHeaders=([^,\s]*),Signature=([0-9a-f]+)$/;

function parseAuthorization(header: string | undefined): Authorization {
  const match = header ? AUTHORIZATION.exec(header) : null;
  if (!match)
    throw new AcsError(GATEWAY_ERRORS.IncompleteSignature, 'Authorization header is missing or malformed.');
  const [, algorithm = '', accessKeyId = '', signedHeaders = '', sig = ''] = match;
  if (algorithm !== ACS3_ALGORITHM) throw new AcsError(GATEWAY_ERRORS.InvalidSignatureMethod, algorithm);
  return { accessKeyId, signedHeaders: signedHeaders.split(';').filter(Boolean), signature: sig };
}

/** Headers V3 requires, all of which must be signed ("all common request headers except Authorization"). */
const REQUIRED_HEADERS = [
  'host',
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
] as const;

const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** x-acs-date must be within 15 minutes of the server clock (SMS error table, InvalidTimeStamp.Expired). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/**
 * Nonces seen within the skew window. A replayed request inside the window is refused; outside it the date
 * check already refuses it, so older nonces can be forgotten.
 */
export class NonceRegistry {
  private readonly seen = new Map<string, number>();

  /** False when the nonce was already used. */
  claim(nonce: string, nowMs: number): boolean {
    for (const [old, at] of this.seen) if (nowMs - at > MAX_CLOCK_SKEW_MS) this.seen.delete(old);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, nowMs);
    return true;
  }
}

export interface ReceivedRequest {
  method: string;
  path: string;
  query: ReadonlyArray<readonly [string, string]>;
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/**
 * Authenticates a V3-signed request against the identity store and returns the verified caller, or throws the
 * gateway's AcsError. STS keys are valid only with their token and until they expire.
 */
export function authenticate(
  request: ReceivedRequest,
  identities: IdentityStore,
  now: Date,
  nonces: NonceRegistry,
): Caller {
  const auth = parseAuthorization(request.headers.authorization);
  const signed = new Set(auth.signedHeaders);
  const unsigned = [
    ...REQUIRED_HEADERS.filter((name) => request.headers[name] === undefined || !signed.has(name)),
    ...Object.keys(request.headers).filter((name) => name.startsWith('x-acs-') && !signed.has(name)),
  ];
  if (unsigned.length > 0) {
    throw new AcsError(
      GATEWAY_ERRORS.IncompleteSignature,
      `Missing or unsigned headers: ${unsigned.join(', ')}.`,
    );
  }

  const date = request.headers['x-acs-date'] ?? '';
  if (!ACS_DATE.test(date) || Number.isNaN(Date.parse(date))) {
    throw new AcsError(GATEWAY_ERRORS.InvalidTimeStampFormat, date);
  }
  if (Math.abs(now.getTime() - Date.parse(date)) > MAX_CLOCK_SKEW_MS) {
    throw new AcsError(GATEWAY_ERRORS.InvalidTimeStampExpired, date);
  }

  const found = identities.lookup(auth.accessKeyId);
  if (found.kind === 'unknown') throw new AcsError(GATEWAY_ERRORS.InvalidAccessKeyIdNotFound);
  if (found.kind === 'inactive') throw new AcsError(GATEWAY_ERRORS.InvalidAccessKeyIdInactive);

  const hashedPayload = request.headers['x-acs-content-sha256'] ?? '';
  if (hashedPayload !== sha256Hex(request.body)) {
    throw new AcsError(
      GATEWAY_ERRORS.SignatureDoesNotMatch,
      'x-acs-content-sha256 is not the hash of the body.',
    );
  }
  const toSign = stringToSign(
    canonicalRequest({ ...request, signedHeaders: auth.signedHeaders, hashedPayload }),
  );
  const expected = Buffer.from(signature(found.secret, toSign), 'hex');
  const presented = Buffer.from(auth.signature, 'hex');
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
    throw new AcsError(GATEWAY_ERRORS.SignatureDoesNotMatch, `server string to sign is:${toSign}`);
  }

  if (!nonces.claim(request.headers['x-acs-signature-nonce'] ?? '', now.getTime())) {
    throw new AcsError(GATEWAY_ERRORS.SignatureNonceUsed);
  }

  switch (identities.checkToken(found, request.headers['x-acs-security-token'], now)) {
    case 'missing':
      throw new AcsError(GATEWAY_ERRORS.MissingSecurityToken);
    case 'invalid':
      throw new AcsError(GATEWAY_ERRORS.InvalidSecurityTokenMismatch);
    case 'expired':
      throw new AcsError(GATEWAY_ERRORS.InvalidSecurityTokenExpired);
    case 'ok':
      return found.caller;
  }
}
