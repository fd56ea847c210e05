import { MEMBER_ACCOUNTS } from '../../local/cloud';
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
  /** UpdateAccessKey Status=Active on the owner's key that ossguard disabled (#19 class 3). */
  | { kind: 'key-reenable'; actor: string; owner: string }
  | { kind: 'bucket-policy'; bucket: string; policy: PolicyChoice }
  /** #21: a root AccessKey uploads an object (alerted once per key per hour). */
  | { kind: 'root-key-use'; root: number; key: string }
  /** #21: a RAM user's key signs a call from outside the network the config allows it (disabled). */
  | { kind: 'key-outside-network'; user: string }
  /** #21: AttachPolicyToUser of AliyunOSSFullAccess (detached). */
  | { kind: 'policy-attach'; actor: string; user: string }
  /**
   * #21: a custom policy with oss:* on acs:oss:*:*:*, new (only alerted: nothing uses it yet) or as a new
   * version set as default of a narrow policy (rolled back to the narrow one).
   */
  | { kind: 'broad-policy'; actor: string; policy: string; how: 'create' | 'version' }
  /** #21: a console sign-in without MFA (alerted). */
  | { kind: 'console-signin'; user: string }
  /**
   * #21: the account's Block Public Access switched off or deleted (switched back on). Made after every other
   * change: once back on, it refuses the public ACLs the rest of the mix sets.
   */
  | { kind: 'account-bpa'; action: 'off' | 'delete' }
  /**
   * #22: a change to a bucket of a member account, made by a RAM user of that member. The organization trail
   * alone carries it to ossguard (F-ORG-EVENTBRIDGE-ACCOUNT): in an allowed member it is judged like one in A
   * and acted on through the member role; in a member outside the allow list it is reported and left alone.
   */
  | { kind: 'member'; account: string; change: MemberChange };

/** What a person does in a member account: the bucket and object ACLs and bucket policies of their own buckets. */
export type MemberChange = Extract<Change, { kind: 'bucket-acl' | 'object-acl' | 'bucket-policy' }>;

/** `multipart-initiate` asks for the ACL on InitiateMultipartUpload, `multipart` on CompleteMultipartUpload. */
export type UploadVia = 'copy' | 'post' | 'multipart' | 'multipart-initiate' | 'symlink';

/** Reads by the owner only; anyone reads everything; both in one policy; or DeleteBucketPolicy. */
export type PolicyChoice = 'owner' | 'anyone' | 'mixed' | 'delete';

export const ACCOUNT_ID = '1234567890123456';

/**
 * #22: B is in the config's allow list, C is not. Leaving C outside covers both of the organization's paths
 * (acted on through the member role, reported and left alone); with `all`, C would only repeat B's.
 */
const [MEMBER_B, MEMBER_C] = MEMBER_ACCOUNTS.map((m) => m.accountId) as [string, string];
export const ALLOWED_MEMBERS: readonly string[] = [MEMBER_B];
export const OUTSIDE_MEMBERS: readonly string[] = [MEMBER_C];
export const isOutsideMember = (account: string): boolean => OUTSIDE_MEMBERS.includes(account);

const ownerReads = (bucket: string, account: string) => ({
  Effect: 'Allow',
  Principal: [account],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${account}:${bucket}/reports/*`],
  Condition: { Bool: { 'acs:SecureTransport': ['true'] } },
});
const anyoneReads = (bucket: string, account: string) => ({
  Effect: 'Allow',
  Principal: ['*'],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${account}:${bucket}/*`],
});

/** The policy document a choice puts on a bucket of `account`; null for DeleteBucketPolicy. */
export function policyDocument(bucket: string, choice: PolicyChoice, account = ACCOUNT_ID): object | null {
  const statements = {
    owner: [ownerReads(bucket, account)],
    anyone: [anyoneReads(bucket, account)],
    mixed: [ownerReads(bucket, account), anyoneReads(bucket, account)],
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
  /** Root AccessKeys besides the operator's (which the local cloud excepts), and the bucket they upload to. */
  rootKeys: 2,
  rootBucket: 'soak-root',
  /** Buckets the keys of users outside their allowed network write to. */
  roamBucket: 'soak-roam',
  /** Users AliyunOSSFullAccess is attached to. */
  policyUsers: range(3, (i) => `soak-pol-${pad(i)}`),
  /**
   * Custom policies, narrow at first, each of which gets up to `MAX_BROAD_VERSIONS` broad versions set as
   * default: the second finds the first, rolled back and kept, between it and the narrow default it must go
   * back to. RAM keeps five versions (the local RAM answers LimitExceeded.Policy.Version past them) and the
   * local RAM has no DeletePolicyVersion to tidy them away.
   */
  policies: range(3, (i) => `soak-policy-${pad(i)}`),
  /** Console users without MFA. */
  signinUsers: range(3, (i) => `soak-web-${pad(i)}`),
  /** Buckets of each member account (bucket names are global, so each names its account). */
  memberBuckets: Object.fromEntries(
    [...ALLOWED_MEMBERS, ...OUTSIDE_MEMBERS].map((account) => [
      account,
      range(3, (i) => `soak-m${account.slice(0, 1)}-${pad(i)}`),
    ]),
  ) as Record<string, readonly string[]>,
  /** The RAM user of each member account who makes its changes. */
  memberUser: 'soak-member-dev',
} as const;

/** Users whose keys may sign calls only from this network; the local cloud's callers are 127.0.0.1. */
export const ROAMING_USERS = 'soak-roam-*';
export const ALLOWED_NETWORK = '10.0.0.0/8';

/** The broad statement of #21 item 3, and the narrow policy the soak's custom policies start as. */
export const ALL_OSS = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: 'acs:oss:*:*:*' }],
};
export const READ_REPORTS = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: ['oss:GetObject'], Resource: ['acs:oss:*:*:reports/*'] }],
};

export const objectKeys = (): string[] => range(WORLD.objectsPerBucket, (i) => `data/file-${i}.txt`);

export const isExceptedBucket = (bucket: string): boolean =>
  bucket.startsWith('soak-shared-') || bucket.startsWith('soak-tagged-');
export const isExceptedUser = (user: string): boolean => user.startsWith('svc-');

/** The config the functions run with during the soak. */
export function soakConfig(): Record<string, unknown> {
  return {
    organization: { accounts: [...ALLOWED_MEMBERS] },
    rules: {
      // One key rule in enforce mode keeps the key oracle exact; the others are covered by their own tests.
      'key-for-other-user': 'enforce',
      'no-mfa': 'off',
      'console-user-key': 'off',
      'multiple-active-keys': 'off',
      'untrusted-source': 'off',
      'root-access-key': 'off',
      // #21 in enforce where the rule can act, so that the final state says whether it did.
      'key-used-outside-network': 'enforce',
      'broad-system-policy-attached': 'enforce',
      'identity-policy-broad-oss': 'enforce',
    },
    accessKeys: { allowedNetworks: [{ user: ROAMING_USERS, cidrs: [ALLOWED_NETWORK] }] },
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
  switch (change.kind) {
    case 'access-key':
    case 'key-reenable':
      return `user:${change.owner}`;
    case 'root-key-use':
      return `root:${change.root}`;
    case 'key-outside-network':
    case 'console-signin':
      return `user:${change.user}`;
    case 'policy-attach':
      return `attached:${change.user}`;
    case 'broad-policy':
      return `policy:${change.policy}`;
    case 'account-bpa':
      return 'account';
    case 'member':
      return groupOf(change.change);
    default:
      return `bucket:${change.bucket}`;
  }
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
    // Judged like a creation by someone else: key-for-other-user, which no user exception waives (#20).
    case 'key-reenable':
    case 'key-outside-network':
    case 'policy-attach':
    case 'account-bpa':
      return 'remediated';
    case 'broad-policy':
      return change.how === 'version' ? 'remediated' : 'alerted';
    case 'root-key-use':
    case 'console-signin':
      return 'alerted';
    case 'member':
      return isOutsideMember(change.account) ? 'reported' : expectedDecision(change.change);
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
  ['key-reenable', 4],
  ['root-key-use', 3],
  ['key-outside-network', 3],
  ['policy-attach', 3],
  ['broad-policy', 4],
  ['console-signin', 3],
  ['account-bpa', 1],
  ['member', 14],
];

/** Broad versions per custom policy (see `WORLD.policies`). */
const MAX_BROAD_VERSIONS = 2;

/** Each one waits for the whole mix before it (see `Change`), so a few are enough. */
const MAX_ACCOUNT_BPA = 2;

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
  let accountBpa = 0;
  /** Owners whose latest key ossguard disabled: the keys someone may switch back on. */
  const disabled = new Set<string>();
  /** Broad versions each policy got so far. */
  const versioned = new Map<string, number>();
  /** public-read-write is critical; past the cap it becomes public-read, which is high. */
  const publicAcl = (bucket: string): BucketAcl => {
    const wantsCritical = random() < 0.12 && (isExceptedBucket(bucket) || criticals < MAX_CRITICAL_ALERTS);
    if (wantsCritical && !isExceptedBucket(bucket)) criticals += 1;
    return wantsCritical ? 'public-read-write' : 'public-read';
  };

  const plan: PlannedChange[] = [];
  for (let seq = 0; seq < count; seq++) {
    const drawn = weighted();
    const kind =
      (drawn === 'new-bucket' && newBuckets >= MAX_NEW_BUCKETS) ||
      (drawn === 'account-bpa' && accountBpa >= MAX_ACCOUNT_BPA) ||
      (drawn === 'key-reenable' && disabled.size === 0)
        ? 'bucket-acl'
        : drawn;
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
        const via = pick(['copy', 'post', 'multipart', 'multipart-initiate', 'symlink'] as const);
        // The ACL asked on Initiate is judged on Initiate or, once the upload completes, on Complete's
        // re-check: in an excepted bucket the object's earlier ACL would decide the first, so only others.
        const target = via === 'multipart-initiate' ? pick(WORLD.buckets) : bucket;
        const acl: ObjectAcl = roll < 0.2 ? 'private' : publicAcl(target);
        const key = pick(objectKeys());
        const from = pick(objectKeys().filter((k) => k !== key));
        change = { kind, via, bucket: target, key, from, acl };
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
        if (creator === owner) disabled.delete(owner);
        else disabled.add(owner);
        break;
      }
      case 'key-reenable':
        change = { kind, actor: pick(WORLD.creators), owner: pick([...disabled].sort()) };
        break;
      case 'root-key-use':
        change = { kind, root: Math.floor(random() * WORLD.rootKeys), key: `uploads/${seq}.txt` };
        break;
      case 'key-outside-network':
        change = { kind, user: `soak-roam-${pad(seq)}` };
        break;
      case 'policy-attach':
        change = { kind, actor: pick(WORLD.creators), user: pick(WORLD.policyUsers) };
        break;
      case 'broad-policy': {
        const fresh = WORLD.policies.filter((p) => (versioned.get(p) ?? 0) < MAX_BROAD_VERSIONS);
        const policy = random() < 0.5 && fresh.length > 0 ? pick(fresh) : undefined;
        if (policy) versioned.set(policy, (versioned.get(policy) ?? 0) + 1);
        change = policy
          ? { kind, actor: pick(WORLD.creators), policy, how: 'version' }
          : { kind, actor: pick(WORLD.creators), policy: `soak-broad-${seed % 1000}-${seq}`, how: 'create' };
        break;
      }
      case 'console-signin':
        change = { kind, user: pick(WORLD.signinUsers) };
        break;
      case 'account-bpa':
        accountBpa += 1;
        change = { kind, action: pick(['off', 'delete'] as const) };
        break;
      case 'member': {
        const account = pick([...ALLOWED_MEMBERS, ...OUTSIDE_MEMBERS]);
        const bucket = pick(WORLD.memberBuckets[account] ?? []);
        const roll = random();
        const publicOrPrivate = (): BucketAcl => (random() < 0.3 ? 'private' : 'public-read');
        const inner: MemberChange =
          roll < 0.4
            ? { kind: 'bucket-acl', bucket, acl: publicOrPrivate() }
            : roll < 0.75
              ? { kind: 'object-acl', bucket, key: pick(objectKeys()), acl: publicOrPrivate() }
              : {
                  kind: 'bucket-policy',
                  bucket,
                  policy: pick(['owner', 'anyone', 'mixed', 'delete'] as const),
                };
        change = { kind, account, change: inner };
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
