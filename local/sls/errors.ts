/**
 * SLS answers errors as JSON `{errorCode, errorMessage}` with the request id in `x-log-requestid`, which
 * gateway-sls turns into an error with `code` = errorCode and `data.statusCode`. Codes and statuses from the
 * SLS API "Error codes" page (F-SLS-ERROR-CODES); the messages are UNVERIFIED paraphrases.
 */
export interface SlsErrorSpec {
  status: number;
  code: string;
  message: string;
}

export class SlsError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(spec: SlsErrorSpec, detail?: string) {
    super(detail ? `${spec.message} ${detail}` : spec.message);
    this.name = 'SlsError';
    this.status = spec.status;
    this.code = spec.code;
  }
}

export const slsErrorSpec = (status: number, code: string, message: string): SlsErrorSpec => ({
  status,
  code,
  message,
});

export const SLS_ERRORS = {
  SignatureNotMatch: slsErrorSpec(401, 'SignatureNotMatch', 'Signature not matched.'),
  Unauthorized: slsErrorSpec(401, 'Unauthorized', 'The request is not authorized.'),
  InvalidAccessKeyId: slsErrorSpec(
    401,
    'InvalidAccessKeyId',
    'The AccessKeyId does not exist or is disabled.',
  ),
  SecurityTokenExpired: slsErrorSpec(401, 'SecurityTokenExpired', 'The security token has expired.'),
  RequestTimeExpired: slsErrorSpec(
    400,
    'RequestTimeExpired',
    'The request time is too far from the server time.',
  ),
  ParameterInvalid: slsErrorSpec(400, 'ParameterInvalid', 'A parameter is invalid.'),
  InvalidCursor: slsErrorSpec(400, 'InvalidCursor', 'The cursor is invalid.'),
  ProjectNotExist: slsErrorSpec(404, 'ProjectNotExist', 'The project does not exist.'),
  LogStoreNotExist: slsErrorSpec(404, 'LogStoreNotExist', 'The logstore does not exist.'),
  ShardNotExist: slsErrorSpec(404, 'ShardNotExist', 'The shard does not exist.'),
  NotFound: slsErrorSpec(404, 'NotFound', 'The API is not supported by the local SLS emulator.'),
  InternalServerError: slsErrorSpec(500, 'InternalServerError', 'Internal server error.'),
} as const;
