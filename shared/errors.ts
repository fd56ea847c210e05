/**
 * ossguard's error hierarchy. Context travels in typed fields rather than in the message, so the audit log
 * can record the detail while alerts show only `publicMessage`, which never carries secrets or raw payloads.
 */
export interface ErrorContext {
  eventId?: string;
  bucket?: string;
  objectKey?: string;
  ruleId?: string;
  requestId?: string;
}

export abstract class GuardError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }

  /** Safe to show in an alert or CLI output. */
  get publicMessage(): string {
    return this.message;
  }
}

/** Input that can never become valid by retrying: a malformed event, an event we don't handle. */
export class EventParseError extends GuardError {
  /** Position of the element in a batch, when the body was an array. */
  readonly index: number | undefined;

  constructor(message: string, options: { index?: number; eventId?: string; cause?: unknown } = {}) {
    super(message, { eventId: options.eventId }, { cause: options.cause });
    this.index = options.index;
  }
}

export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `rules.bucket-acl-public-read`. */
  key: string;
  message: string;
}

/** Thrown at cold start: a misconfigured guard must fail at init, never halfway through a remediation. */
export class ConfigValidationError extends GuardError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: ErrorOptions) {
    super(`invalid ossguard config: ${issues.map((i) => `${i.key}: ${i.message}`).join('; ')}`, {}, options);
    this.issues = issues;
  }
}

/**
 * Marks a CloudApiError whichever copy of this module made it: each client bundled beside the functions
 * (scripts/bundle-options.mjs `BESIDE_CLIENTS`: STS and Resource Directory, KMS) carries its own copy of the
 * class, whose errors a plain `instanceof` would not know (a throttled ListAccounts taken for a refusal).
 */
const CLOUD_API_ERROR = Symbol.for('ossguard.CloudApiError');

/** A cloud API call failed. `retryable` separates faults worth retrying (5xx, throttling, network) from refusals. */
export class CloudApiError extends GuardError {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && CLOUD_API_ERROR in value;
  }

  readonly service: 'oss' | 'ram' | 'ims' | 'actiontrail' | 'fc' | 'sls' | 'sas' | 'sts' | 'resourcemanager';
  readonly operation: string;
  readonly code: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(
    fields: {
      service: CloudApiError['service'];
      operation: string;
      code: string;
      status?: number;
      retryable: boolean;
      message: string;
    } & ErrorContext,
    options?: ErrorOptions,
  ) {
    const { service, operation, code, status, retryable, message, ...context } = fields;
    super(`${service} ${operation} failed: ${code}: ${message}`, context, options);
    this.service = service;
    this.operation = operation;
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    Object.defineProperty(this, CLOUD_API_ERROR, { value: true });
  }

  override get publicMessage(): string {
    return `${this.service.toUpperCase()} ${this.operation} failed with ${this.code}`;
  }
}

/** More resources would be changed in one invocation than the configured blast-radius cap allows. */
export class RemediationLimitExceededError extends GuardError {
  readonly limit: number;

  constructor(limit: number, context: ErrorContext = {}) {
    super(`blast-radius cap reached: at most ${limit} remediation(s) per invocation`, context);
    this.limit = limit;
  }
}

/** An alert channel failed after its retries; recorded in the audit record, never blocks remediation. */
export class AlertDeliveryError extends GuardError {
  readonly channel: string;

  constructor(channel: string, message: string, options?: ErrorOptions) {
    super(`${channel}: ${message}`, {}, options);
    this.channel = channel;
  }
}

/** A message for any thrown value, never the raw object (which could carry request bodies or credentials). */
export function describeError(error: unknown): string {
  // A CloudApiError of a client bundled beside the functions is no GuardError of this copy (see CLOUD_API_ERROR).
  if (error instanceof GuardError || error instanceof CloudApiError) return error.publicMessage;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
