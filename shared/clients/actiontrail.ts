import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import type { CloudCredentials } from './oss';
import { popConfig } from './pop';

/** ActionTrail's API version: LookupEvents and the trail operations (F-ACTIONTRAIL-LOOKUP-API). */
export const ACTIONTRAIL_VERSION = '2020-07-06';

/** The request shape the generated ActionTrail client sends for `action`: RPC, POST, fields in the query. */
export const actionTrailParams = (action: string) => ({
  action,
  version: ACTIONTRAIL_VERSION,
  protocol: 'HTTPS',
  pathname: '/',
  method: 'POST',
  authType: 'AK',
  style: 'RPC',
  reqBodyType: 'formData',
  bodyType: 'json',
});

/** One ActionTrail call: the action and its request fields in, the JSON body out. */
export type ActionTrailCall = (
  action: string,
  query: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

type OpenApiClass = new (config: $OpenApiUtil.Config) => OpenApi;

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
  // openapi-core is CommonJS with `exports.default`; see sdkClient in ./ram-sdk.ts for why both forms.
  const Client = (OpenApi as OpenApiClass & { default?: OpenApiClass }).default ?? OpenApi;
  const client = new Client(
    new $OpenApiUtil.Config(popConfig(credentials, `actiontrail.${region}.aliyuncs.com`, region, endpoint)),
  );
  return async (action, query) => {
    const response = await client.callApi(
      new $OpenApiUtil.Params(actionTrailParams(action)),
      new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) }),
      new RuntimeOptions({}),
    );
    return (response.body ?? {}) as Record<string, unknown>;
  };
}
