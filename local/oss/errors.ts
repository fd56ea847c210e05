import { element, xmlDocument } from './xml';

/**
 * OSS error codes as the emulator answers them (F-OSS-ERROR-FORMAT, F-OSS-ERROR-CODES).
 *
 * EC values are filled in where a public source names them. OSS puts an EC on every error, so the rest carry
 * PLACEHOLDER_EC rather than no EC at all: a recognisably fake value is safer than a plausible invented one.
 */
export interface ErrorSpec {
  code: string;
  status: number;
  message: string;
  ec: string;
}

/** UNVERIFIED: no public source for these codes' EC was found. */
export const PLACEHOLDER_EC = '0000-00000000';

const spec = (code: string, status: number, message: string, ec = PLACEHOLDER_EC): ErrorSpec => ({
  code,
  status,
  message,
  ec,
});

export const ERR = {
  // The EC is the 403 sample of doc-detail/32005; which AccessDenied message goes with it is UNVERIFIED.
  AccessDenied: spec('AccessDenied', 403, 'AccessDenied', '0003-00000001'),
  BucketAlreadyExists: spec(
    'BucketAlreadyExists',
    409,
    'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
    '0015-00000104',
  ),
  BucketNotEmpty: spec('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty.'),
  FileAlreadyExists: spec(
    'FileAlreadyExists',
    409,
    'The object you specified already exists and can not be overwritten.',
  ),
  // 409 FileImmutable per the "HTTP status code 409" page; EC 0026-00000005 is the page for "object protected
  // by a retention policy", which does not name the code: the pairing is UNVERIFIED.
  FileImmutable: spec('FileImmutable', 409, 'The object you specified is immutable.', '0026-00000005'),
  InternalError: spec('InternalError', 500, 'We encountered an internal error. Please try again.'),
  InvalidAccessKeyId: spec(
    'InvalidAccessKeyId',
    403,
    'The OSS Access Key Id you provided does not exist in our records.',
  ),
  InvalidArgument: spec('InvalidArgument', 400, 'Invalid Argument.'),
  InvalidBucketName: spec('InvalidBucketName', 400, 'The specified bucket is not valid.'),
  InvalidDigest: spec('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.'),
  // F-OSS-MULTIPART: the codes of CompleteMultipartUpload's part checks and an unknown upload id.
  // F-OSS-POSTOBJECT: a file outside the policy's content-length-range; the code is UNVERIFIED.
  EntityTooLarge: spec('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size.'),
  MalformedPOSTRequest: spec(
    'MalformedPOSTRequest',
    400,
    'The body of your POST request is not well-formed multipart/form-data.',
  ),
  EntityTooSmall: spec(
    'EntityTooSmall',
    400,
    'Your proposed upload is smaller than the minimum allowed size.',
  ),
  InvalidPart: spec(
    'InvalidPart',
    400,
    "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
  ),
  InvalidPartOrder: spec('InvalidPartOrder', 400, 'The list of parts was not in ascending order.'),
  // UNVERIFIED (F-OSS-SYMLINK): the codes for GetSymlink on a plain object and a link whose target is gone.
  NotSymlink: spec('NotSymlink', 400, 'The specified object is not a symlink.'),
  SymlinkTargetNotExist: spec('SymlinkTargetNotExist', 404, 'The symlink target object does not exist.'),
  // F-OSS-APPEND: an append at the wrong position, or to an object that is not appendable.
  ObjectNotAppendable: spec('ObjectNotAppendable', 409, 'The object is not appendable.'),
  PositionNotEqualToLength: spec('PositionNotEqualToLength', 409, 'Position is not equal to file length.'),
  // F-OSS-VERSIONING: a versionId the key does not have.
  NoSuchVersion: spec('NoSuchVersion', 404, 'The specified version does not exist.'),
  NoSuchUpload: spec('NoSuchUpload', 404, 'The specified upload does not exist.'),
  InvalidObjectName: spec('InvalidObjectName', 400, 'The specified object is not valid.'),
  // UNVERIFIED for PutBucketPolicy: OSS documents this code for PostObject form policies only.
  InvalidPolicyDocument: spec('InvalidPolicyDocument', 400, 'Invalid Policy.'),
  // The reference marks the STS code names UNVERIFIED. InvalidSecurityToken is listed on OSS's "HTTP 403
  // errors" page (EC page 0002-00000006); SecurityTokenExpired with EC 0002-00000007 is quoted from an SDK
  // error on developer.aliyun.com. Neither was observed against OSS here.
  InvalidSecurityToken: spec(
    'InvalidSecurityToken',
    403,
    'The security token you provided is invalid.',
    '0002-00000006',
  ),
  // UNVERIFIED: the code name; OSS validates bucket tags server-side but the error is not documented.
  InvalidTag: spec('InvalidTag', 400, 'The tag provided was not a valid tag.'),
  MalformedXML: spec(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema.',
    '0031-00000001',
  ),
  NoSuchBucket: spec('NoSuchBucket', 404, 'The specified bucket does not exist.', '0015-00000101'),
  NoSuchBucketPolicy: spec('NoSuchBucketPolicy', 404, 'The specified bucket policy does not exist.'),
  NoSuchKey: spec('NoSuchKey', 404, 'The specified key does not exist.'),
  NoSuchWORMConfiguration: spec('NoSuchWORMConfiguration', 404, 'The WORM Configuration does not exist.'),
  NotImplemented: spec(
    'NotImplemented',
    501,
    'A header you provided implies functionality that is not implemented.',
  ),
  PreconditionFailed: spec(
    'PreconditionFailed',
    412,
    'At least one of the pre-conditions you specified did not hold.',
  ),
  RequestTimeTooSkewed: spec(
    'RequestTimeTooSkewed',
    403,
    'The difference between the request time and the current time is too large.',
  ),
  SecurityTokenExpired: spec(
    'SecurityTokenExpired',
    403,
    'The security token you provided has expired.',
    '0002-00000007',
  ),
  SignatureDoesNotMatch: spec(
    'SignatureDoesNotMatch',
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    '0002-00000040',
  ),
  TooManyBuckets: spec('TooManyBuckets', 400, 'You have attempted to create more buckets than allowed.'),
  WORMConfigurationLocked: spec('WORMConfigurationLocked', 403, 'The WORM Configuration is locked.'),
} as const satisfies Record<string, ErrorSpec>;

/** Extra elements OSS adds after HostId (BucketName, OSSAccessKeyId, StringToSign, …), in document order. */
export type ErrorDetails = Record<string, string>;

export class OssError extends Error {
  readonly code: string;
  readonly status: number;
  readonly ec: string;
  readonly details: ErrorDetails;

  constructor(errorSpec: ErrorSpec, options: { message?: string; details?: ErrorDetails; ec?: string } = {}) {
    super(options.message ?? errorSpec.message);
    this.name = 'OssError';
    this.code = errorSpec.code;
    this.status = errorSpec.status;
    this.ec = options.ec ?? errorSpec.ec;
    this.details = options.details ?? {};
  }
}

export function renderError(error: OssError, requestId: string, hostId: string): string {
  return xmlDocument(
    element(
      'Error',
      element('Code', error.code),
      element('Message', error.message),
      element('RequestId', requestId),
      element('HostId', hostId),
      ...Object.entries(error.details).map(([name, value]) => element(name, value)),
      element('EC', error.ec),
      element('RecommendDoc', `https://api.aliyun.com/troubleshoot?q=${error.ec}`),
    ),
  );
}
