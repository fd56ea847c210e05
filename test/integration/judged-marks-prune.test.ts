import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OssGateway } from '../../shared/clients/oss';
import { JUDGED_KEEP_MS, PIPELINE_PREFIX, pruneJudged } from '../../shared/pipeline/remediated';
import { startAuditBucket } from '../helpers/audit-bucket';

const REGION = 'cn-hangzhou';
const BUCKET = 'audit-bucket';
let gateway: OssGateway;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ gateway, close } = await startAuditBucket(BUCKET, REGION));
});
afterAll(() => close());

const keysUnder = async (prefix: string) =>
  (await gateway.listObjects(BUCKET, prefix)).keys.map((k) => k.key).sort();

describe('the sweep’s pruning of judged marks', () => {
  it('deletes the judged marks older than a day and nothing else', async () => {
    const judged = `${PIPELINE_PREFIX}judged/policy-guard/b1/`;
    const others = [`${PIPELINE_PREFIX}remediated/policy-guard/b1/m`, 'ossguard/audit/2026/12/07/r.json'];
    for (const key of [`${judged}old-1`, `${judged}old-2`, ...others]) {
      await gateway.putObjectIfAbsent(BUCKET, key, '{}');
    }
    const dayLater = new Date(Date.now() + JUDGED_KEEP_MS + 60_000);
    await gateway.putObjectIfAbsent(BUCKET, `${judged}young`, '{}');

    expect(await pruneJudged(gateway, BUCKET, new Date())).toBe(0);
    expect(await pruneJudged(gateway, BUCKET, dayLater)).toBe(3);
    expect(await keysUnder(judged)).toEqual([]);
    expect((await keysUnder('ossguard/')).sort()).toEqual([...others].sort());
  });
});
