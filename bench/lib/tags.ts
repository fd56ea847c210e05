// Apart from sdk.ts so that the OSS-only floors, which import this, do not bundle the POP SDK core.

/** GetBucketTags: @types/ali-oss lacks the tagging methods ali-oss 6 has. */
export const bucketTags = (client: object, bucket: string): Promise<unknown> =>
  (client as { getBucketTags(name: string): Promise<unknown> }).getBucketTags(bucket);
