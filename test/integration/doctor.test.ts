import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudTarget } from '../../cli/target';
import { alertChecks, auditKeyCheck, type DoctorCheck } from '../../deploy/doctor';
import { deployedFunctions } from '../../deploy/regions';
import { ROLE_POLICY_TEMPLATE } from '../../deploy/role';
import { createSlsAdmin, type SlsAdmin } from '../../deploy/sls-admin';
import { createTrailApi, type TrailApi } from '../../deploy/trail-api';
import { LocalCloud } from '../../local/cloud';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { parseConfig } from '../../shared/config/load';
import { restoreLocalState, rootTarget, runCli, useLocalState } from '../helpers/cli';

const AUDIT_BUCKET = 'doctor-audit';
const DINGTALK = { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=fake-token' };
const EMAIL = { host: 'smtpdm.aliyun.com', from: 'ossguard@example.com', to: ['secops@example.com'] };
const ARN = (cloud: LocalCloud) => `acs:log:cn-hangzhou:${cloud.identities.accountId}:project/ossguard-trail`;

let cloud: LocalCloud;
let target: CloudTarget;
let trails: TrailApi;
let sls: SlsAdmin;
let ram: Ram;
let dir: string;
let configFile: string;

/** `ossguard doctor --local --json`: the exit code and the checks. */
async function doctor(config = configFile): Promise<{ code: number; checks: DoctorCheck[]; stdout: string }> {
  const json = await runCli('doctor', '--local', '--config', config, '--regions', 'cn-hangzhou', '--json');
  const checks = json.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DoctorCheck);
  return { code: json.code, checks, stdout: json.stdout };
}

const red = (checks: DoctorCheck[]) => checks.filter((c) => !c.ok).map((c) => c.id);

/** The id of the log-triggered function's line, whatever s.yaml calls the function. */
const logFunction = (checks: DoctorCheck[]) => {
  const found = checks.find((c) => c.id.startsWith('function:') && c.detail.includes('log trigger'));
  if (!found) throw new Error(`no log-triggered function in ${checks.map((c) => c.id).join(', ')}`);
  return found.id;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ossguard-doctor-'));
  cloud = await LocalCloud.start({ bare: true, stateDir: dir });
  cloud.bus.pause();
  target = rootTarget(cloud);
  trails = createTrailApi(target.credentials, 'cn-hangzhou', cloud.endpoints.actiontrail);
  sls = createSlsAdmin(target.credentials, 'cn-hangzhou', cloud.endpoints.sls);
  ram = sdkClient(Ram, popConfig(target.credentials, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));
  configFile = join(dir, 'doctor.config.yaml');
  writeFileSync(configFile, `audit:\n  bucket: ${AUDIT_BUCKET}\n  region: cn-hangzhou\n`);
  useLocalState(cloud, dir);
});

afterAll(async () => {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
  restoreLocalState();
});

const KMS_CONFIG = parseConfig(
  `audit:\n  bucket: ${AUDIT_BUCKET}\nsecrets:\n  auditKey: ossguard/audit-key\n`,
);
const ACCOUNT = '1234567890123456';
const role = (policy: string | { failed: string }, regions = ['cn-hangzhou']) => ({
  policy,
  accountId: ACCOUNT,
  regions,
});
const withSecret = (secret: string, region = '*') => {
  const document = JSON.parse(ROLE_POLICY_TEMPLATE) as { Statement: unknown[] };
  document.Statement.push({
    Effect: 'Allow',
    Action: ['kms:GetSecretValue'],
    Resource: [`acs:kms:${region}:${ACCOUNT}:secret/${secret}`],
  });
  return JSON.stringify(document);
};

describe('ossguard doctor', () => {
  it('is red on a bare account, and every red line says how to fix it', async () => {
    const { code, checks, stdout } = await doctor();
    expect(code).toBe(1);
    expect(red(checks)).toEqual(
      expect.arrayContaining([
        'trail',
        'trail-logging',
        'trail-data-events',
        'trail-logstore',
        'trail-logstore-ttl',
        'trigger-logstore',
        'role-function',
        'role-log-trigger',
        'audit-bucket',
        'audit-retention',
      ]),
    );
    expect(checks.filter((c) => c.id.startsWith('function:') && !c.ok).length).toBeGreaterThan(0);
    for (const check of checks.filter((c) => !c.ok)) expect(check.fix, check.id).toMatch(/\S/);
    expect(checks.find((c) => c.id === 'trail')?.fix).toContain('ossguard bootstrap');
    // Without an audit key, whoever can write the audit bucket can forge a record and silence an alert.
    expect(checks.find((c) => c.id === 'audit-key')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('secrets.auditKey'),
    });
    expect(checks.find((c) => c.id === 'audit-key')?.warning).toBeUndefined();

    const text = await runCli('doctor', '--local', '--config', configFile, '--regions', 'cn-hangzhou');
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^✗ trail ossguard exists: no such trail → fix: run `ossguard bootstrap`/m);
    expect(text.stdout.split('\n').filter(Boolean)).toHaveLength(stdout.split('\n').filter(Boolean).length);
  }, 60_000);

  it('is all green after bootstrap, s deploy (as the local cloud models it) and audit lock', async () => {
    expect((await runCli('bootstrap', '--local', '--config', configFile)).code).toBe(0);
    await cloud.deploy();
    expect((await runCli('audit', 'lock', '--local', '--config', configFile, '--days', '1')).code).toBe(0);

    const { code, checks } = await doctor();
    expect(red(checks)).toEqual([]);
    expect(code).toBe(0);
    expect(checks.find((c) => c.id === 'region:cn-hangzhou')?.detail).toContain(
      'EventBridge here (fast path)',
    );
    expect(checks.find((c) => c.id === logFunction(checks))?.detail).toContain(
      'log trigger on ossguard-trail/actiontrail_ossguard',
    );
    const text = await runCli('doctor', '--local', '--config', configFile, '--regions', 'cn-hangzhou');
    expect(text.stdout).not.toContain('✗');
  }, 60_000);

  const fnTrust = JSON.stringify({
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
  });

  it.each<[string, string | ((checks: DoctorCheck[]) => string), () => Promise<void>, () => Promise<void>]>([
    [
      'stopping the trail',
      'trail-logging',
      () => trails.stopLogging('ossguard'),
      () => trails.startLogging('ossguard'),
    ],
    [
      'deleting the data-event selector',
      'trail-data-events',
      () => trails.deleteDataEventSelector('ossguard'),
      () => trails.putDataEventSelector('ossguard', '[{"ServiceName":"Oss","ReadWriteType":"Write"}]', true),
    ],
    [
      'selecting data events in one region only',
      'trail-data-events',
      async () => {
        // IsTrailAllRegion false needs TrailRegionIds; the generic client has no such field, so go around it.
        cloud.trails.trails.get('ossguard')!.selectors!.isTrailAllRegion = false;
      },
      async () => {
        cloud.trails.trails.get('ossguard')!.selectors!.isTrailAllRegion = true;
      },
    ],
    [
      'recording write management events only',
      'trail-event-rw',
      () =>
        trails.updateTrail({
          Name: 'ossguard',
          SlsProjectArn: ARN(cloud),
          TrailRegion: 'All',
          EventRW: 'Write',
        }),
      () =>
        trails.updateTrail({
          Name: 'ossguard',
          SlsProjectArn: ARN(cloud),
          TrailRegion: 'All',
          EventRW: 'All',
        }),
    ],
    [
      'narrowing the trail to one region',
      'trail-all-regions',
      () =>
        trails.updateTrail({
          Name: 'ossguard',
          SlsProjectArn: ARN(cloud),
          TrailRegion: 'cn-hangzhou',
          EventRW: 'All',
        }),
      () =>
        trails.updateTrail({
          Name: 'ossguard',
          SlsProjectArn: ARN(cloud),
          TrailRegion: 'All',
          EventRW: 'All',
        }),
    ],
    [
      'dropping the TTL of the trail logstore',
      'trail-logstore-ttl',
      () => sls.updateLogStoreTtl('ossguard-trail', 'actiontrail_ossguard', 3650),
      () => sls.updateLogStoreTtl('ossguard-trail', 'actiontrail_ossguard', 180),
    ],
    [
      'deleting the trigger-log logstore',
      'trigger-logstore',
      () => sls.deleteLogStore('ossguard-trail', 'ossguard-trigger-logs'),
      () => sls.createLogStore('ossguard-trail', 'ossguard-trigger-logs', 30, 1),
    ],
    [
      'a role policy that writes buckets of that name in any account',
      'role-policy-account',
      async () => {
        const policy = await ram.getPolicy(
          new $Ram.GetPolicyRequest({ policyName: 'ossguard-fn-policy', policyType: 'Custom' }),
        );
        const pinned = policy.body?.defaultPolicyVersion?.policyDocument ?? '';
        await ram.createPolicyVersion(
          new $Ram.CreatePolicyVersionRequest({
            policyName: 'ossguard-fn-policy',
            policyDocument: pinned.replaceAll(`:${cloud.identities.accountId}:`, ':*:'),
            setAsDefault: true,
            rotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded',
          }),
        );
      },
      async () => {
        expect((await runCli('bootstrap', '--local', '--config', configFile)).code).toBe(0);
      },
    ],
    [
      'deleting the log trigger role',
      'role-log-trigger',
      async () => {
        cloud.identities.roles.delete('AliyunLogETLRole');
      },
      async () => cloud.ram.ensureLogTriggerRole(),
    ],
    [
      "changing the function role's trust",
      'role-function',
      async () => {
        await ram.updateRole(
          new $Ram.UpdateRoleRequest({
            roleName: 'ossguard-fn',
            newAssumeRolePolicyDocument: fnTrust.replace('fc.aliyuncs.com', 'ecs.aliyuncs.com'),
          }),
        );
      },
      async () => {
        await ram.updateRole(
          new $Ram.UpdateRoleRequest({ roleName: 'ossguard-fn', newAssumeRolePolicyDocument: fnTrust }),
        );
      },
    ],
  ])(
    'turns exactly its line red after %s, with its fix',
    async (_what, id, remove, restore) => {
      await remove();
      try {
        const { code, checks } = await doctor();
        const expected = typeof id === 'string' ? id : id(checks);
        expect(red(checks)).toEqual([expected]);
        expect(checks.find((c) => c.id === expected)?.fix).toMatch(/\S/);
        expect(code).toBe(1);
      } finally {
        await restore();
      }
      expect(red((await doctor()).checks)).toEqual([]);
    },
    60_000,
  );

  it('turns exactly the log-triggered function red when its trigger is disabled', async () => {
    const before = await doctor();
    const id = logFunction(before.checks);
    const [, name] = /^function:([^@]+)@/.exec(id) ?? [];
    const specs = await deployedFunctions({ sYaml: 's.yaml' }, ['cn-hangzhou']);
    const triggerName = specs.find((f) => f.functionName === name)?.triggers[0]?.name;
    if (!name || !triggerName) throw new Error(`no trigger for ${id}`);
    cloud.setTriggerEnabled(name, triggerName, false);
    try {
      const { checks } = await doctor();
      expect(red(checks)).toEqual([id]);
      expect(checks.find((c) => c.id === id)?.detail).toBe(`trigger ${triggerName} is disabled`);
      expect(checks.find((c) => c.id === id)?.fix).toContain(`enable trigger ${triggerName}`);
    } finally {
      cloud.setTriggerEnabled(name, triggerName, true);
    }
    expect(red((await doctor()).checks)).toEqual([]);
  }, 60_000);

  it('fails, with the fix, when a deployed function has no audit key, and passes with a KMS-held one', () => {
    const config = parseConfig(`audit:\n  bucket: ${AUDIT_BUCKET}\n`);
    const keyed = new Map([
      ['oss-acl-guard@cn-hangzhou', 'digest-a'],
      ['trail-guard@cn-hangzhou', undefined],
    ]);
    expect(auditKeyCheck(config, keyed, role(ROLE_POLICY_TEMPLATE))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('trail-guard@cn-hangzhou'),
      fix: expect.stringContaining('OSSGUARD_AUDIT_KEY'),
    });
    const one = new Map([['oss-acl-guard@cn-hangzhou', 'digest-a']]);
    expect(auditKeyCheck(config, one, role(ROLE_POLICY_TEMPLATE)).ok).toBe(true);
  });

  it('fails a KMS-held audit key readable only in the home region when functions in another region read it', () => {
    const check = auditKeyCheck(
      KMS_CONFIG,
      new Map(),
      role(withSecret('ossguard/audit-key', 'cn-hangzhou'), ['cn-hangzhou', 'cn-shanghai']),
    );
    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`acs:kms:cn-shanghai:${ACCOUNT}:secret/ossguard/audit-key`),
    });
    expect(check.detail).not.toContain('cn-hangzhou:');
  });

  it.each([
    [
      'grants kms:GetSecretValue on the secret',
      withSecret('ossguard/audit-key'),
      true,
      'readable by the function role',
    ],
    [
      'grants it on another secret only',
      withSecret('ossguard/other'),
      false,
      'does not allow kms:GetSecretValue',
    ],
    ['grants nothing of KMS', ROLE_POLICY_TEMPLATE, false, 'cannot load the key'],
    ['could not be read', { failed: 'missing' }, false, 'could not be read (missing)'],
  ])('judges a KMS-held audit key by whether the function role policy %s', (_what, policy, ok, detail) => {
    const check = auditKeyCheck(KMS_CONFIG, new Map(), role(policy));
    expect(check).toMatchObject({ ok, detail: expect.stringContaining(detail) });
    if (!ok) expect(check.fix).toContain('bootstrap');
  });

  it('fails when the deployed functions hold different audit keys, naming which holds which', () => {
    const config = parseConfig(`audit:\n  bucket: ${AUDIT_BUCKET}\n`);
    const keyed = new Map([
      ['oss-acl-guard@cn-hangzhou', 'digest-a'],
      ['trail-guard@cn-hangzhou', 'digest-b'],
      ['oss-sweeper@cn-hangzhou', 'digest-a'],
    ]);
    expect(auditKeyCheck(config, keyed, role(ROLE_POLICY_TEMPLATE))).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        '2 different OSSGUARD_AUDIT_KEY values (oss-acl-guard@cn-hangzhou, oss-sweeper@cn-hangzhou; trail-guard@cn-hangzhou)',
      ),
    });
  });

  it('says which path guards a region: EventBridge where OSS publishes there, else the trail alone', async () => {
    const { regionChecks } = await import('../../deploy/doctor');
    const state = {
      trail: { Name: 'ossguard', TrailRegion: 'All', EventRW: 'All' },
      logging: true,
      selector: {
        DataEventSelectors: '[{"ServiceName":"Oss","ReadWriteType":"Write"}]',
        IsTrailAllRegion: true,
      },
    };
    const [hangzhou, frankfurt] = regionChecks(['cn-hangzhou', 'eu-central-1'], state);
    expect(hangzhou).toMatchObject({ ok: true, detail: expect.stringContaining('fast path') });
    expect(frankfurt).toMatchObject({
      ok: true,
      detail: expect.stringContaining('covered by the trail path only'),
    });
    const [uncovered] = regionChecks(['eu-central-1'], { ...state, logging: false });
    expect(uncovered).toMatchObject({ ok: false, fix: expect.stringContaining('ossguard bootstrap') });
  });

  it('warns, without failing, when DingTalk is configured and no email route covers critical alerts', async () => {
    const alerting = join(dir, 'dingtalk-only.config.yaml');
    writeFileSync(
      alerting,
      JSON.stringify({
        audit: { bucket: AUDIT_BUCKET, region: 'cn-hangzhou' },
        alerts: { dingtalk: DINGTALK },
      }),
    );
    const { code, checks } = await doctor(alerting);
    expect(code).toBe(0);
    expect(checks.filter((c) => !c.ok)).toEqual([
      expect.objectContaining({
        id: 'alerts-critical-email',
        warning: true,
        fix: expect.stringContaining('configure alerts.email'),
      }),
    ]);
    const text = await runCli('doctor', '--local', '--config', alerting, '--regions', 'cn-hangzhou');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^! critical alerts go to email as well as DingTalk: no email channel: DingTalk alone carries critical alerts.* → fix: configure alerts\.email/m,
    );
    expect(text.stdout).not.toContain('✗');
  }, 60_000);

  it.each<[string, object, boolean]>([
    ['no channels', {}, true],
    ['email alone', { email: EMAIL }, true],
    ['DingTalk alone', { dingtalk: DINGTALK }, false],
    ['DingTalk and email, no routes', { dingtalk: DINGTALK, email: EMAIL }, true],
    [
      'an email route for high and above',
      { dingtalk: DINGTALK, email: EMAIL, routes: [{ channel: 'email', minSeverity: 'high' }] },
      true,
    ],
    [
      'an email route for some rules only',
      { dingtalk: DINGTALK, email: EMAIL, routes: [{ channel: 'email', rules: ['bucket-acl-public-read'] }] },
      false,
    ],
    [
      'routes to DingTalk alone',
      { dingtalk: DINGTALK, email: EMAIL, routes: [{ channel: 'dingtalk' }] },
      false,
    ],
  ])('with %s, says critical alerts are emailed too: %s', (_what, alerts, covered) => {
    const check = alertChecks(parseConfig(JSON.stringify({ audit: { bucket: AUDIT_BUCKET }, alerts })));
    expect(check).toMatchObject({ id: 'alerts-critical-email', ok: covered });
    expect(check.warning ?? false).toBe(!covered);
    if (!covered) expect(check.fix).toContain('{channel: email, minSeverity: critical}');
  });

  it('finds the local cloud as it starts by default provisioned, all but the audit lock', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ossguard-doctor-default-'));
    const provisioned = await LocalCloud.start({ stateDir });
    try {
      useLocalState(provisioned, stateDir);
      const { checks } = await doctor(provisioned.configFile);
      expect(red(checks)).toEqual(['audit-retention']);
    } finally {
      useLocalState(cloud, dir);
      await provisioned.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('explains every check in --help', async () => {
    const help = await runCli('doctor', '--help');
    for (const id of [
      'trail-logging',
      'trail-data-events',
      'trail-logstore-ttl',
      'role-log-trigger',
      'audit-retention',
    ]) {
      expect(help.stdout).toContain(id);
    }
  });
});
