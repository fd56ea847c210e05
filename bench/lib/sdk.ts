import { $OpenApiUtil } from '@alicloud/openapi-core';

type SdkClass<T> = new (config: $OpenApiUtil.Config) => T;

/** A RAM/IMS SDK client signed with `key`, on the local cloud's RAM endpoint. */
export function popClient<T>(
  imported: SdkClass<T>,
  endpoint: string,
  key: { accessKeyId: string; accessKeySecret: string; securityToken?: string },
): T {
  // The SDKs are CommonJS with `exports.default = Client`: depending on the interop (tsx, esbuild) the
  // default import is the class or the exports object holding it.
  const Client = (imported as SdkClass<T> & { default?: SdkClass<T> }).default ?? imported;
  return new Client(
    new $OpenApiUtil.Config({
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      ...(key.securityToken ? { securityToken: key.securityToken } : {}),
      endpoint: new URL(endpoint).host,
      protocol: 'http',
      regionId: 'cn-shanghai',
    }),
  );
}
