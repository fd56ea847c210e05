import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberActions, ROLE_POLICY_TEMPLATE } from '../../deploy/role';
import type { InjectedFault } from '../../local/acs/server';
import { type LocalCloud, MEMBER_ACCOUNTS } from '../../local/cloud';
import { POP_THROTTLED } from '../../local/faults';
import type { AccessKey } from '../../local/identity';
import { RD_ERRORS } from '../../local/resourcemanager/emulator';
import { type AuditRecord, auditKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { DEFAULT_MEMBER_ROLE, MEMBER_POLICY_NAME } from '../../shared/deployment/names';
import { renderMemberPolicy } from '../../shared/deployment/role-policy';
import { createLogger } from '../../shared/log';
import type { MemberSweepResult } from '../../shared/sweep/members';
import { SweepCheckpoints } from '../../shared/sweep/progress-checkpoint';
import { SWEEP_EVENT, type SweepResult } from '../../shared/sweep/sweep';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, invokeSweeper, startCloud, timerInvocation } from './local-cloud';

/** What oss-sweeper returns with an organization: its own account's sweep, and the members'. */
type OrganizationSweep = SweepResult & { members?: MemberSweepResult };

const [B, C] = MEMBER_ACCOUNTS.map((m) => m.accountId) as [string, string];
/** An allowed account where no member role was ever bootstrapped: its role cannot be assumed. */
const NO_ROLE = '1999999999999999';

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
const SIGNS_IN = { createDate: daysAgo(10), mfaBindRequired: false, passwordResetRequired: false };

const sweptIn = async (cloud: LocalCloud, bucket: string): Promise<AuditRecord[]> =>
  (await auditRecords(cloud)).filter((r) => r.eventName === SWEEP_EVENT && r.resource.bucket === bucket);

describe('the timer sweep covers every member account the config allows', () => {
  let cloud: LocalCloud;
  let result: OrganizationSweep;
  /** Per account, the key of its RAM user `stale`: created 120 days ago and never used. */
  const staleKeys = new Map<string, AccessKey>();

  beforeAll(async () => {
    // NO_ROLE sorts first among the members never swept, so its failure comes before B's sweep.
    cloud = await startCloud(
      { organization: { accounts: [NO_ROLE, B] }, rules: { 'access-key-unused': 'enforce' } },
      { organizationTrail: true },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-sweep-')));
    const boot = await runCli('bootstrap', '--local', '--account', B);
    expect(boot.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
    // Seen: B's audit log shows an object of shared/ was public.
    const objectsInB = cloud.accountClient(B, 'b-objects');
    await objectsInB.putBucket('b-objects');
    for (const key of ['shared/seen.txt', 'shared/unseen.txt']) await objectsInB.put(key, Buffer.from(key));
    await objectsInB.putACL('shared/seen.txt', 'public-read');
    await cloud.settle();
    // Nothing announces these changes: that is what a sweep is for.
    cloud.stopWatching();
    await objectsInB.putACL('shared/unseen.txt', 'public-read');
    cloud.identities.userWithKey('ana');
    // A home user whose name is B's id and a hyphen before the name of B's user without MFA.
    cloud.identities.createUser(`${B}-no-mfa`).loginProfile = SIGNS_IN;
    for (const accountId of [B, C]) {
      const { identities } = cloud.account(accountId);
      identities.createUser('stale');
      const key = identities.createAccessKey('stale');
      key.createDate = daysAgo(120);
      staleKeys.set(accountId, key);
      identities.createUser('no-mfa').loginProfile = SIGNS_IN;
    }
    const inB = cloud.accountClient(B);
    await inB.putBucket('b-unannounced');
    await inB.putBucketACL('b-unannounced', 'public-read');
    const inC = cloud.accountClient(C);
    await inC.putBucket('c-unannounced');
    await inC.putBucketACL('c-unannounced', 'public-read');
    result = await invokeSweeper<OrganizationSweep>(cloud);
  }, 120_000);

  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('reverts a public bucket in allowed member B that no event announced, and the record names both accounts', async () => {
    expect((await cloud.accountClient(B).getBucketACL('b-unannounced')).acl).toBe('private');
    expect(await sweptIn(cloud, 'b-unannounced')).toEqual([
      expect.objectContaining({
        decision: 'remediated',
        accountId: B,
        deployAccountId: cloud.identities.accountId,
      }),
    ]);
    expect(result.members?.swept.map((s) => s.accountId)).toEqual([B]);
  });

  it('disables a stale AccessKey of a RAM user in member B, and the record names both accounts', async () => {
    const key = staleKeys.get(B);
    expect(key?.status).toBe('Inactive');
    expect(
      (await auditRecords(cloud)).filter((r) => r.guard === 'key-hygiene-guard' && r.accountId === B),
    ).toEqual([
      expect.objectContaining({
        decision: 'remediated',
        resource: expect.objectContaining({ ramUser: 'stale', accessKeyId: key?.accessKeyId }),
        deployAccountId: cloud.identities.accountId,
      }),
    ]);
    expect(result.members?.swept[0]?.keys).toMatchObject({ stale: 1, consoleWithoutMfa: 1 });
  });

  it('reports a console user without MFA in member B, naming both accounts', async () => {
    expect(
      (await auditRecords(cloud))
        .filter((r) => r.guard === 'console-mfa-guard' && r.accountId === B)
        .map((r) => [r.resource.ramUser, r.decision, r.deployAccountId]),
    ).toEqual([['no-mfa', 'alerted', cloud.identities.accountId]]);
  });

  it('reports a home console user named like a member’s id and user apart from that member’s user', async () => {
    const home = cloud.identities.accountId;
    expect(
      (await auditRecords(cloud))
        .filter((r) => r.guard === 'console-mfa-guard' && (r.accountId ?? home) === home)
        .map((r) => [r.resource.ramUser, r.decision]),
    ).toEqual([[`${B}-no-mfa`, 'alerted']]);
  });

  it('reverts an object left public under a prefix B’s audit log shows exposed, through B’s object pass', async () => {
    const objectsInB = cloud.accountClient(B, 'b-objects');
    expect((await objectsInB.getACL('shared/unseen.txt')).acl).toBe('private');
    expect(
      (await auditRecords(cloud)).filter(
        (r) => r.eventName === 'OssguardSweepObject' && r.resource.bucket === 'b-objects',
      ),
    ).toEqual([
      expect.objectContaining({
        decision: 'remediated',
        resource: expect.objectContaining({ objectKey: 'shared/unseen.txt' }),
        accountId: B,
        deployAccountId: cloud.identities.accountId,
      }),
    ]);
    expect(result.members?.swept[0]?.objects).toMatchObject({ prefixes: 1 });
  });

  it('does not sweep account C, which the allow list leaves out', async () => {
    expect((await cloud.accountClient(C).getBucketACL('c-unannounced')).acl).toBe('public-read');
    expect(await sweptIn(cloud, 'c-unannounced')).toEqual([]);
    expect(staleKeys.get(C)?.status).toBe('Active');
    expect((await auditRecords(cloud)).filter((r) => r.accountId === C)).toEqual([]);
  });

  it('reports a member whose role is missing and still sweeps the other accounts', async () => {
    expect(result.members?.unreachable).toEqual([{ accountId: NO_ROLE, error: expect.any(String) }]);
    expect(result.members?.swept.map((s) => s.accountId)).toEqual([B]);
    expect((await auditRecords(cloud)).filter((r) => r.accountId === NO_ROLE)).toEqual([
      expect.objectContaining({
        decision: 'failed',
        eventName: SWEEP_EVENT,
        deployAccountId: cloud.identities.accountId,
      }),
    ]);
    const alert = cloud.dingtalk.messages().find((m) => JSON.stringify(m.body).includes(NO_ROLE));
    expect(JSON.stringify(alert?.body)).toContain(`ossguard bootstrap --account ${NO_ROLE}`);
  });

  it('resumes each member from its own checkpoint, apart from the deploying account’s', async () => {
    const again = await invokeSweeper<OrganizationSweep>(cloud);
    expect(again.resumed).toBe(false);
    expect(again.members?.swept.map((s) => s.accountId)).toEqual([B]);
    expect(again.members?.swept[0]?.resumed).toBe(false);
    // The missing role is recorded and alerted once a day, not at every run.
    expect((await auditRecords(cloud)).filter((r) => r.accountId === NO_ROLE)).toHaveLength(1);
    // Counted in mail: the local robot drops a repeated msgUuid (F-DINGTALK-MSGUUID, unverified of DingTalk).
    expect(cloud.smtp.messages().filter((m) => m.mail.text?.includes(NO_ROLE))).toHaveLength(1);
  });

  it('never takes a member’s checkpoint for the deploying account’s, even where the deploying account has none', async () => {
    const gateway = new OssGateway(
      new OssClientFactory({ credentials: cloud.identities.rootKey, endpoint: cloud.endpoints.oss }),
      cloud.region,
      new CallLog(),
    );
    const prefix = 'test/empty-home/';
    const trust = { key: undefined, now: () => new Date(), log: createLogger({}, () => {}) };
    const member = new SweepCheckpoints(gateway, cloud.auditBucket, `${prefix}accounts/${B}/`, trust);
    const written = {
      kind: 'ossguard-sweep-checkpoint' as const,
      runId: 'r',
      startedAt: new Date().toISOString(),
    };
    await member.write({
      ...written,
      seq: 1,
      complete: false,
      buckets: 1,
      exposed: 0,
      writtenAt: written.startedAt,
    });
    expect(await member.latest()).toEqual(expect.objectContaining({ runId: 'r' }));
    expect(await new SweepCheckpoints(gateway, cloud.auditBucket, prefix, trust).latest()).toBeUndefined();
  });

  it('leaves the members a spent deadline does not reach for the next run, and says which', async () => {
    const spent = await invokeSweeper<OrganizationSweep>(cloud, { deadlineMs: 0 });
    expect(spent.members?.swept).toEqual([]);
    expect(spent.members?.waiting.sort()).toEqual([NO_ROLE, B].sort());
    // Nor does the deploying account's key sweep read a user past it: the next run reads them.
    expect(spent.keys).toMatchObject({ users: 2, keys: 0, unfinished: 2 });
  });
});

describe('the timer sweep of a member whose role cannot read RAM', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ organization: { accounts: [B] } }, { organizationTrail: true });
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-ram-')));
    const boot = await runCli('bootstrap', '--local', '--account', B);
    expect(boot.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
    // The member role's policy with its OSS grants only, as a member's administrator might have trimmed it.
    const ram = new Ram(
      new $OpenApiUtil.Config({
        ...cloud.rootCredentials(B),
        endpoint: new URL(cloud.endpoints.ram).host,
        protocol: 'http',
        regionId: 'cn-shanghai',
      }),
    );
    const ossOnly = memberActions().filter((action) => !action.startsWith('ram:'));
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: MEMBER_POLICY_NAME,
        policyDocument: renderMemberPolicy(ROLE_POLICY_TEMPLATE, B, ossOnly),
        setAsDefault: true,
      }),
    );
    cloud.stopWatching();
    const inB = cloud.accountClient(B);
    await inB.putBucket('b-no-ram');
    await inB.putBucketACL('b-no-ram', 'public-read');
  }, 120_000);

  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('records and alerts it with its fix once a day, and still sweeps the member’s buckets', async () => {
    const ramFailures = async () =>
      (await auditRecords(cloud)).filter(
        (r) => r.eventName === SWEEP_EVENT && r.decision === 'failed' && r.accountId === B,
      );
    const mails = () => cloud.smtp.messages().filter((m) => m.mail.text?.includes(`--account ${B}`));

    const first = await invokeSweeper<OrganizationSweep>(cloud);
    expect(first.members?.swept.map((s) => s.accountId)).toEqual([B]);
    expect(first.members?.swept[0]?.keys?.error).toEqual(expect.any(String));
    expect((await cloud.accountClient(B).getBucketACL('b-no-ram')).acl).toBe('private');
    expect(await ramFailures()).toEqual([
      expect.objectContaining({ service: 'Ram', deployAccountId: cloud.identities.accountId }),
    ]);
    expect(mails()).toHaveLength(1);

    await invokeSweeper(cloud);
    expect(await ramFailures()).toHaveLength(1);
    expect(mails()).toHaveLength(1);
  });
});

describe('with accounts: all, the timer sweep when the resource directory cannot be listed', () => {
  let cloud: LocalCloud;
  /** What the local Resource Directory answers ListAccounts with, while set; each answer is counted. */
  let directory: (() => InjectedFault | undefined) | undefined;
  let listings = 0;
  const home = () => cloud.identities.accountId;
  const directoryFailures = async (): Promise<AuditRecord[]> =>
    (await auditRecords(cloud)).filter(
      (r) => r.eventName === SWEEP_EVENT && r.decision === 'failed' && r.accountId === home(),
    );
  /** Counted in mail: the local robot drops a repeated msgUuid (F-DINGTALK-MSGUUID, unverified of DingTalk). */
  const directoryAlerts = () =>
    cloud.smtp.messages().filter((m) => m.mail.text?.includes('resourcemanager:ListAccounts'));

  beforeAll(async () => {
    cloud = await startCloud(
      { organization: { accounts: 'all' } },
      {
        organizationTrail: true,
        resourceManagerIntercept: (op) => {
          if (op.action !== 'ListAccounts') return undefined;
          listings += 1;
          return directory?.();
        },
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-directory-')));
    cloud.stopWatching();
    const boot = await runCli('bootstrap', '--local', '--account', B);
    expect(boot.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
  }, 120_000);

  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('fails the run after recording the deploying account’s sweep, and records and alerts the listing’s failure with its fix once a day', async () => {
    directory = () => RD_ERRORS.NoPermission;
    // Someone who can write the audit bucket plants today's record of the failure first: an object at the
    // predictable key, not signed with the audit key, must not stand for the record and silence the alert.
    const today = new Date().toISOString();
    const eventId = `sweep-directory-${home()}-${today.slice(0, 10)}`;
    const planted = {
      eventId,
      eventName: 'planted',
      decision: 'skipped',
      decidedAt: today,
      dedupeKey: eventId,
    };
    await cloud
      .adminClient(cloud.auditBucket)
      .put(auditKey('ossguard/audit/', eventId, today), Buffer.from(JSON.stringify(planted)));
    const inHome = cloud.accountClient(home());
    await inHome.putBucket('a-unlisted');
    await inHome.putBucketACL('a-unlisted', 'public-read');
    const inB = cloud.accountClient(B);
    await inB.putBucket('b-unlisted');
    await inB.putBucketACL('b-unlisted', 'public-read');

    const first = await timerInvocation(cloud);
    expect(first.ok).toBe(false);
    // The deploying account's own sweep came first, and stands.
    expect((await inHome.getBucketACL('a-unlisted')).acl).toBe('private');
    expect(await sweptIn(cloud, 'a-unlisted')).toEqual([expect.objectContaining({ decision: 'remediated' })]);
    expect((await inB.getBucketACL('b-unlisted')).acl).toBe('public-read');
    expect(await directoryFailures()).toEqual([
      expect.objectContaining({ deployAccountId: home(), reason: expect.stringMatching(/ListAccounts/) }),
    ]);
    expect(directoryAlerts()).toHaveLength(1);

    // Failing again the same day: the run fails again, with no second record or alert.
    const again = await timerInvocation(cloud);
    expect(again.ok).toBe(false);
    expect(await directoryFailures()).toHaveLength(1);
    expect(directoryAlerts()).toHaveLength(1);
  });

  it('retries a throttled listing with backoff, then sweeps the members', async () => {
    let throttled = 2;
    listings = 0;
    directory = () => (throttled-- > 0 ? POP_THROTTLED : undefined);
    const result = await invokeSweeper<OrganizationSweep>(cloud);
    expect(listings).toBeGreaterThan(2);
    expect(result.members?.swept.map((s) => s.accountId)).toContain(B);
    expect((await cloud.accountClient(B).getBucketACL('b-unlisted')).acl).toBe('private');
  });
});

describe('the timer sweep of a member whose object pass outlasts the run', () => {
  let cloud: LocalCloud;
  /** The sweeper's s.yaml with a 20 s timeout (a 10 s deadline): FC kills a run that outlasts it, as in the cloud. */
  const sYaml = join(process.cwd(), `.s-short-sweep-${process.pid}.yaml`);
  /** While set, every GetObjectAcl on B's crowded bucket answers after 2 s. */
  let slow = false;

  beforeAll(async () => {
    writeFileSync(sYaml, readFileSync('s.yaml', 'utf8').replace('timeout: 600', 'timeout: 20'));
    cloud = await startCloud(
      { organization: { accounts: [B, C] } },
      {
        organizationTrail: true,
        sYaml,
        intercept: (op) =>
          slow && op.operation === 'GetObjectAcl' && op.bucket === 'b-crowded'
            ? { delayMs: 2_000 }
            : undefined,
      },
    );
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-crowded-')));
    for (const accountId of [B, C]) {
      const boot = await runCli('bootstrap', '--local', '--account', accountId);
      expect(boot.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
    }
    // B's audit log shows an object of many/ public: every object there is read again by B's object pass,
    // more of them than one run's deadline allows at 2 s a read.
    const inB = cloud.accountClient(B, 'b-crowded');
    await inB.putBucket('b-crowded');
    await Promise.all(Array.from({ length: 200 }, (_, i) => inB.put(`many/${i}.txt`, Buffer.from('x'))));
    await inB.putACL('many/0.txt', 'public-read');
    await cloud.settle();
    cloud.stopWatching();
    const inC = cloud.accountClient(C);
    await inC.putBucket('c-behind');
    await inC.putBucketACL('c-behind', 'public-read');
    slow = true;
  }, 120_000);

  afterAll(async () => {
    restoreLocalState();
    rmSync(sYaml, { force: true });
    await cloud?.stop();
  });

  it('stops the object pass at the deadline, says what it left, and the member after it is still swept', async () => {
    const first = await timerInvocation(cloud);
    expect(first.ok).toBe(true);
    const firstResult = first.ok ? (first.result as OrganizationSweep) : undefined;
    expect(firstResult?.members?.swept.map((s) => s.accountId)).toEqual([B]);
    expect(firstResult?.members?.swept[0]?.objects?.unfinished).toBeGreaterThan(0);
    // The member that waited goes first next time, whatever B's object pass holds.
    await timerInvocation(cloud);
    expect((await cloud.accountClient(C).getBucketACL('c-behind')).acl).toBe('private');
  }, 120_000);
});
