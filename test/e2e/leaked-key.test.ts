import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { auditKey } from '../../shared/audit/record';
import { DEFAULT_AUDIT_PREFIX } from '../../shared/config';
import { LEAK_EVENT } from '../../shared/incident/leak-guard';
import { auditRecords, invokeSweeper, ramClient, startCloud } from './local-cloud';

/** One run of the sweep's timer, and what it set off. */
async function timerRun(cloud: LocalCloud): Promise<void> {
  await invokeSweeper(cloud);
  await cloud.settle();
}

describe('a key Security Center reports as leaked, through the sweep’s timer', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ rules: { 'leaked-access-key': 'enforce' } });
  });
  afterAll(() => cloud?.stop());

  const alertsAbout = (accessKeyId: string) =>
    cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(accessKeyId));
  const recordsAbout = async (accessKeyId: string) =>
    (await auditRecords(cloud)).filter(
      (r) => r.eventName === LEAK_EVENT && r.resource.accessKeyId === accessKeyId,
    );
  /** UpdateAccessKey through RAM with the account's key, as the owner would in the console. */
  const setStatus = async (userName: string, accessKeyId: string, status: 'Active' | 'Inactive') => {
    await ramClient(cloud, Ram).updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({ userName, userAccessKeyId: accessKeyId, status }),
    );
  };
  const statusOf = (userName: string, accessKeyId: string) =>
    cloud.identities.users.get(userName)?.accessKeys.find((k) => k.accessKeyId === accessKeyId)?.status;

  it('disables a RAM user’s leaked key at once, alerts once as critical with the report command, and does nothing new on the next run', async () => {
    const { key } = cloud.identities.userWithKey('leaky-deployer');
    const findingId = cloud.sas.plant({ accessKeyId: key.accessKeyId });

    await timerRun(cloud);

    expect(statusOf('leaky-deployer', key.accessKeyId)).toBe('Inactive');
    const [record, ...others] = await recordsAbout(key.accessKeyId);
    expect(others).toEqual([]);
    expect(record).toMatchObject({
      eventId: `sas-leak-${findingId}`,
      decision: 'remediated',
      after: { status: 'Inactive' },
      rules: [
        expect.objectContaining({ ruleId: 'leaked-access-key', severity: 'critical', mode: 'enforce' }),
      ],
    });
    const alerts = alertsAbout(key.accessKeyId);
    expect(alerts).toHaveLength(1);
    const text = JSON.stringify(alerts[0]?.body);
    expect(text).toContain('critical');
    expect(text).toContain(`ossguard incident ${key.accessKeyId}`);

    await timerRun(cloud);

    expect(await recordsAbout(key.accessKeyId)).toHaveLength(1);
    expect(alertsAbout(key.accessKeyId)).toHaveLength(1);
  });

  it('disables again, at the next run, a leaked key its owner switches back on, and nothing more after that', async () => {
    const { key } = cloud.identities.userWithKey('reenabling-owner');
    cloud.sas.plant({ accessKeyId: key.accessKeyId });
    await timerRun(cloud);
    expect(statusOf('reenabling-owner', key.accessKeyId)).toBe('Inactive');

    // The owner (or whoever holds their console) switches it back on through RAM.
    await setStatus('reenabling-owner', key.accessKeyId, 'Active');
    await timerRun(cloud);

    expect(statusOf('reenabling-owner', key.accessKeyId)).toBe('Inactive');
    const records = await recordsAbout(key.accessKeyId);
    expect(records.map((r) => r.decision)).toEqual(['remediated', 'remediated']);
    // The switch back on also reaches access-key-guard as an UpdateAccessKey event: only the leak alerts count.
    const leakAlerts = () =>
      alertsAbout(key.accessKeyId).filter((m) => JSON.stringify(m.body).includes('reported as leaked'));
    expect(leakAlerts()).toHaveLength(2);

    await timerRun(cloud);

    expect(await recordsAbout(key.accessKeyId)).toHaveLength(2);
    expect(leakAlerts()).toHaveLength(2);
  });

  it('disables a leaked key switched on after its finding was first judged with the key already off', async () => {
    const { key } = cloud.identities.userWithKey('late-enabler');
    await setStatus('late-enabler', key.accessKeyId, 'Inactive');
    cloud.sas.plant({ accessKeyId: key.accessKeyId });
    await timerRun(cloud);
    expect((await recordsAbout(key.accessKeyId)).map((r) => r.decision)).toEqual(['skipped']);

    await setStatus('late-enabler', key.accessKeyId, 'Active');
    await timerRun(cloud);

    expect(statusOf('late-enabler', key.accessKeyId)).toBe('Inactive');
    expect((await recordsAbout(key.accessKeyId)).map((r) => r.decision)).toEqual(['skipped', 'remediated']);
  });

  it('disables a leaked key switched on when its finding is more than 7 days old', async () => {
    const { key } = cloud.identities.userWithKey('week-old-leak');
    await setStatus('week-old-leak', key.accessKeyId, 'Inactive');
    cloud.sas.plant({ accessKeyId: key.accessKeyId, foundAt: new Date(Date.now() - 8 * 24 * 3_600_000) });
    await timerRun(cloud);
    expect((await recordsAbout(key.accessKeyId)).map((r) => r.decision)).toEqual(['skipped']);

    await setStatus('week-old-leak', key.accessKeyId, 'Active');
    await timerRun(cloud);

    expect(statusOf('week-old-leak', key.accessKeyId)).toBe('Inactive');
    expect((await recordsAbout(key.accessKeyId)).map((r) => r.decision)).toEqual(['skipped', 'remediated']);
  });

  it('still disables a leaked key when someone who can write the audit bucket put a forged record where its record goes', async () => {
    const { key } = cloud.identities.userWithKey('forged-record');
    const foundAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const findingId = cloud.sas.plant({ accessKeyId: key.accessKeyId, foundAt });
    const forged = {
      eventId: `sas-leak-${findingId}`,
      dedupeKey: `sas-leak-${findingId}`,
      decidedAt: foundAt.toISOString(),
      resource: {},
      decision: 'skipped',
      reason: 'nothing to see',
    };
    await cloud
      .adminClient(cloud.auditBucket)
      .put(
        auditKey(DEFAULT_AUDIT_PREFIX, `sas-leak-${findingId}`, foundAt.toISOString()),
        Buffer.from(JSON.stringify(forged)),
      );

    await timerRun(cloud);

    expect(statusOf('forged-record', key.accessKeyId)).toBe('Inactive');
  });

  it('disables nothing, and audits and alerts once, for a finding naming a key RAM does not know in this account', async () => {
    const inactiveBefore = [...cloud.identities.users.values()]
      .flatMap((u) => u.accessKeys)
      .filter((k) => k.status !== 'Active').length;
    const foreign = 'LTAI5tOtherAccountKey01';
    cloud.sas.plant({ accessKeyId: foreign });

    await timerRun(cloud);
    await timerRun(cloud);

    const inactiveAfter = [...cloud.identities.users.values()]
      .flatMap((u) => u.accessKeys)
      .filter((k) => k.status !== 'Active').length;
    expect(inactiveAfter).toBe(inactiveBefore);
    expect(await recordsAbout(foreign)).toMatchObject([
      { decision: 'alerted', reason: expect.stringContaining('not a key of this account') },
    ]);
    expect(alertsAbout(foreign)).toHaveLength(1);
  });

  it('leaves the key on, and alerts, when Security Center says the leaked secret is not valid', async () => {
    const { key } = cloud.identities.userWithKey('stale-secret');
    cloud.sas.plant({ accessKeyId: key.accessKeyId, tokenValid: 2 });

    await timerRun(cloud);

    expect(statusOf('stale-secret', key.accessKeyId)).toBe('Active');
    expect(await recordsAbout(key.accessKeyId)).toMatchObject([
      { decision: 'alerted', reason: expect.stringContaining('not valid') },
    ]);
    expect(alertsAbout(key.accessKeyId)).toHaveLength(1);
  });

  it('audits a whitelisted finding and leaves the key alone, with no alert', async () => {
    const { key } = cloud.identities.userWithKey('trusted-tester');
    cloud.sas.plant({ accessKeyId: key.accessKeyId, whitelisted: true });

    await timerRun(cloud);

    expect(statusOf('trusted-tester', key.accessKeyId)).toBe('Active');
    const records = await recordsAbout(key.accessKeyId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ decision: 'skipped', reason: expect.stringContaining('whitelisted') });
    expect(alertsAbout(key.accessKeyId)).toEqual([]);
  });

  it('only alerts, with the rotation steps, for a leaked key of the account itself', async () => {
    const root = cloud.identities.createRootAccessKey();
    cloud.sas.plant({ accessKeyId: root.accessKeyId, userType: 'master' });

    await timerRun(cloud);

    expect(root.status).toBe('Active');
    expect(await recordsAbout(root.accessKeyId)).toMatchObject([{ decision: 'alerted' }]);
    const text = JSON.stringify(alertsAbout(root.accessKeyId)[0]?.body);
    expect(text).toContain('account owner must rotate it');
  });
});
