/**
 * Errors of Alibaba Cloud's POP API gateway (the front of RAM, IMS, ActionTrail, …) and the JSON body it answers
 * them with: `{RequestId, HostId, Code, Message, Recommend}` with a 4xx/5xx status (F-POP-ERROR-BODY), which
 * openapi-core turns into `ClientError` / `ServerError` / `ThrottlingError` with `code` = `Code` (openapi-core `src/client.ts`, doRequest).
 */
export interface ErrorSpec {
  status: number;
  code: string;
  message: string;
}

export class AcsError extends Error {
  readonly status: number;
  readonly code: string;
  /**
   * Sent as `x-acs-retry-after`, which openapi-core reads into `ThrottlingError.retryAfter` and sleeps as
   * milliseconds. UNVERIFIED whether the real ActionTrail sends it.
   */
  readonly retryAfterMs: number | undefined;

  /** `detail` is appended to the documented message, the way the gateway appends its string to sign. */
  constructor(spec: ErrorSpec, detail?: string, options: { retryAfterMs?: number } = {}) {
    super(detail ? `${spec.message} ${detail}` : spec.message);
    this.name = 'AcsError';
    this.status = spec.status;
    this.code = spec.code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** An error as its product documents it: HTTP status, code and message. */
export const errorSpec = (status: number, code: string, message: string): ErrorSpec => ({
  status,
  code,
  message,
});

/**
 * Codes: the common (product "Public") error list of error-center.alibabacloud.com as the Terraform alicloud
 * provider copies it into constants; messages from Alibaba error tables that name them. Statuses come
 * from the FaaS error table (404 InvalidAccessKeyId.NotFound; 400 InvalidAccessKeyId.Inactive and
 * InvalidSecurityToken.*) and the SMS error table (15-minute window of InvalidTimeStamp.Expired). Marked
 * UNVERIFIED where no public source gives the status or the exact message.
 */
export const GATEWAY_ERRORS = {
  // Status UNVERIFIED: public clients and fixtures show both 400 and 403.
  SignatureDoesNotMatch: errorSpec(
    400,
    'SignatureDoesNotMatch',
    'Specified signature is not matched with our calculation.',
  ),
  // UNVERIFIED status and message: what the gateway answers a missing or malformed V3 Authorization header.
  IncompleteSignature: errorSpec(
    400,
    'IncompleteSignature',
    'The request signature does not conform to Aliyun standards.',
  ),
  // UNVERIFIED status and message; the code is in the public common-error list.
  InvalidSignatureMethod: errorSpec(
    400,
    'InvalidSignatureMethod',
    'Specified signature method is not supported.',
  ),
  InvalidAccessKeyIdNotFound: errorSpec(
    404,
    'InvalidAccessKeyId.NotFound',
    'Specified access key is not found.',
  ),
  InvalidAccessKeyIdInactive: errorSpec(
    400,
    'InvalidAccessKeyId.Inactive',
    'Specified access key is disabled.',
  ),
  InvalidSecurityTokenExpired: errorSpec(
    400,
    'InvalidSecurityToken.Expired',
    'Specified SecurityToken is expired.',
  ),
  InvalidSecurityTokenMismatch: errorSpec(
    400,
    'InvalidSecurityToken.MismatchWithAccessKey',
    'Specified SecurityToken mismatch with the AccessKey.',
  ),
  // UNVERIFIED status and message; the code is in the public common-error list.
  MissingSecurityToken: errorSpec(400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.'),
  // UNVERIFIED status for the three below; codes and messages from the SMS error table.
  InvalidTimeStampExpired: errorSpec(
    400,
    'InvalidTimeStamp.Expired',
    'Specified time stamp or date value is expired.',
  ),
  // UNVERIFIED message.
  InvalidTimeStampFormat: errorSpec(
    400,
    'InvalidTimeStamp.Format',
    'Specified time stamp or date value is not well formatted.',
  ),
  SignatureNonceUsed: errorSpec(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'),
  // UNVERIFIED status.
  InvalidActionNotFound: errorSpec(
    404,
    'InvalidAction.NotFound',
    'Specified api is not found, please check your url and method.',
  ),
  // UNVERIFIED status.
  InvalidVersion: errorSpec(400, 'InvalidVersion', 'Specified parameter Version is not valid.'),
  InternalError: errorSpec(
    500,
    'InternalError',
    'The request processing has failed due to some unknown error.',
  ),
} as const;

/** Anything else a handler throws is the emulator's bug, answered as the gateway answers its own. */
export const asAcsError = (error: unknown): AcsError =>
  error instanceof AcsError ? error : new AcsError(GATEWAY_ERRORS.InternalError, String(error));

/** `Missing{ParameterName}` (public common-error list); the message wording is UNVERIFIED. */
export const missingParameter = (name: string): AcsError =>
  new AcsError(errorSpec(400, `Missing${name}`, `${name} is mandatory for this action.`));

/** A parameter with a value the API does not accept; per-parameter codes exist but are not documented for all. */
export const invalidParameter = (name: string, why: string): AcsError =>
  new AcsError(errorSpec(400, 'InvalidParameter', `The parameter "${name}" is invalid: ${why}`));

/**
 * The error body. `Recommend` points at the troubleshooting page as real responses do; its query format is
 * UNVERIFIED (public fixtures show only the `https://api.aliyun.com/troubleshoot?q=<Code>` prefix).
 */
export function errorBody(
  error: AcsError,
  requestId: string,
  hostId: string,
  product: string,
): Record<string, string> {
  const query = new URLSearchParams({ q: error.code, product, requestId });
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?${query}`,
  };
}
