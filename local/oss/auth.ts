import { timingSafeEqual } from 'node:crypto';
import type { Caller, IdentityStore } from '../identity';
import { ERR, OssError } from './errors';
import type { OssRequest } from './request';
import { readSignature, type SignatureClaim, stringToSignBytes } from './signature';

/** OSS rejects a signed request whose time is over 15 minutes off the server clock (F-OSS-CLOCK-SKEW). */
const MAX_SKEW_MS = 15 * 60_000;

const sameText = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * The verified caller, or undefined for an anonymous request. Order of checks: the key must exist and be
 * active, the STS token must belong to it and be current, the signature must match, and the request time
 * must be within the skew window (or, for a presigned URL, before its expiry).
 */
export function authenticate(
  request: OssRequest,
  identities: IdentityStore,
  region: string,
  now: Date,
): Caller | undefined {
  const claim = readSignature(request, region);
  if (!claim) return undefined;

  const found = identities.lookup(claim.accessKeyId);
  const keyDetails = { OSSAccessKeyId: claim.accessKeyId };
  if (found.kind === 'unknown') throw new OssError(ERR.InvalidAccessKeyId, { details: keyDetails });
  if (found.kind === 'inactive') {
    throw new OssError(ERR.InvalidAccessKeyId, {
      message: 'The OSS Access Key Id you provided is disabled.',
      details: keyDetails,
    });
  }

  switch (identities.checkToken(found, claim.securityToken, now)) {
    case 'missing':
      // Without a token OSS looks the STS key up among long-term keys, where it does not exist.
      throw new OssError(ERR.InvalidAccessKeyId, { details: keyDetails });
    case 'invalid':
      // A token on a long-term key makes OSS treat the request as STS and the key as unknown (EC 0002-00000002).
      throw found.securityToken === undefined
        ? new OssError(ERR.InvalidAccessKeyId, { details: keyDetails, ec: '0002-00000002' })
        : new OssError(ERR.InvalidSecurityToken);
    case 'expired':
      throw new OssError(ERR.SecurityTokenExpired);
    case 'ok':
      break;
  }

  verifySignature(claim, found.secret);
  checkTime(claim, now);
  return found.caller;
}

function verifySignature(claim: SignatureClaim, secret: string): void {
  const expected = claim.expected(secret);
  if (sameText(expected.signature, claim.provided)) return;
  throw new OssError(ERR.SignatureDoesNotMatch, {
    details: {
      OSSAccessKeyId: claim.accessKeyId,
      SignatureProvided: claim.provided,
      StringToSign: expected.stringToSign,
      StringToSignBytes: stringToSignBytes(expected.stringToSign),
      ...(expected.canonicalRequest === undefined ? {} : { CanonicalRequest: expected.canonicalRequest }),
    },
  });
}

function checkTime(claim: SignatureClaim, now: Date): void {
  const { time } = claim;
  if (time.kind === 'missing') {
    // UNVERIFIED: message and code for a signed request without a usable Date / x-oss-date / Expires.
    throw new OssError(ERR.AccessDenied, { message: 'The request must carry a valid Date or x-oss-date.' });
  }
  if (time.kind === 'expires') {
    if (time.at.getTime() >= now.getTime()) return;
    // UNVERIFIED: the exact message and extra elements for an expired presigned URL.
    throw new OssError(ERR.AccessDenied, {
      message: 'Request has expired.',
      details: { Expires: time.at.toISOString(), ServerTime: now.toISOString() },
    });
  }
  if (Math.abs(time.at.getTime() - now.getTime()) > MAX_SKEW_MS) {
    throw new OssError(ERR.RequestTimeTooSkewed, {
      details: {
        RequestTime: time.at.toISOString(),
        ServerTime: now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      },
    });
  }
}
