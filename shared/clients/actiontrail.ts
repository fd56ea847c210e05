import type { CloudCredentials } from './oss';
import { type RpcCall, rpcCaller, rpcParams } from './rpc-call';

/** ActionTrail's API version: LookupEvents and the trail operations (F-ACTIONTRAIL-LOOKUP-API). */
export const ACTIONTRAIL_VERSION = '2020-07-06';

/** The request shape the generated ActionTrail client sends for `action`. */
export const actionTrailParams = (action: string) => rpcParams(ACTIONTRAIL_VERSION, action);

/** One ActionTrail call: the action and its request fields in, the JSON body out. */
export type ActionTrailCall = RpcCall;

/**
 * ActionTrail through openapi-core's generic `callApi`: the per-product SDK `@alicloud/actiontrail20200706`
 * is not in the npm registry. The endpoint is regional (`actiontrail.<region>.aliyuncs.com`) unless
 * overridden (the local cloud); a trail created through it gets `region` as its home region.
 */
export function actionTrailCaller(
  credentials: CloudCredentials,
  region: string,
  endpoint?: string,
): ActionTrailCall {
  const host = `actiontrail.${region}.aliyuncs.com`;
  return rpcCaller(credentials, { version: ACTIONTRAIL_VERSION, host, region }, endpoint);
}
