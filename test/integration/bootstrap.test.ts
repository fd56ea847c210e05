import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planBootstrap, type Step } from '../../cli/commands/bootstrap';
import type { CloudTarget } from '../../cli/target';
import { deployTarget } from '../../cli/target';
import { ROLE_POLICY_TEMPLATE, TRUST_POLICY } from '../../deploy/role';
import { createSlsAdmin } from '../../deploy/sls-admin';
import { createTrailApi } from '../../deploy/trail-api';
import { LocalCloud } from '../../local/cloud';
import { kmsSecrets } from '../../shared/clients/kms';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { parseConfig } from '../../shared/config/load';
import { POLICY_NAME, ROLE_NAME } from '../../shared/deployment/names';
import { renderRolePolicy, unpinnedResources } from '../../shared/deployment/role-policy';
import { noAmbientCredentials, restoreLocalState, rootTarget, runCli, useLocalState } from '../helpers/cli';

const AUDIT_BUCKET = 'corp-ossguard-audit';
const config = parseConfig(`audit:\n  bucket: ${AUDIT_BUCKET}\n  region: cn-hangzhou\n`);

let cloud: LocalCloud;
let target: CloudTarget;
let ram: Ram;
let dir: string;

const plan = (overrides: Partial<Parameters<typeof planBootstrap>[0]> = {}) =>
  planBootstrap({ target, config, functionRegions: ['cn-hangzhou', 'cn-shanghai'], ...overrides });
const changes = (steps: Step[]) => steps.map((s) => `${s.what}: ${s.change}`);
/** What bootstrap creates on a new account besides the role and the bucket: the feed. */
const FEED = [
  'SLS project ossguard-trail (cn-hangzhou)',
  'trail ossguard (home cn-hangzhou)',
  'logging of trail ossguard',
  'OSS data events of trail ossguard',
  'retention of logstore actiontrail_ossguard',
  'logstore ossguard-trigger-logs',
];
const unchanged = (n: number) => Array.from({ length: n }, () => 'none');
const apply = async (steps: Step[]) => {
  for (const step of steps) await step.apply?.();
};
/** ActionTrail write events so far: what a real run would leave in the account's trail. */
const writes = () => cloud.bus.history().length;
const sameJson = (a: string | undefined, b: string) => expect(JSON.parse(a ?? '')).toEqual(JSON.parse(b));

beforeAll(async () => {
  // A new account: no role, no bucket, no trail, no SLS project.
  cloud = await LocalCloud.start({
    bare: true,
    stateDir: mkdtempSync(join(tmpdir(), 'ossguard-bootstrap-state-')),
  });
  // Bootstrap's own writes are ActionTrail events; no function needs to judge them here.
  cloud.bus.pause();
  target = rootTarget(cloud);
  ram = sdkClient(Ram, popConfig(target.credentials, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));
  dir = mkdtempSync(join(tmpdir(), 'ossguard-bootstrap-'));
});

afterAll(async () => {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
  restoreLocalState();
});

describe('ossguard bootstrap', () => {
  it('creates the role, its policy, the attachment and a private audit bucket on a new account', async () => {
    const steps = await plan();
    expect(changes(steps)).toEqual([
      `role ${ROLE_NAME}: create`,
      `policy ${POLICY_NAME}: create`,
      `attachment ${POLICY_NAME} → ${ROLE_NAME}: create`,
      `audit bucket ${AUDIT_BUCKET} (cn-hangzhou): create`,
      ...FEED.map((what) => `${what}: create`),
    ]);
    await apply(steps);

    const role = await ram.getRole(new $Ram.GetRoleRequest({ roleName: ROLE_NAME }));
    sameJson(role.body?.role?.assumeRolePolicyDocument, TRUST_POLICY);
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: POLICY_NAME, policyType: 'Custom' }),
    );
    sameJson(
      policy.body?.defaultPolicyVersion?.policyDocument,
      renderRolePolicy(ROLE_POLICY_TEMPLATE, config.audit, cloud.identities.accountId),
    );
    const attached = await ram.listPoliciesForRole(
      new $Ram.ListPoliciesForRoleRequest({ roleName: ROLE_NAME }),
    );
    expect(attached.body?.policies?.policy?.map((p) => p.policyName)).toEqual([POLICY_NAME]);
    expect((await cloud.adminClient().getBucketACL(AUDIT_BUCKET)).acl).toBe('private');
  });

  it('refuses an existing audit bucket that another account owns, whoever holds the name', async () => {
    // The bucket exists (the test above made it) and the local cloud's account owns it: bootstrapping as
    // another account must not adopt it (GetBucketInfo Owner, F-OSS-GETBUCKETINFO).
    const { local: _, ...remote } = target;
    await expect(plan({ target: remote, env: { AccountID: '1999999999999999' } })).rejects.toThrow(
      /audit bucket corp-ossguard-audit exists but belongs to account \d+, not 1999999999999999/,
    );
  });

  it('pins the account id in every resource ARN of the role policy', () => {
    const rendered = renderRolePolicy(ROLE_POLICY_TEMPLATE, config.audit, cloud.identities.accountId);
    expect(unpinnedResources(rendered, cloud.identities.accountId)).toEqual([]);
  });

  it('creates the feed: the project, a logging trail over all regions with OSS write data events, the TTL and the trigger-log logstore', async () => {
    const trails = createTrailApi(target.credentials, 'cn-hangzhou', cloud.endpoints.actiontrail);
    const sls = createSlsAdmin(target.credentials, 'cn-hangzhou', cloud.endpoints.sls);
    expect(await sls.getProject('ossguard-trail')).toMatchObject({ region: 'cn-hangzhou' });
    expect(await trails.describeTrail('ossguard')).toMatchObject({
      HomeRegion: 'cn-hangzhou',
      TrailRegion: 'All',
      EventRW: 'All',
      SlsProjectArn: `acs:log:cn-hangzhou:${cloud.identities.accountId}:project/ossguard-trail`,
      Status: 'Enable',
    });
    expect((await trails.getTrailStatus('ossguard')).IsLogging).toBe(true);
    const selector = await trails.getDataEventSelector('ossguard');
    expect(JSON.parse(selector?.DataEventSelectors ?? '')).toEqual([
      { ServiceName: 'Oss', ReadWriteType: 'Write' },
    ]);
    expect(selector?.IsTrailAllRegion).toBe(true);
    expect((await sls.getLogStore('ossguard-trail', 'actiontrail_ossguard'))?.ttl).toBe(180);
    expect((await sls.getLogStore('ossguard-trail', 'ossguard-trigger-logs'))?.ttl).toBe(30);

    // The trail now delivers: an object write lands in actiontrail_ossguard, an object read does not.
    await cloud.adminClient().putBucket('feed-check');
    const client = cloud.adminClient('feed-check');
    const before = cloud.trailDataEvents().length;
    await client.put('a.txt', Buffer.from('a'));
    await client.get('a.txt');
    expect(
      cloud
        .trailDataEvents()
        .slice(before)
        .map((e) => e.record.eventName),
    ).toEqual(['PutObject']);
  });

  it('has the local trail deliver nothing while it is stopped, and nothing to a deleted logstore', async () => {
    const trails = createTrailApi(target.credentials, 'cn-hangzhou', cloud.endpoints.actiontrail);
    const sls = createSlsAdmin(target.credentials, 'cn-hangzhou', cloud.endpoints.sls);
    const client = cloud.adminClient('feed-check');
    const delivered = async (key: string) => {
      const before = cloud.trailDataEvents().length;
      await client.put(key, Buffer.from(key));
      return cloud.trailDataEvents().length - before;
    };
    await trails.stopLogging('ossguard');
    expect(await delivered('stopped.txt')).toBe(0);
    await trails.startLogging('ossguard');
    expect(await delivered('started.txt')).toBe(1);
    await sls.deleteLogStore('ossguard-trail', 'actiontrail_ossguard');
    expect(await delivered('no-logstore.txt')).toBe(0);
    // Whether ActionTrail recreates a deleted logstore is unverified; the local trail does not, so put it back.
    cloud.sls.management.createLogstore('ossguard-trail', 'actiontrail_ossguard', 180);
    expect(await delivered('back.txt')).toBe(1);
  });

  it('changes nothing, and writes nothing to the trail, when run again', async () => {
    const before = writes();
    const steps = await plan();
    expect(steps.map((s) => s.change)).toEqual(unchanged(4 + FEED.length));
    await apply(steps);
    expect(writes()).toBe(before);
  });

  it('puts back a drifted trust policy, permission policy and bucket ACL, then is idempotent again', async () => {
    const foreignTrust = TRUST_POLICY.replace('fc.aliyuncs.com', 'ecs.aliyuncs.com');
    await ram.updateRole(
      new $Ram.UpdateRoleRequest({ roleName: ROLE_NAME, newAssumeRolePolicyDocument: foreignTrust }),
    );
    await ram.createPolicyVersion(
      new $Ram.CreatePolicyVersionRequest({
        policyName: POLICY_NAME,
        policyDocument: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}',
        setAsDefault: true,
      }),
    );
    await cloud.adminClient().putBucketACL(AUDIT_BUCKET, 'public-read');

    const steps = await plan();
    expect(steps.map((s) => s.change)).toEqual([
      'update',
      'update',
      'none',
      'update',
      ...unchanged(FEED.length),
    ]);
    await apply(steps);
    expect((await plan()).map((s) => s.change)).toEqual(unchanged(4 + FEED.length));
    expect((await cloud.adminClient().getBucketACL(AUDIT_BUCKET)).acl).toBe('private');
    const policy = await ram.getPolicy(
      new $Ram.GetPolicyRequest({ policyName: POLICY_NAME, policyType: 'Custom' }),
    );
    expect(policy.body?.defaultPolicyVersion?.versionId).toBe('v3');
  });

  it('adopts a trail that exists under the name, and puts back what drifted in the feed', async () => {
    const trails = createTrailApi(target.credentials, 'cn-hangzhou', cloud.endpoints.actiontrail);
    const sls = createSlsAdmin(target.credentials, 'cn-hangzhou', cloud.endpoints.sls);
    await trails.updateTrail({
      Name: 'ossguard',
      SlsProjectArn: `acs:log:cn-hangzhou:${cloud.identities.accountId}:project/ossguard-trail`,
      TrailRegion: 'cn-hangzhou',
      EventRW: 'Write',
    });
    await trails.stopLogging('ossguard');
    await trails.deleteDataEventSelector('ossguard');
    await sls.updateLogStoreTtl('ossguard-trail', 'actiontrail_ossguard', 3650);
    await sls.deleteLogStore('ossguard-trail', 'ossguard-trigger-logs');

    const steps = await plan();
    expect(changes(steps).slice(4)).toEqual([
      'SLS project ossguard-trail (cn-hangzhou): none',
      'trail ossguard (home cn-hangzhou): update',
      'logging of trail ossguard: update',
      'OSS data events of trail ossguard: create',
      'retention of logstore actiontrail_ossguard: update',
      'logstore ossguard-trigger-logs: create',
    ]);
    await apply(steps);
    expect((await plan()).map((s) => s.change)).toEqual(unchanged(4 + FEED.length));
    expect(await trails.describeTrail('ossguard')).toMatchObject({ TrailRegion: 'All', EventRW: 'All' });
  });

  it('plans the whole feed with --dry-run on a new account and changes nothing', async () => {
    const fresh = await LocalCloud.start({
      bare: true,
      stateDir: mkdtempSync(join(tmpdir(), 'ossguard-bootstrap-dry-')),
    });
    try {
      const freshTarget = rootTarget(fresh);
      const steps = await planBootstrap({ target: freshTarget, config, functionRegions: ['cn-hangzhou'] });
      expect(steps.map((s) => s.change)).toEqual(Array.from(steps, () => 'create'));
      useLocalState(fresh, dir);
      const configFile = join(dir, 'dry.config.yaml');
      writeFileSync(configFile, `audit:\n  bucket: ${AUDIT_BUCKET}\n  region: cn-hangzhou\n`);
      const dry = await runCli('bootstrap', '--local', '--config', configFile, '--dry-run');
      expect(dry.code).toBe(0);
      for (const what of FEED) expect(dry.stdout).toContain(`${what}: would create`);
      const sls = createSlsAdmin(freshTarget.credentials, 'cn-hangzhou', fresh.endpoints.sls);
      expect(await sls.getProject('ossguard-trail')).toBeUndefined();
      expect(fresh.trails.trails.size).toBe(0);
      expect(fresh.oss.bucket(AUDIT_BUCKET)).toBeUndefined();
    } finally {
      await fresh.stop();
    }
  }, 60_000);

  it('refuses when the functions span regions and the config does not say where the audit bucket is', async () => {
    const unplaced = parseConfig(`audit:\n  bucket: ${AUDIT_BUCKET}\n`);
    await expect(plan({ config: unplaced })).rejects.toThrow(/set audit.region/);
    await expect(plan({ config: unplaced, functionRegions: ['cn-hangzhou'] })).resolves.toHaveLength(
      4 + FEED.length,
    );
  });

  it('refuses a config whose ownRoleName is not the role the functions run as', async () => {
    const other = parseConfig(
      `ownRoleName: someone-else\naudit:\n  bucket: ${AUDIT_BUCKET}\n  region: cn-hangzhou\n`,
    );
    await expect(plan({ config: other })).rejects.toThrow(/loop prevention/);
  });

  it('runs from the command line against the local cloud: --dry-run plans, a run applies', async () => {
    useLocalState(cloud, dir);
    const configFile = join(dir, 'ossguard.config.yaml');
    writeFileSync(configFile, `audit:\n  bucket: second-audit\n  region: cn-hangzhou\n`);

    const dry = await runCli('bootstrap', '--local', '--config', configFile, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('audit bucket second-audit (cn-hangzhou): would create (private)');
    expect(dry.stdout).toContain(`policy ${POLICY_NAME}: would update`);
    expect(cloud.oss.bucket('second-audit')).toBeUndefined();

    const run = await runCli('bootstrap', '--local', '--config', configFile);
    expect(run.stdout).toContain('audit bucket second-audit (cn-hangzhou): created (private)');
    expect(cloud.oss.bucket('second-audit')?.acl).toBe('private');
    expect((await runCli('bootstrap', '--local', '--config', configFile)).stdout).not.toMatch(
      /created|updated/,
    );
  }, 60_000);
});

describe('the credentials bootstrap and verify use', () => {
  it.each([
    [
      'the Serverless Devs triple when set, as `s` itself prefers it',
      {
        AccessKeyID: 'LTAIs',
        AccessKeySecret: 's-secret',
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIa',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'a',
      },
      { accessKeyId: 'LTAIs', accessKeySecret: 's-secret' },
    ],
    [
      'an STS token with the triple',
      { AccessKeyID: 'STS.x', AccessKeySecret: 'y', SecurityToken: 'tok' },
      { accessKeyId: 'STS.x', accessKeySecret: 'y', securityToken: 'tok' },
    ],
    [
      'the ALIBABA_CLOUD_* variables otherwise',
      { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIa', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'a' },
      { accessKeyId: 'LTAIa', accessKeySecret: 'a' },
    ],
  ])('takes %s', async (_what, env, credentials) => {
    expect((await deployTarget({}, env)).credentials).toEqual(credentials);
  });

  it('refuses to run without credentials', async () => {
    noAmbientCredentials(mkdtempSync(join(tmpdir(), 'ossguard-home-')));
    try {
      await expect(deployTarget({}, {})).rejects.toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('ossguard bootstrap with secrets in KMS', () => {
  const withSecrets = parseConfig(
    `audit:\n  bucket: ${AUDIT_BUCKET}\n  region: cn-hangzhou\nsecrets:\n  dingtalkSecret: ossguard/robot\n  auditKey: ossguard/audit-key\n`,
  );
  const robotSecret = 'SEC-robot-value-that-must-not-print';
  const kmsSteps = (steps: Step[]) => steps.filter((s) => s.what.startsWith('KMS secret'));

  it('refuses to plan a secret it has no value for, naming the variable to set', async () => {
    await expect(plan({ config: withSecrets, env: {} })).rejects.toThrow(
      /KMS secret ossguard\/robot does not exist: set OSSGUARD_DINGTALK_SECRET/,
    );
  });

  it('creates each named secret from its variable, the audit key at random, and never shows a value', async () => {
    const steps = await plan({ config: withSecrets, env: { OSSGUARD_DINGTALK_SECRET: robotSecret } });
    expect(kmsSteps(steps).map((s) => `${s.what}: ${s.change} (${s.detail})`)).toEqual([
      'KMS secret ossguard/robot: create (from OSSGUARD_DINGTALK_SECRET)',
      'KMS secret ossguard/audit-key: create (a random 256-bit key)',
    ]);
    await apply(steps);
    expect(cloud.kms.has('ossguard/robot') && cloud.kms.has('ossguard/audit-key')).toBe(true);
    const kms = kmsSecrets(target.credentials, 'cn-hangzhou', cloud.endpoints.kms);
    expect(await kms.getSecretValue('ossguard/robot')).toBe(robotSecret);
    expect(Buffer.from(await kms.getSecretValue('ossguard/audit-key'), 'base64')).toHaveLength(32);

    const again = await plan({ config: withSecrets, env: { OSSGUARD_DINGTALK_SECRET: 'another value' } });
    expect(kmsSteps(again).map((s) => s.change)).toEqual(['none', 'none']);
    expect(JSON.stringify(again)).not.toContain(robotSecret);
  });

  it('grants the role kms:GetSecretValue on the named secrets only', async () => {
    const policy = JSON.parse(
      renderRolePolicy(ROLE_POLICY_TEMPLATE, withSecrets.audit, '1234567890123456', ['ossguard/robot']),
    );
    const kmsStatements = policy.Statement.filter((s: { Action: string[] }) =>
      s.Action.some((a) => a.startsWith('kms:')),
    );
    expect(kmsStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:GetSecretValue'],
        Resource: ['acs:kms:*:1234567890123456:secret/ossguard/robot'],
      },
    ]);
  });
});
