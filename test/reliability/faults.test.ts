import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, FaultInjector, type FaultPlan, ratesFor } from '../../local/faults';
import type { OperationName } from '../../local/oss/operations';

const ossCall = (operation: OperationName, bucket: string) => ({ operation, bucket });

/** The answers for `n` calls to each of `buckets`, visited in the order given. */
function answers(plan: FaultPlan, order: string[], n = 200): Map<string, string[]> {
  const faults = new FaultInjector(plan);
  const out = new Map<string, string[]>(order.map((b) => [b, []]));
  for (let i = 0; i < n; i++) {
    for (const bucket of order)
      out.get(bucket)?.push(JSON.stringify(faults.oss(ossCall('GetBucketAcl', bucket)) ?? null));
  }
  return out;
}

describe('fault injection', () => {
  it('gives each resource the same faults for the same seed, however calls to other resources interleave', () => {
    const plan = { seed: 42, rates: ratesFor(0.3) };
    const forward = answers(plan, ['a', 'b', 'c']);
    const backward = answers(plan, ['c', 'b', 'a']);
    expect(backward).toEqual(forward);
    expect(answers({ ...plan, seed: 43 }, ['a', 'b', 'c'])).not.toEqual(forward);
  });

  it('injects each kind at about its rate', () => {
    const faults = new FaultInjector({ seed: 1, rates: ratesFor(0.2) });
    for (let i = 0; i < 20_000; i++) faults.oss(ossCall('PutBucketAcl', `b${i % 50}`));
    const { calls, faults: injected, byKind } = faults.stats();
    expect(calls).toBe(20_000);
    expect(injected / calls).toBeCloseTo(0.2, 1);
    expect(byKind['internal-error'] / calls).toBeCloseTo(0.07, 1);
    expect(FAULT_KINDS.every((kind) => byKind[kind] > 0)).toBe(true);
  });

  it.each([
    ['internal-error', { status: 500, code: 'InternalError' }, { status: 500, code: 'InternalError' }],
    ['throttled', { status: 503 }, { status: 400, code: 'Throttling.User' }],
    ['reset', 'reset', 'reset'],
    ['timeout', { delayMs: 11_000 }, { delayMs: 11_000 }],
  ] as const)('answers %s the way OSS and the POP gateway do', (kind, oss, pop) => {
    const faults = new FaultInjector({ seed: 1, rates: { [kind]: 1 } });
    const like = (want: string | object) => (typeof want === 'string' ? want : expect.objectContaining(want));
    expect(faults.oss(ossCall('GetBucketAcl', 'b'))).toEqual(like(oss));
    expect(
      faults.ram({ action: 'ListAccessKeys', version: '2015-05-01', params: { UserName: 'bob' } }),
    ).toEqual(like(pop));
  });

  it('uses OSS throttling codes for 503s and keeps slow answers within their range', () => {
    const faults = new FaultInjector({
      seed: 3,
      rates: { throttled: 0.5, slow: 0.5 },
      slowMs: { min: 10, max: 20 },
    });
    const seen = Array.from({ length: 400 }, (_, i) => faults.oss(ossCall('HeadObject', `b${i}`)));
    const codes = new Set(seen.flatMap((a) => (a && typeof a === 'object' && 'code' in a ? [a.code] : [])));
    expect([...codes].sort()).toEqual([
      'ActiveRequestLimitExceeded',
      'MetaOperationQpsLimitExceeded',
      'ServiceUnavailable',
      'TotalQpsLimitExceeded',
    ]);
    for (const a of seen)
      if (a && typeof a === 'object' && 'delayMs' in a) expect(a.delayMs).toBeGreaterThanOrEqual(10);
  });

  it('takes per-operation rates over the general ones', () => {
    const faults = new FaultInjector({ seed: 1, rates: { reset: 1 }, operations: { PutObject: {} } });
    expect(faults.oss(ossCall('PutObject', 'audit'))).toBeUndefined();
    expect(faults.oss(ossCall('HeadObject', 'audit'))).toBe('reset');
  });

  it('fails every matching call during an outage, even with rate faults off, until it is lifted', () => {
    const faults = new FaultInjector({ seed: 1, disabled: true });
    const lift = faults.outage('audit down', (call) => call.bucket === 'audit');
    expect(faults.oss(ossCall('PutObject', 'audit'))).toMatchObject({ status: 503 });
    expect(faults.oss(ossCall('PutObject', 'data'))).toBeUndefined();
    lift();
    expect(faults.oss(ossCall('PutObject', 'audit'))).toBeUndefined();
    expect(faults.injected()).toEqual([expect.objectContaining({ kind: 'throttled', outage: 'audit down' })]);
  });

  it('continues a burst on the same bucket across operations, and not on other buckets', () => {
    const faults = new FaultInjector({
      seed: 5,
      rates: { 'internal-error': 0.05 },
      bursts: { share: 1, calls: { min: 4, max: 4 } },
    });
    for (let i = 0; i < 1_000 && !faults.oss(ossCall('GetBucketAcl', 'hot')); i++);
    expect(faults.oss(ossCall('GetBucketAcl', 'cold'))).toBeUndefined();
    const next = ['PutBucketAcl', 'HeadObject', 'GetBucketTags', 'PutObject'] as const;
    expect(next.map((op) => faults.oss(ossCall(op, 'hot')))).toEqual(
      next.map(() => expect.objectContaining({ status: 500 })),
    );
    expect(faults.injected().filter((r) => r.burst)).toHaveLength(4);
  });

  it('reports when the last delayed call lands, so final state is read after late writes', () => {
    const faults = new FaultInjector({ seed: 1, rates: { timeout: 1 }, timeoutMs: 5_000 });
    const before = Date.now();
    faults.oss(ossCall('PutBucketAcl', 'slow'));
    expect(faults.busyUntil((call) => call.bucket === 'slow')).toBeGreaterThanOrEqual(before + 5_000);
    expect(faults.busyUntil((call) => call.bucket === 'other')).toBe(0);
  });
});
