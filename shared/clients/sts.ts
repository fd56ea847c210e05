import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { popCall } from './pop';
import { DEFAULT_RETRY, type RetryOptions } from './retry';
import { type RpcCall, rpcCaller } from './rpc-call';
import type { SessionCredentials } from './sessions';

/** STS's API version and its one public endpoint (F-STS-ASSUMEROLE). */
export const STS_VERSION = '2015-04-01';
const STS_HOST = 'sts.aliyuncs.com';
const STS_REGION = 'cn-hangzhou';

/** The longest session any role allows without a longer MaxSessionDuration: STS's default (F-STS-ASSUMEROLE). */
const SESSION_SECONDS = 3600;
/** STS through openapi-core's generic `callApi` (the credentials of the caller, a RAM role or user). */
export function stsCaller(credentials: CloudCredentials, endpoint?: string): RpcCall {
  return rpcCaller(credentials, { version: STS_VERSION, host: STS_HOST, region: STS_REGION }, endpoint);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** AssumeRole, with the request-id log and retries on faults; refusals (the trust policy's) fail at once. */
export async function assumeRole(
  call: RpcCall,
  arn: string,
  sessionName: string,
  log: CallLog,
  retry: RetryOptions = DEFAULT_RETRY,
): Promise<SessionCredentials> {
  const { body } = await popCall('sts', 'AssumeRole', log, retry, async () => ({
    body: await call('AssumeRole', {
      RoleArn: arn,
      RoleSessionName: sessionName,
      DurationSeconds: SESSION_SECONDS,
    }),
  }));
  const credentials = (body.Credentials ?? {}) as Record<string, unknown>;
  const accessKeyId = text(credentials.AccessKeyId);
  const accessKeySecret = text(credentials.AccessKeySecret);
  const securityToken = text(credentials.SecurityToken);
  const expiresAt = Date.parse(text(credentials.Expiration));
  if (!accessKeyId || !accessKeySecret || !securityToken || Number.isNaN(expiresAt))
    throw new Error(`AssumeRole ${arn} answered without credentials and their expiry`);
  return { accessKeyId, accessKeySecret, securityToken, expiresAt };
}
