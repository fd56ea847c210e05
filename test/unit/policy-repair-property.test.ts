import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anonymousDecision, isPolicyPublic, parsePolicy } from '../../local/oss/policy';
import { parseConfig } from '../../shared/config';
import type { ChangeRecord } from '../../shared/events/types';
import { policyGuard } from '../../shared/guards/policy';
import { createLogger } from '../../shared/log';
import { analysePolicy } from '../../shared/policy';

/**
 * Issue #20's property: whatever the policy (Allow and Deny, Not* forms, conditions) and whatever
 * policy.mode, the repair ossguard plans never grants a request the live policy did not. Judged twice: by the
 * analyser (a policy it does not call public never becomes public) and by the local cloud's own bucket-policy
 * evaluator (local/oss/policy.ts), over a grid of anonymous requests.
 */
const OWNER = '1234567890123456';
const BUCKET = 'prop';
const CREATED = '2026-01-01T00:00:00.000Z';

const arn = (key: string) => `acs:oss:*:${OWNER}:${BUCKET}/${key}`;
const statement = fc.record(
  {
    Effect: fc.constantFrom('Allow', 'Deny'),
    principal: fc.constantFrom<[string, string[]]>(
      ['Principal', ['*']],
      ['Principal', [OWNER]],
      ['Principal', ['1987654321098765']],
      ['NotPrincipal', [OWNER]],
    ),
    action: fc.constantFrom<[string, string[]]>(
      ['Action', ['oss:GetObject']],
      ['Action', ['oss:*']],
      ['Action', ['oss:PutObject', 'oss:GetObject']],
      ['NotAction', ['oss:DeleteObject']],
    ),
    resource: fc.constantFrom<[string, string[]]>(
      ['Resource', [arn('*')]],
      ['Resource', [arn('private/*')]],
      ['Resource', [arn('pub/*')]],
      ['NotResource', [arn('pub/*')]],
    ),
    Condition: fc.option(
      fc.constantFrom(
        { IpAddress: { 'acs:SourceIp': ['192.168.0.0/16'] } },
        { NotIpAddress: { 'acs:SourceIp': ['192.168.0.0/16'] } },
        { Bool: { 'acs:SecureTransport': ['true'] } },
        { IpAddress: { 'acs:SourceIp': [' 10.0.0.0/8'] } },
      ),
      { nil: undefined },
    ),
  },
  { requiredKeys: ['Effect', 'principal', 'action', 'resource'] },
);
const policyText = fc.array(statement, { minLength: 1, maxLength: 4 }).map((list) =>
  JSON.stringify({
    Version: '1',
    Statement: list.map((s) => ({
      Effect: s.Effect,
      [s.principal[0]]: s.principal[1],
      [s.action[0]]: s.action[1],
      [s.resource[0]]: s.resource[1],
      ...(s.Condition ? { Condition: s.Condition } : {}),
    })),
  }),
);

const REQUESTS = ['oss:GetObject', 'oss:PutObject', 'oss:DeleteObject'].flatMap((action) =>
  ['pub/a', 'private/b', 'c'].flatMap((key) =>
    ['192.168.1.5', '10.1.2.3', '8.8.8.8'].map((sourceIp) => ({
      action,
      resource: arn(key),
      sourceIp,
      userAgent: 'prop',
      now: new Date('2026-06-01T00:00:00Z'),
    })),
  ),
);

/**
 * What the local cloud lets an anonymous caller do, as its authorizeAnonymous does (local/oss/public-access.ts):
 * a policy Deny wins, then a policy Allow, then a public-read bucket ACL for reads. Null when OSS would refuse
 * the policy itself.
 */
function localGrants(policy: string | null, publicReadAcl: boolean): boolean[] | null {
  let statements: ReturnType<typeof parsePolicy> = [];
  try {
    if (policy !== null) statements = parsePolicy(policy);
  } catch {
    return null;
  }
  return REQUESTS.map((r) => {
    const decision = statements.length > 0 ? anonymousDecision(statements, r) : 'none';
    if (decision !== 'none') return decision === 'allow';
    return publicReadAcl && r.action === 'oss:GetObject';
  });
}

function ossCallsPublic(policy: string): boolean {
  try {
    return isPolicyPublic(parsePolicy(policy));
  } catch {
    return false;
  }
}

const change = {
  eventId: 'e',
  eventName: 'PutBucketPolicy',
  accountId: OWNER,
  resources: { bucket: BUCKET },
} as unknown as ChangeRecord;

function repairOf(
  mode: string,
  failOn: string,
  live: string,
  snapshot: string | null,
): string | null | undefined {
  const config = parseConfig(JSON.stringify({ audit: { bucket: 'audit-bkt' }, policy: { mode, failOn } }));
  const state = {
    bucket: BUCKET,
    policy: live,
    ossIsPublic: ossCallsPublic(live),
    tags: {},
    bucketCreatedAt: CREATED,
    ownerId: OWNER,
    lastPassing: {
      key: 'k',
      snapshot: {
        bucket: BUCKET,
        policy: snapshot,
        takenAt: CREATED,
        eventId: 's',
        bucketCreatedAt: CREATED,
      },
    },
  } as Parameters<typeof policyGuard.evaluate>[1];
  const evaluation = policyGuard.evaluate(change, state, {
    config,
    now: new Date(),
    log: createLogger({}, () => {}),
  });
  const action = evaluation.fix?.actions[0];
  if (!action) return undefined;
  return action.kind === 'put-bucket-policy' ? action.policy : null;
}

describe('no bucket-policy repair grants a request the live policy denied', () => {
  it('holds for random policies in every policy.mode, by the analyser and by the local OSS evaluator', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('strip', 'delete', 'restore'),
        fc.constantFrom('low', 'medium', 'high'),
        policyText,
        fc.option(policyText, { nil: null }),
        fc.boolean(),
        (mode, failOn, live, snapshot, publicReadAcl) => {
          const repaired = repairOf(mode, failOn, live, snapshot);
          if (repaired === undefined) return; // no repair: the live policy stays
          const ctx = { bucket: BUCKET, ownerAccountId: OWNER };
          if (!analysePolicy(live, ctx).public && repaired !== null)
            expect(analysePolicy(repaired, ctx).public).toBe(false);
          const before = localGrants(live, publicReadAcl);
          const after = localGrants(repaired, publicReadAcl);
          if (before === null || after === null) return; // OSS refuses one of them: it never stands
          after.forEach((grants, i) => {
            if (grants)
              expect(before[i], JSON.stringify({ request: REQUESTS[i], live, repaired })).toBe(true);
          });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
