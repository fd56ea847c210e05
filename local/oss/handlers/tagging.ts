import { readTagging } from '../bodies';
import { ERR, OssError } from '../errors';
import { emptyReply, type Operation, xmlReply } from '../operation';
import { element } from '../xml';

/** Bucket tag limits as ali-oss checkBucketTag.js enforces them client-side. */
const MAX_TAGS = 20;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 128;
const RESERVED_KEY_PREFIXES = ['http://', 'https://', 'Aliyun'];

function checkTags(tags: Array<[string, string]>): void {
  const bad = (message: string) => new OssError(ERR.InvalidTag, { message });
  if (tags.length > MAX_TAGS) throw bad(`A bucket can have at most ${MAX_TAGS} tags.`);
  for (const [key, value] of tags) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH)
      throw bad(`Tag key length must be 1 to ${MAX_KEY_LENGTH}.`);
    if (RESERVED_KEY_PREFIXES.some((prefix) => key.startsWith(prefix)))
      throw bad(`Tag key ${key} is reserved.`);
    if (value.length > MAX_VALUE_LENGTH) throw bad(`Tag value length must be at most ${MAX_VALUE_LENGTH}.`);
  }
}

const GetBucketTags: Operation = {
  write: false,
  handle(ctx) {
    const { tags } = ctx.state.bucket(ctx.bucketName);
    // No tags still answers 200 with an empty TagSet (GetBucketTags docs; ali-oss returns `tag: {}`).
    const tagSet = [...tags].map(([key, value]) =>
      element('Tag', element('Key', key), element('Value', value)),
    );
    return xmlReply(element('Tagging', element('TagSet', ...tagSet)));
  },
};

const PutBucketTags: Operation = {
  write: true,
  handle(ctx) {
    const bucket = ctx.state.bucket(ctx.bucketName);
    const tags = readTagging(ctx.request.body);
    checkTags(tags);
    bucket.tags = new Map(tags);
    return emptyReply();
  },
};

const DeleteBucketTags: Operation = {
  write: true,
  handle(ctx) {
    ctx.state.bucket(ctx.bucketName).tags.clear();
    return emptyReply(204);
  },
};

export const taggingOperations = { GetBucketTags, PutBucketTags, DeleteBucketTags } satisfies Record<
  string,
  Operation
>;
