import { type FloorContext, floorEnv } from './env';

type Raw = { request(params: Record<string, unknown>): Promise<unknown> };

/** What ali-oss's low-level `request` needs for a bucket subresource it has no method for. */
const subresource = (bucket: string, subres: string) => ({
  method: 'GET',
  bucket,
  subres,
  successStatuses: [200],
  xmlResponse: true,
});

/**
 * The sweep's floor, bundled and run like the sweeper: ListBuckets page by page, and per bucket the four
 * reads the sweep assesses it by (ACL, policy, policy status, Block Public Access), `BUCKETS_AT_ONCE`
 * buckets at a time with no other work.
 */
export async function handler(event: Buffer, context: FloorContext): Promise<{ buckets: number }> {
  const { bucketsAtOnce } = JSON.parse(event.toString()) as { bucketsAtOnce: number };
  const oss = floorEnv(context).oss();
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = (await oss.listBuckets(
      { 'max-keys': '1000', ...(marker ? { marker } : {}) },
      {},
    )) as unknown as {
      buckets: Array<{ name: string }> | null;
      nextMarker?: string;
      isTruncated?: boolean;
    };
    names.push(...(page.buckets ?? []).map((b) => b.name));
    marker = page.isTruncated ? page.nextMarker : undefined;
  } while (marker);
  let next = 0;
  const raw = oss as unknown as Raw;
  await Promise.all(
    Array.from({ length: bucketsAtOnce }, async () => {
      while (next < names.length) {
        const bucket = names[next++] as string;
        await Promise.all([
          oss.getBucketACL(bucket),
          oss.getBucketPolicy(bucket).catch(() => undefined),
          raw.request(subresource(bucket, 'policyStatus')).catch(() => undefined),
          raw.request(subresource(bucket, 'publicAccessBlock')).catch(() => undefined),
        ]);
      }
    }),
  );
  return { buckets: names.length };
}
