import { type FloorContext, floorEnv } from './env';

/**
 * The sweep's floor, bundled and run like the sweeper: ListBuckets page by page, and per bucket the two
 * reads every bucket costs the sweep (ACL and policy, together), `bucketsAtOnce` buckets at a time with no
 * other work.
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
  await Promise.all(
    Array.from({ length: bucketsAtOnce }, async () => {
      while (next < names.length) {
        const bucket = names[next++] as string;
        await Promise.all([oss.getBucketACL(bucket), oss.getBucketPolicy(bucket).catch(() => undefined)]);
      }
    }),
  );
  return { buckets: names.length };
}
