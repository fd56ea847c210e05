import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditRecords, invokeSweeper, startCloud } from './local-cloud';

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

describe('the sweep of AccessKeys, through the bundled oss-sweeper', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ rules: { 'access-key-unused': 'enforce', 'access-key-too-old': 'enforce' } });
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('lists an old key in use and an unused key with user, age and last use, disables only the unused one, and names console users without MFA', async () => {
    const old = cloud.identities.userWithKey('olga').key;
    old.createDate = daysAgo(200);
    old.lastUsedDate = daysAgo(1);
    cloud.identities.createUser('uma');
    const unused = cloud.identities.createAccessKey('uma');
    unused.createDate = daysAgo(120);
    cloud.identities.userWithKey('vic');
    const signsIn = { createDate: daysAgo(10), mfaBindRequired: false, passwordResetRequired: false };
    cloud.identities.createUser('wendy').loginProfile = signsIn;
    cloud.identities.createUser('xavier', { mfa: true }).loginProfile = signsIn;

    const result = await invokeSweeper(cloud);
    await cloud.settle();

    expect(result.keys).toMatchObject({
      stale: 2,
      consoleWithoutMfa: 1,
      decisions: { alerted: 2, remediated: 1 },
    });
    const records = (await auditRecords(cloud)).filter((r) => r.guard === 'key-hygiene-guard');
    const byUser = new Map(records.map((r) => [r.resource.ramUser, r]));
    expect([...byUser.keys()].sort()).toEqual(['olga', 'uma']);
    expect(byUser.get('olga')).toMatchObject({ decision: 'alerted' });
    expect(byUser.get('olga')?.rules.map((f) => [f.ruleId, f.mode])).toEqual([
      ['access-key-too-old', 'alert'],
    ]);
    expect(byUser.get('olga')?.rules[0]?.evidence).toMatchObject({ user: 'olga', ageDays: 200 });
    expect(byUser.get('olga')?.rules[0]?.evidence.lastUsed).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(byUser.get('uma')).toMatchObject({ decision: 'remediated', after: { status: 'Inactive' } });
    expect(
      byUser
        .get('uma')
        ?.rules.map((f) => f.ruleId)
        .sort(),
    ).toEqual(['access-key-too-old', 'access-key-unused']);
    expect(byUser.get('uma')?.rules.find((f) => f.ruleId === 'access-key-unused')?.evidence).toMatchObject({
      user: 'uma',
      ageDays: 120,
      lastUsed: null,
    });
    expect(unused.status).toBe('Inactive');
    expect(old.status).toBe('Active');

    const mfa = (await auditRecords(cloud)).filter((r) => r.guard === 'console-mfa-guard');
    expect(mfa.map((r) => [r.resource.ramUser, r.decision, r.rules.map((f) => f.ruleId)])).toEqual([
      ['wendy', 'alerted', ['console-user-without-mfa']],
    ]);
  }, 60_000);
});

describe('the sweep of AccessKeys and buckets on one blast-radius budget', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ rules: { 'access-key-unused': 'enforce' }, maxRemediationsPerInvocation: 1 });
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('leaves a public bucket for the next run once disabling a key has spent the invocation’s one remediation', async () => {
    cloud.identities.createUser('uma');
    const unused = cloud.identities.createAccessKey('uma');
    unused.createDate = daysAgo(120);
    cloud.stopWatching();
    const admin = cloud.adminClient();
    await admin.putBucket('held-back');
    await admin.putBucketACL('held-back', 'public-read');

    const result = await invokeSweeper(cloud);

    expect(unused.status).toBe('Inactive');
    expect(result.keys).toMatchObject({ decisions: { remediated: 1 }, deferred: 0 });
    expect(result.deferred).toBe(1);
    expect((await admin.getBucketACL('held-back')).acl).toBe('public-read');
  }, 60_000);
});

describe('the sweep of AccessKeys when one user’s reads fail', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud(
      { rules: { 'access-key-unused': 'enforce' } },
      {
        ramIntercept: ({ action, params }) => {
          // Gina's key is deleted between the sweep's ListAccessKeys and its GetAccessKeyLastUsed.
          const gina = cloud.identities.users.get('gina');
          if (action === 'GetAccessKeyLastUsed' && params.UserName === 'gina' && gina) gina.accessKeys = [];
          // Bob's login profile cannot be read, however often the sweep retries.
          if (action === 'GetLoginProfile' && params.UserName === 'bob')
            return { status: 500, code: 'InternalError', message: 'The request processing has failed.' };
          return undefined;
        },
      },
    );
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('judges every other user, takes a key deleted meanwhile as gone, and counts the user it could not read', async () => {
    for (const name of ['bob', 'gina', 'uma']) {
      cloud.identities.createUser(name);
      cloud.identities.createAccessKey(name).createDate = daysAgo(120);
    }
    const uma = cloud.identities.users.get('uma')?.accessKeys[0];

    const result = await invokeSweeper(cloud);

    expect(result.keys?.error).toBeUndefined();
    expect(result.keys).toMatchObject({ users: 3, stale: 1, unread: 1, decisions: { remediated: 1 } });
    expect(uma?.status).toBe('Inactive');
    expect(
      (await auditRecords(cloud))
        .filter((r) => r.guard === 'key-hygiene-guard')
        .map((r) => r.resource.ramUser),
    ).toEqual(['uma']);
  }, 60_000);
});
