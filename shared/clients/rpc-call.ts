import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { RuntimeOptions } from '@darabonba/typescript';
import type { CloudCredentials } from './oss';
import { popConfig } from './pop';

/** The request shape the generated RPC-style clients send (F-POP-ACS3-SIGNATURE): POST, fields in the query. */
export const rpcParams = (version: string, action: string) => ({
  action,
  version,
  protocol: 'HTTPS',
  pathname: '/',
  method: 'POST',
  authType: 'AK',
  style: 'RPC',
  reqBodyType: 'formData',
  bodyType: 'json',
});

/** One call of a product: the action and its request fields in, the JSON body out. */
export type RpcCall = (action: string, query: Record<string, unknown>) => Promise<Record<string, unknown>>;

type OpenApiClass = new (config: $OpenApiUtil.Config) => OpenApi;

/**
 * A product's calls through openapi-core's generic `callApi`, for the products (ActionTrail, Security Center,
 * KMS, STS) whose generated client ossguard does not use; `endpoint` overrides the product's host (the local
 * cloud); `timeouts` (ms) replace popConfig's for a call that must not wait long.
 */
export function rpcCaller(
  credentials: CloudCredentials,
  product: { version: string; host: string; region: string },
  endpoint?: string,
  timeouts?: { connectTimeout: number; readTimeout: number },
): RpcCall {
  // openapi-core is CommonJS with `exports.default`; see sdkClient in ./ram-sdk.ts for why both forms.
  const Client = (OpenApi as OpenApiClass & { default?: OpenApiClass }).default ?? OpenApi;
  const client = new Client(
    new $OpenApiUtil.Config(popConfig(credentials, product.host, product.region, endpoint)),
  );
  return async (action, query) => {
    const response = await client.callApi(
      new $OpenApiUtil.Params(rpcParams(product.version, action)),
      new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) }),
      new RuntimeOptions({ ...timeouts }),
    );
    return (response.body ?? {}) as Record<string, unknown>;
  };
}
