import type OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AuditRecord, StateSnapshot } from '../../shared/audit/record';
import type { CloudEvent } from '../../shared/events/actiontrail-event';
import type { InvocationResult } from '../../shared/pipeline/run';
import type { Severity } from '../../shared/severity';
import {
  auditRecords,
  decisionsFor,
  publicAccessBlock,
  startCloud,
  trailDecisions,
  userClient,
  watchSecrets,
} from './local-cloud';

/** The resource an audit record is about, as the case names it: a bucket, an object, or the account. */
interface Target {
  bucket?: string;
  objectKey?: string;
}

interface ChangeCase {
  what: string;
  target: Target;
  /** The event of the risky change, and the one ossguard's revert causes. */
  eventName: string;
  revertEvent: string;
  rule: string;
  severity: Severity;
  before: StateSnapshot;
  after: StateSnapshot;
  /** Runs (and is drained) before the change: what makes the change possible. */
  setup(alice: OSS): Promise<void>;
  change(alice: OSS): Promise<void>;
  /** Live state once the function has run, in the shape of the audit record's `after`. */
  live(alice: OSS): Promise<StateSnapshot>;
  /** Runs with the bus paused: undoes what would stop later cases (account-wide Block Public Access). */
  cleanup?(alice: OSS): Promise<void>;
}

/** A public bucket ACL, set on an existing bucket (PutBucketAcl) or when the bucket is created (PutBucket). */
function publicBucket(
  bucket: string,
  acl: 'public-read' | 'public-read-write',
  how: 'PutBucketAcl' | 'PutBucket',
): ChangeCase {
  return {
    what: how === 'PutBucket' ? `a bucket created ${acl}` : `a bucket a RAM user made ${acl}`,
    target: { bucket },
    eventName: how,
    revertEvent: 'PutBucketAcl',
    rule: `bucket-acl-${acl}`,
    severity: acl === 'public-read-write' ? 'critical' : 'high',
    before: { acl },
    after: { acl: 'private' },
    setup: async (alice) => {
      if (how === 'PutBucketAcl') await alice.putBucket(bucket);
    },
    change: async (alice) => {
      // @types/ali-oss marks every PutBucketOptions field required; ali-oss reads each one only if given.
      if (how === 'PutBucket') await alice.putBucket(bucket, { acl } as OSS.PutBucketOptions);
      else await alice.putBucketACL(bucket, acl);
    },
    live: async (alice) => ({ acl: (await alice.getBucketACL(bucket)).acl }),
  };
}

/** Block Public Access of a bucket, or of the account (bucket ''), switched on and then off or deleted. */
function blockPublicAccessOff(bucket: string, how: 'PUT' | 'DELETE'): ChangeCase {
  const account = bucket === '';
  const put = account ? 'PutPublicAccessBlock' : 'PutBucketPublicAccessBlock';
  return {
    what: `Block Public Access ${how === 'PUT' ? 'switched off' : 'deleted'} ${account ? 'for the account' : 'on a bucket'}`,
    target: account ? {} : { bucket },
    eventName: how === 'PUT' ? put : put.replace(/^Put/, 'Delete'),
    revertEvent: put,
    rule: account ? 'account-bpa-disabled' : 'bucket-bpa-disabled',
    severity: account ? 'critical' : 'high',
    before: { blockPublicAccess: false },
    after: { blockPublicAccess: true },
    setup: async (alice) => {
      if (!account) await alice.putBucket(bucket);
      await publicAccessBlock(alice, bucket, 'PUT', true);
    },
    change: async (alice) => void (await publicAccessBlock(alice, bucket, how)),
    live: async (alice) => ({ blockPublicAccess: await publicAccessBlock(alice, bucket, 'GET') }),
  };
}

const CASES: ChangeCase[] = [
  publicBucket('photos', 'public-read', 'PutBucketAcl'),
  publicBucket('uploads', 'public-read-write', 'PutBucketAcl'),
  publicBucket('born-public', 'public-read', 'PutBucket'),
  {
    what: 'an object a RAM user made public-read',
    target: { bucket: 'reports', objectKey: 'q3/summary.pdf' },
    eventName: 'PutObjectAcl',
    revertEvent: 'PutObjectAcl',
    rule: 'object-acl-public',
    severity: 'high',
    before: { acl: 'public-read' },
    after: { acl: 'private' },
    setup: async (alice) => {
      await alice.putBucket('reports');
      alice.useBucket('reports');
      await alice.put('q3/summary.pdf', Buffer.from('numbers'));
    },
    change: async (alice) => {
      alice.useBucket('reports');
      await alice.putACL('q3/summary.pdf', 'public-read');
    },
    live: async (alice) => {
      alice.useBucket('reports');
      return { acl: (await alice.getACL('q3/summary.pdf')).acl };
    },
  },
  blockPublicAccessOff('bpa-off', 'PUT'),
  blockPublicAccessOff('bpa-gone', 'DELETE'),
  // Account-wide Block Public Access refuses every public ACL: these run last, and switch it off again.
  blockPublicAccessOff('', 'PUT'),
  {
    ...blockPublicAccessOff('', 'DELETE'),
    cleanup: async (alice) => void (await publicAccessBlock(alice, '', 'DELETE')),
  },
];

const about = (target: Target) => (r: AuditRecord) =>
  r.resource.bucket === target.bucket && r.resource.objectKey === target.objectKey;

describe('oss-acl-guard through the router and the bundled function', () => {
  let cloud: LocalCloud;
  let secrets: ReturnType<typeof watchSecrets>;
  let alice: OSS;

  beforeAll(async () => {
    cloud = await startCloud();
    secrets = watchSecrets(cloud);
    alice = userClient(cloud, 'alice');
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** ossguard's own reverts of the target: each must be audited as skipped, never judged again. */
  const ownReverts = async (c: ChangeCase) =>
    (await auditRecords(cloud)).filter(
      (r) => r.eventName === c.revertEvent && about(c.target)(r) && r.actor.type === 'assumed-role',
    );

  for (const c of CASES) {
    it(`reverts ${c.what} once, audits it as remediated and alerts once on DingTalk`, async () => {
      const { cleanup } = c;
      if (cleanup) {
        onTestFinished(() => cloud.unobserved(() => cleanup(alice)));
      }
      await c.setup(alice);
      await cloud.settle();
      const revertsBefore = (await ownReverts(c)).length;
      const recordsBefore = new Set((await auditRecords(cloud)).map((r) => r.dedupeKey));

      await c.change(alice);
      await cloud.settle();

      expect(await c.live(alice)).toEqual(c.after);
      const records = (await auditRecords(cloud)).filter(
        (r) =>
          !recordsBefore.has(r.dedupeKey) &&
          r.eventName === c.eventName &&
          about(c.target)(r) &&
          r.actor.type === 'ram-user',
      );
      expect(records).toHaveLength(1);
      const [record] = records as [AuditRecord];
      expect(record).toMatchObject({
        decision: 'remediated',
        before: c.before,
        after: c.after,
        actor: { type: 'ram-user', userName: 'alice' },
        rules: [{ ruleId: c.rule, severity: c.severity, mode: 'enforce' }],
        alerts: expect.arrayContaining([expect.objectContaining({ channel: 'dingtalk', ok: true })]),
      });
      const messages = cloud.dingtalk
        .messages()
        .filter((m) => JSON.stringify(m.body).includes(record.dedupeKey));
      expect(messages).toHaveLength(1);

      // The revert's own ActionTrail event reached the function and was skipped: exactly one per change.
      const reverts = (await ownReverts(c)).slice(revertsBefore);
      // Keys and routes in the message: a second record here says which path judged the revert again.
      expect(reverts.map((r) => `${r.dedupeKey} via ${r.route ?? '?'}: ${r.decision}`)).toEqual([
        expect.any(String),
      ]);
      expect(reverts[0]).toMatchObject({ decision: 'skipped', reason: expect.stringMatching(/own role/) });
    });
  }

  it('handles an event EventBridge delivers three times once: one audit record, one alert', async () => {
    const original = cloud.bus
      .history()
      .find(
        (e) =>
          e.data.eventName === 'PutBucketAcl' &&
          e.data.requestParameters.bucketName === 'photos' &&
          e.data.userIdentity.type === 'ram-user',
      );
    if (!original) throw new Error('the photos change was never published');
    cloud.bus.publish(original);
    cloud.bus.publish(original);
    await cloud.settle();

    const onBus = cloud.bus
      .deliveries()
      .filter((d) => d.eventId === original.id && d.functionName === 'oss-acl-guard')
      .map((d) => (d.result as { decisions: Array<{ decision: string }> }).decisions[0]?.decision);
    expect(onBus).toHaveLength(3);
    // The trail delivered it once more: of all four deliveries, one acted.
    const viaTrail = trailDecisions(cloud, original.data.eventId);
    expect([...onBus, ...viaTrail].sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'remediated']);
    expect(await decisionsFor(cloud, 'PutBucketAcl', 'photos')).toHaveLength(1);
    const key = original.data.eventId;
    expect(cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(key))).toHaveLength(1);
    expect(cloud.smtp.messages().filter((m) => m.mail.text?.includes(key))).toHaveLength(1);
  });

  it('handles an event repeated within one batch once: one revert, one audit record, one alert', async () => {
    await alice.putBucket('batched-thrice');
    await cloud.settle();
    // The trail's log trigger waits too, so that the batch is the first to see the change.
    cloud.bus.pause();
    cloud.logTriggers.pause();
    await alice.putBucketACL('batched-thrice', 'public-read');
    const event = cloud.bus.history().at(-1) as CloudEvent;
    cloud.bus.resume();

    const invoked = await cloud.bus.invoke('oss-acl-guard', JSON.stringify([event, event, event]));
    cloud.logTriggers.resume();
    await cloud.settle();

    expect(invoked.ok).toBe(true);
    const decisions = (invoked.ok ? (invoked.result as InvocationResult) : undefined)?.decisions ?? [];
    expect(decisions.map((d) => d.decision).sort()).toEqual(['duplicate', 'duplicate', 'remediated']);
    expect(await decisionsFor(cloud, 'PutBucketAcl', 'batched-thrice')).toHaveLength(1);
    const reverts = (await auditRecords(cloud)).filter(
      (r) => r.resource.bucket === 'batched-thrice' && r.actor.type === 'assumed-role',
    );
    expect(reverts).toHaveLength(1);
    const key = event.data.eventId;
    expect(cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(key))).toHaveLength(1);
    expect(cloud.smtp.messages().filter((m) => m.mail.text?.includes(key))).toHaveLength(1);
  });

  it('puts no secret of the function or the robot in logs, audit records, alerts or results', async () => {
    expect(await secrets.leaks()).toEqual([]);
  });
});
