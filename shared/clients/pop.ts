import { CloudApiError } from '../errors';
import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { isRetryable, type RetryOptions, withRetry } from './retry';

/** openapi-core `Config` fields for one POP service (RAM, IMS, ActionTrail), honouring endpoint overrides. */
export function popConfig(
  credentials: CloudCredentials,
  defaultEndpoint: string,
  regionId: string,
  override?: string,
) {
  const url = override ? new URL(override) : undefined;
  return {
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
    endpoint: url ? url.host : defaultEndpoint,
    protocol: url ? url.protocol.replace(':', '') : 'https',
    regionId,
    readTimeout: 10_000,
    connectTimeout: 5_000,
  };
}

interface PopError {
  code?: string;
  statusCode?: number;
  message?: string;
  data?: { RequestId?: string; Code?: string };
}

/**
 * Runs one POP call with retries on faults, logging its request id; vendor errors become CloudApiError.
 * openapi-core raises `ResponseError {code, statusCode, data}`; network failures carry a Node `code`.
 */
export async function popCall<T extends { body?: { requestId?: string } }>(
  service: 'ram' | 'ims' | 'actiontrail' | 'sas' | 'sts' | 'resourcemanager',
  operation: string,
  log: CallLog,
  retry: RetryOptions,
  send: () => Promise<T>,
): Promise<T> {
  return withRetry(async () => {
    try {
      const result = await send();
      log.record({ service, operation, requestId: result.body?.requestId, ok: true });
      return result;
    } catch (error) {
      const e = (error ?? {}) as PopError;
      const code = e.code || e.data?.Code || 'UnknownError';
      const requestId = e.data?.RequestId;
      log.record({ service, operation, requestId, ok: false });
      throw new CloudApiError(
        {
          service,
          operation,
          code,
          ...(e.statusCode !== undefined ? { status: e.statusCode } : {}),
          retryable: isRetryable(e.statusCode ?? (e.data ? 400 : undefined), code, e.message),
          message: (e.message ?? String(error)).split('\n')[0] ?? '',
          ...(requestId ? { requestId } : {}),
        },
        { cause: error },
      );
    }
  }, retry);
}
