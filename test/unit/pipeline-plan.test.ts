import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load';
import { plan } from '../../shared/pipeline/plan';
import { type Evaluation, type ModedFinding, RemediationBudget } from '../../shared/pipeline/types';

const config = (overrides: Record<string, unknown> = {}) =>
  parseConfig(JSON.stringify({ audit: { bucket: 'ossguard-audit' }, ...overrides }));

const finding = (mode: ModedFinding['mode']): ModedFinding => ({
  ruleId: 'bucket-acl-public-read',
  severity: 'high',
  message: 'the bucket ACL is public-read',
  evidence: { acl: 'public-read' },
  mode,
});

const evaluation = (overrides: Partial<Evaluation> = {}): Evaluation => ({
  findings: [finding('enforce')],
  exceptions: { ignored: [] },
  before: { acl: 'public-read' },
  compliantReason: 'bucket ACL is private',
  fix: {
    description: 'set the bucket ACL to private',
    actions: [{ kind: 'put-bucket-acl', bucket: 'b', acl: 'private' }],
    after: { acl: 'private' },
  },
  ...overrides,
});

describe('the plan stage turns an evaluation into a decision without any I/O', () => {
  it('skips with the compliant reason when no finding fired', () => {
    const planned = plan(evaluation({ findings: [] }), config(), new RemediationBudget(1));
    expect(planned).toEqual({
      decision: expect.objectContaining({ decision: 'skipped', reason: 'bucket ACL is private' }),
    });
  });

  it('records an applied exception instead of fixing', () => {
    const applied = { source: 'config' as const, match: 'www-*', reason: 'public website' };
    const planned = plan(
      evaluation({ exceptions: { applied, ignored: [] } }),
      config(),
      new RemediationBudget(1),
    );
    expect(planned.fix).toBeUndefined();
    expect(planned.decision).toMatchObject({ decision: 'excepted', exception: applied });
  });

  it('alerts with the guard’s own reason when no finding is in enforce mode', () => {
    const planned = plan(
      evaluation({
        findings: [finding('alert')],
        alertReason: 'a root AccessKey cannot be disabled by a role',
      }),
      config(),
      new RemediationBudget(1),
    );
    expect(planned.fix).toBeUndefined();
    expect(planned.decision).toMatchObject({
      decision: 'alerted',
      reason: 'a root AccessKey cannot be disabled by a role',
    });
  });

  it('says what it would do in dry-run and plans no fix', () => {
    const planned = plan(evaluation(), config({ dryRun: true }), new RemediationBudget(1));
    expect(planned.fix).toBeUndefined();
    expect(planned.decision).toMatchObject({
      decision: 'dry-run',
      reason: 'dry-run: would set the bucket ACL to private',
    });
  });

  it('plans the fix while the blast-radius cap has room, and alerts once it is spent', () => {
    const budget = new RemediationBudget(1);
    const first = plan(evaluation(), config(), budget);
    const second = plan(evaluation(), config(), budget);
    expect(first.decision).toMatchObject({ decision: 'remediated', reason: 'set the bucket ACL to private' });
    expect(first.fix?.actions).toEqual([{ kind: 'put-bucket-acl', bucket: 'b', acl: 'private' }]);
    expect(second.fix).toBeUndefined();
    expect(second.decision.decision).toBe('alerted');
    expect(second.decision.reason).toMatch(/blast-radius cap/);
  });

  it('keeps the recorded findings, lower ones included, while only the deciding ones decide', () => {
    const low: ModedFinding = { ...finding('enforce'), ruleId: 'whole-bucket-resource', severity: 'low' };
    const planned = plan(evaluation({ findings: [], recorded: [low] }), config(), new RemediationBudget(1));
    expect(planned.decision).toMatchObject({ decision: 'skipped', findings: [low] });
  });
});
