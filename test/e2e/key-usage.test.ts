import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import type { AuditRecord } from '../../shared/audit/record';
import { auditRecords, ramClient, startCloud, userClient } from './local-cloud';

const GUARD = 'key-usage-guard';

/** key-usage-guard's records that carry a finding of one rule. */
async function findingsOf(cloud: LocalCloud, ruleId: string): Promise<AuditRecord[]> {
  await cloud.settle();
  return (await auditRecords(cloud)).filter(
    (r) => r.guard === GUARD && r.rules.some((finding) => finding.ruleId === ruleId),
  );
}

/** DingTalk alerts that name a rule. */
const alertsNaming = (cloud: LocalCloud, ruleId: string) =>
  cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(ruleId));

describe('key-usage-guard through trail-guard and the bundled function', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud();
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  it('alerts once when a root AccessKey uploads objects, with the key id masked', async () => {
    // The local cloud's operator key is excepted (local/cloud.ts): this is a second key of the account.
    const rootKey: AccessKey = cloud.identities.createRootAccessKey();
    const root = cloud.ossClient(rootKey, 'root-uploads');
    await root.putBucket('root-uploads');
    await root.put('a.txt', Buffer.from('one'));
    await root.put('b.txt', Buffer.from('two'));

    const records = await findingsOf(cloud, 'root-key-in-use');
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({ decision: 'alerted', actor: { type: 'root-account' } });
    const finding = record?.rules.find((f) => f.ruleId === 'root-key-in-use');
    expect(finding).toMatchObject({ severity: 'critical', mode: 'alert' });
    expect(finding?.evidence).toMatchObject({ service: 'Oss', sourceIp: '127.0.0.1' });
    expect(String(finding?.evidence.accessKeyId)).toMatch(/^LTAI\*{4}.{4}$/);
    const alerts = alertsNaming(cloud, 'root-key-in-use');
    expect(alerts).toHaveLength(1);
    expect(JSON.stringify(alerts)).not.toContain(rootKey.accessKeyId);
    // The later uses of the hour were judged, and found to be the hour's alert.
    const later = cloud.logTriggers
      .deliveries()
      .filter((d) => d.ok)
      .flatMap((d) => (d.result as { decisions: Array<{ guard?: string; decision: string }> }).decisions)
      .filter((d) => d.decision === 'duplicate');
    expect(later.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('disables, in enforce mode, a key that signs a call from outside its allowed network', async () => {
    cloud.setConfig({
      rules: { 'key-used-outside-network': 'enforce' },
      accessKeys: { allowedNetworks: [{ user: 'mallory', cidrs: ['10.0.0.0/8'] }] },
    });
    const mallory = userClient(cloud, 'mallory');
    const { key } = cloud.identities.userWithKey('mallory');
    await mallory.putBucket('mallory-elsewhere');

    const [record] = await findingsOf(cloud, 'key-used-outside-network');
    expect(record).toMatchObject({
      decision: 'remediated',
      actor: { userName: 'mallory', sourceIp: '127.0.0.1' },
      after: { status: 'Inactive' },
    });
    const admin = ramClient(cloud, Ram);
    const listed = await admin.listAccessKeys(new $Ram.ListAccessKeysRequest({ userName: 'mallory' }));
    const status = listed.body?.accessKeys?.accessKey?.find((k) => k.accessKeyId === key.accessKeyId)?.status;
    expect(status).toBe('Inactive');
  }, 60_000);

  it('leaves alone a key used from inside its allowed network', async () => {
    cloud.setConfig({
      rules: { 'key-used-outside-network': 'enforce' },
      accessKeys: { allowedNetworks: [{ user: 'trent', cidrs: ['127.0.0.0/8'] }] },
    });
    await userClient(cloud, 'trent').putBucket('trent-at-home');
    const records = (await findingsOf(cloud, 'key-used-outside-network')).filter(
      (r) => r.actor.userName === 'trent',
    );
    expect(records).toEqual([]);
    expect(cloud.identities.userWithKey('trent').key.status).toBe('Active');
  }, 60_000);

  it('alerts on a console sign-in without MFA, and not on one with MFA', async () => {
    cloud.setConfig({});
    cloud.identities.createUser('carol');
    cloud.identities.createUser('dave', { mfa: true });
    cloud.consoleSignin({ userName: 'carol' }, { mfa: false });
    cloud.consoleSignin({ userName: 'dave' }, { mfa: true });
    cloud.consoleSignin('root', { mfa: false });

    const records = await findingsOf(cloud, 'console-signin-without-mfa');
    expect(records.map((r) => [r.actor.type, r.actor.userName, r.decision]).sort()).toEqual([
      ['ram-user', 'carol', 'alerted'],
      ['root-account', 'root', 'alerted'],
    ]);
    expect(alertsNaming(cloud, 'console-signin-without-mfa')).toHaveLength(2);
  }, 60_000);
});
