import type { DecisionKind } from '../../shared/audit/record';
import type { BucketAcl, ObjectAcl } from '../../shared/rules';

/**
 * The soak's world and its oracle: which resources exist, which random changes people make to them, and the
 * decision ossguard must reach for each. The oracle is written from the rules' documented behaviour, not from
 * ossguard's code, so a run compares the two.
 */

export type Change =
  | { kind: 'bucket-acl'; bucket: string; acl: BucketAcl }
  | { kind: 'object-acl'; bucket: string; key: string; acl: ObjectAcl }
  /**
   * An object written with an ACL by another call than PutObjectAcl (#19 class 8): CopyObject, PostObject, a
   * multipart upload whose CompleteMultipartUpload sends the ACL, or PutSymlink; `from` is the copy source or
   * the symlink target, another object of the bucket.
   */
  | { kind: 'object-upload'; via: UploadVia; bucket: string; key: string; from: string; acl: ObjectAcl }
  | { kind: 'new-bucket'; bucket: string; acl: BucketAcl }
  | { kind: 'bucket-bpa'; bucket: string; action: 'on' | 'off' | 'delete' }
  /** PutObjectAcl on an object that does not exist: refused, so nothing changed. */
  | { kind: 'failed-call'; bucket: string; key: string }
  | { kind: 'access-key'; creator: string; owner: string }
  | { kind: 'bucket-policy'; bucket: string; policy: PolicyChoice };

export type UploadVia = 'copy' | 'post' | 'multipart' | 'symlink';

/** Reads by the owner only; anyone reads everything; both in one policy; or DeleteBucketPolicy. */
export type PolicyChoice = 'owner' | 'anyone' | 'mixed' | 'delete';

export const ACCOUNT_ID = '1234567890123456';

const ownerReads = (bucket: string) => ({
  Effect: 'Allow',
  Principal: [ACCOUNT_ID],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${ACCOUNT_ID}:${bucket}/reports/*`],
  Condition: { Bool: { 'acs:SecureTransport': ['true'] } },
});
const anyoneReads = (bucket: string) => ({
  Effect: 'Allow',
  Principal: ['*'],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${ACCOUNT_ID}:${bucket}/*`],
});

/** The policy document a choice puts on a bucket; null for DeleteBucketPolicy. */
export function policyDocument(bucket: string, choice: PolicyChoice): object | null {
  const statements = {
    owner: [ownerReads(bucket)],
    anyone: [anyoneReads(bucket)],
    mixed: [ownerReads(bucket), anyoneReads(bucket)],
    delete: null,
  }[choice];
  return statements && { Version: '1', Statement: statements };
}

export type ChangeKind = Change['kind'];

/** Seeded PRNG (mulberry32): the same seed gives the same world and the same changes. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
const range = (n: number, name: (i: number) => string) => Array.from({ length: n }, (_, i) => name(i));

/** Exception globs the soak's config grants; the oracle and the config both read them from here. */
export const EXCEPTED_BUCKETS = 'soak-shared-*';
export const EXCEPTED_USERS = 'svc-*';
export const EXCEPTION_TAG = 'ossguard-exception';

export const WORLD = {
  buckets: range(16, (i) => `soak-b-${pad(i)}`),
  /** Excepted by the config glob. */
  sharedBuckets: range(3, (i) => `soak-shared-${pad(i)}`),
  /** Excepted by their own tag. */
  taggedBuckets: range(2, (i) => `soak-tagged-${pad(i)}`),
  /** Only Block Public Access changes, so BPA never refuses an ACL change of another scenario. */
  bpaBuckets: range(3, (i) => `soak-bpa-${pad(i)}`),
  objectsPerBucket: 4,
  creators: range(3, (i) => `soak-admin-${pad(i)}`),
  owners: range(8, (i) => `soak-dev-${pad(i)}`),
  serviceUsers: range(2, (i) => `svc-${pad(i)}`),
} as const;

export const objectKeys = (): string[] => range(WORLD.objectsPerBucket, (i) => `data/file-${i}.txt`);

export const isExceptedBucket = (bucket: string): boolean =>
  bucket.startsWith('soak-shared-') || bucket.startsWith('soak-tagged-');
export const isExceptedUser = (user: string): boolean => user.startsWith('svc-');

/** The config the functions run with during the soak. */
export function soakConfig(): Record<string, unknown> {
  return {
    rules: {
      // One key rule in enforce mode keeps the key oracle exact; the others are covered by their own tests.
      'key-for-other-user': 'enforce',
      'no-mfa': 'off',
      'console-user-key': 'off',
      'multiple-active-keys': 'off',
      'untrusted-source': 'off',
      'root-access-key': 'off',
    },
    // Strip: a repair the oracle can state exactly (the public statement goes, the owner's stays).
    policy: { mode: 'strip' },
    exceptions: {
      buckets: [{ bucket: EXCEPTED_BUCKETS, reason: 'public website assets' }],
      users: [{ user: EXCEPTED_USERS, reason: 'service accounts rotated by the deploy pipeline' }],
    },
    alerts: {
      // DingTalk gets only critical alerts: a robot takes 20 messages a minute and then blocks for 10
      // minutes, and the soak is about redelivery, not about the robot's budget (alerts tests cover that).
      routes: [
        { channel: 'dingtalk', minSeverity: 'critical' },
        { channel: 'email', minSeverity: 'info' },
      ],
    },
  };
}

/** OSS allows 100 buckets per account; the world has 25, and new ones stop well short of the limit. */
const MAX_NEW_BUCKETS = 50;

/** Critical alerts are capped so DingTalk stays inside its budget over a run. */
export const MAX_CRITICAL_ALERTS = 15;

export interface PlannedChange {
  seq: number;
  change: Change;
  /** Changes of one group run one at a time, in order: the oracle judges each against the state it left. */
  group: string;
  expected: DecisionKind;
  /** A critical alert is expected (DingTalk gets it). */
  critical: boolean;
}

export function groupOf(change: Change): string {
  return change.kind === 'access-key' ? `user:${change.owner}` : `bucket:${change.bucket}`;
}

const PUBLIC = new Set(['public-read', 'public-read-write']);

export function expectedDecision(change: Change): DecisionKind {
  switch (change.kind) {
    case 'bucket-acl':
    case 'new-bucket':
    case 'object-acl':
    case 'object-upload':
      if (!PUBLIC.has(change.acl)) return 'skipped';
      return isExceptedBucket(change.bucket) ? 'excepted' : 'remediated';
    case 'bucket-bpa':
      return change.action === 'on' ? 'skipped' : 'remediated';
    case 'failed-call':
      return 'skipped';
    case 'access-key':
      if (change.creator === change.owner) return 'skipped';
      // An exception on the owner never waives key-for-other-user, which is about the creator (#20).
      return 'remediated';
    case 'bucket-policy':
      if (change.policy === 'owner' || change.policy === 'delete') return 'skipped';
      return isExceptedBucket(change.bucket) ? 'excepted' : 'remediated';
  }
}

/** Relative weights of the change kinds. */
const MIX: Array<[ChangeKind, number]> = [
  ['bucket-acl', 26],
  ['object-acl', 20],
  ['object-upload', 12],
  ['bucket-policy', 14],
  ['access-key', 14],
  ['new-bucket', 6],
  ['bucket-bpa', 7],
  ['failed-call', 7],
];

export function planChanges(count: number, seed: number): PlannedChange[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const weighted = (): ChangeKind => {
    const total = MIX.reduce((sum, [, w]) => sum + w, 0);
    let roll = random() * total;
    for (const [kind, weight] of MIX) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return 'bucket-acl';
  };
  const aclBuckets = [...WORLD.buckets, ...WORLD.sharedBuckets, ...WORLD.taggedBuckets];
  let criticals = 0;
  let newBuckets = 0;
  /** public-read-write is critical; past the cap it becomes public-read, which is high. */
  const publicAcl = (bucket: string): BucketAcl => {
    const wantsCritical = random() < 0.12 && (isExceptedBucket(bucket) || criticals < MAX_CRITICAL_ALERTS);
    if (wantsCritical && !isExceptedBucket(bucket)) criticals += 1;
    return wantsCritical ? 'public-read-write' : 'public-read';
  };

  const plan: PlannedChange[] = [];
  for (let seq = 0; seq < count; seq++) {
    const drawn = weighted();
    const kind = drawn === 'new-bucket' && newBuckets >= MAX_NEW_BUCKETS ? 'bucket-acl' : drawn;
    let change: Change;
    switch (kind) {
      case 'bucket-acl': {
        const bucket = pick(aclBuckets);
        change = { kind, bucket, acl: random() < 0.3 ? 'private' : publicAcl(bucket) };
        break;
      }
      case 'object-acl': {
        const bucket = pick(aclBuckets);
        const roll = random();
        const acl: ObjectAcl = roll < 0.15 ? 'private' : roll < 0.3 ? 'default' : publicAcl(bucket);
        change = { kind, bucket, key: pick(objectKeys()), acl };
        break;
      }
      case 'object-upload': {
        const bucket = pick(aclBuckets);
        const roll = random();
        const acl: ObjectAcl = roll < 0.2 ? 'private' : publicAcl(bucket);
        const key = pick(objectKeys());
        const from = pick(objectKeys().filter((k) => k !== key));
        change = {
          kind,
          via: pick(['copy', 'post', 'multipart', 'symlink'] as const),
          bucket,
          key,
          from,
          acl,
        };
        break;
      }
      case 'new-bucket': {
        const shared = random() < 0.25;
        const bucket = `${shared ? 'soak-shared' : 'soak-new'}-${seed % 1000}-${newBuckets++}`;
        change = { kind, bucket, acl: random() < 0.4 ? 'private' : 'public-read' };
        break;
      }
      case 'bucket-bpa':
        change = { kind, bucket: pick(WORLD.bpaBuckets), action: pick(['on', 'off', 'delete'] as const) };
        break;
      case 'failed-call':
        change = { kind, bucket: pick(aclBuckets), key: `missing/${seq}.txt` };
        break;
      case 'bucket-policy':
        change = {
          kind,
          bucket: pick(aclBuckets),
          policy: pick(['owner', 'anyone', 'mixed', 'delete'] as const),
        };
        break;
      case 'access-key': {
        const owner = pick([...WORLD.owners, ...WORLD.serviceUsers]);
        // A quarter of keys are made by their owner for themselves: no rule fires.
        const creator = random() < 0.25 && !isExceptedUser(owner) ? owner : pick(WORLD.creators);
        change = { kind, creator, owner };
        break;
      }
    }
    const expected = expectedDecision(change);
    const critical =
      expected === 'remediated' &&
      'acl' in change &&
      change.acl === 'public-read-write' &&
      change.kind !== 'new-bucket';
    plan.push({ seq, change, group: groupOf(change), expected, critical });
  }
  return plan;
}
