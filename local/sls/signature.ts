import { createHmac } from 'node:crypto';

/**
 * The `LOG <AccessKeyId>:<signature>` scheme (F-SLS-LOG-SIGNATURE) as @alicloud/gateway-sls 0.3.x computes it
 * (`getSignature`, `buildCanonicalizedHeaders`, `buildCanonicalizedResource` in its src/client.ts):
 *
 *   METHOD \n content-md5 \n content-type \n date \n
 *   every header whose name contains `x-log-` or `x-acs-`, sorted by name, as `name:value\n`
 *   path, then `?` and the query parameters sorted by name as `name=value` joined by `&` (values raw)
 *
 * signed with HMAC-SHA256 and the AccessKey secret, base64. Header names arrive lower-cased, as the
 * gateway writes them.
 */
export function stringToSign(
  method: string,
  path: string,
  query: ReadonlyArray<readonly [string, string]>,
  headers: Readonly<Record<string, string>>,
): string {
  const signedHeaders = Object.keys(headers)
    .filter((name) => name.includes('x-log-') || name.includes('x-acs-'))
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  const resource =
    query.length === 0
      ? path
      : `${path}?${[...query]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([name, value]) => `${name}=${value}`)
          .join('&')}`;
  return `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${headers.date ?? ''}\n${signedHeaders}${resource}`;
}

export const signLog = (text: string, secret: string): string =>
  createHmac('sha256', secret).update(text, 'utf8').digest('base64');

/** `LOG <id>:<signature>`; undefined for any other scheme. */
export function parseAuthorization(
  header: string | undefined,
): { accessKeyId: string; signature: string } | undefined {
  const match = /^LOG ([^:\s]+):(\S+)$/.exec(header ?? '');
  return match?.[1] && match[2] ? { accessKeyId: match[1], signature: match[2] } : undefined;
}
