import Ims, * as $Ims from '@alicloud/ims20190815';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import { userPrincipalName } from '../../local/ram/apis';
import type { AuditRecord } from '../../shared/audit/record';
import { buildRecord, type CloudEvent, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { auditRecords, ramClient, startCloud } from './local-cloud';

type Key = Pick<AccessKey, 'accessKeyId' | 'accessKeySecret'>;

const GUARD = 'access-key-guard';

describe('access-key-guard through the router and the bundled function', () => {
  let cloud: LocalCloud;
  /** Every secret the tests minted: none of them may surface in an alert, a log line or an audit record. */
  const minted: string[] = [];

  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** Signed with a RAM user's key or, by default, the root account's. */
  const ram = (key?: Key) => ramClient(cloud, Ram, key);
  const ims = (key?: Key) => ramClient(cloud, Ims, key);

  /** Alice holds a key and signs in without MFA: the actor who hands out keys in these tests. */
  const alice = () => cloud.identities.userWithKey('alice').key;

  async function createKeyFor(userName: string, creator: Key = alice()): Promise<Key> {
    cloud.identities.createUser(userName);
    const created = await ram(creator).createAccessKey(new $Ram.CreateAccessKeyRequest({ userName }));
    return minting(created.body?.accessKey);
  }

  function minting(key: { accessKeyId?: string; accessKeySecret?: string } | undefined): Key {
    const { accessKeyId = '', accessKeySecret = '' } = key ?? {};
    expect(accessKeySecret).not.toBe('');
    minted.push(accessKeySecret);
    return { accessKeyId, accessKeySecret };
  }

  async function statusOf(userName: string, accessKeyId: string): Promise<string | undefined> {
    const listed = await ram().listAccessKeys(new $Ram.ListAccessKeysRequest({ userName }));
    return listed.body?.accessKeys?.accessKey?.find((k) => k.accessKeyId === accessKeyId)?.status;
  }

  async function decisionFor(accessKeyId: string): Promise<AuditRecord> {
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      // key-usage-guard may judge the same call for the key that signed it: its record is its own.
      (r) => r.guard === GUARD && r.eventName === 'CreateAccessKey' && r.resource.accessKeyId === accessKeyId,
    );
    expect(records).toHaveLength(1);
    return records[0]!;
  }

  const deliveriesOf = (event: CloudEvent) => cloud.bus.deliveries().filter((d) => d.eventId === event.id);

  const publishedEvent = (eventName: string, accessKeyId: string): CloudEvent => {
    const event = cloud.bus
      .history()
      .find(
        (e) =>
          e.data.eventName === eventName &&
          e.data.referencedResources['ACS::RAM::AccessKey']?.includes(accessKeyId),
      );
    expect(event, `${eventName} event for ${accessKeyId}`).toBeDefined();
    return event!;
  };

  const dingtalkAbout = (accessKeyId: string) =>
    cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(accessKeyId));
  const mailsAbout = (accessKeyId: string) =>
    cloud.smtp.messages().filter((m) => m.raw.includes(accessKeyId));

  it('only alerts, in the default alert mode, on a key alice made for bob without MFA', async () => {
    const key = await createKeyFor('bob');

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      guard: GUARD,
      decision: 'alerted',
      region: 'cn-shanghai',
      actor: { type: 'ram-user', userName: 'alice', mfaAuthenticated: false },
      resource: { ramUser: 'bob', accessKeyId: key.accessKeyId },
      rules: expect.arrayContaining([
        expect.objectContaining({ ruleId: 'key-for-other-user', mode: 'alert', severity: 'high' }),
        expect.objectContaining({ ruleId: 'no-mfa', mode: 'alert' }),
      ]),
    });
    expect(await statusOf('bob', key.accessKeyId)).toBe('Active');
    expect(dingtalkAbout(key.accessKeyId)).toHaveLength(1);
    expect(mailsAbout(key.accessKeyId)).toHaveLength(1);
  });

  it('disables the key in enforce mode, and its own UpdateAccessKey never reaches it', async () => {
    cloud.setConfig({ rules: { 'key-for-other-user': 'enforce' } });
    const key = await createKeyFor('carol');

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      decision: 'remediated',
      before: { accessKeyId: key.accessKeyId, status: 'Active' },
      after: { accessKeyId: key.accessKeyId, status: 'Inactive' },
      rules: expect.arrayContaining([
        expect.objectContaining({ ruleId: 'key-for-other-user', mode: 'enforce' }),
      ]),
    });
    expect(await statusOf('carol', key.accessKeyId)).toBe('Inactive');

    const create = publishedEvent('CreateAccessKey', key.accessKeyId);
    // The trail delivers the same change to trail-guard: when it got there first and still held its intent,
    // EventBridge's delivery failed once to come back as a duplicate (README, "Reliability").
    const deliveries = deliveriesOf(create);
    expect(deliveries.every((d) => d.functionName === GUARD)).toBe(true);
    expect(deliveries.at(-1)?.ok).toBe(true);
    for (const failed of deliveries.filter((d) => !d.ok)) {
      expect(failed.error?.message).toMatch(/another delivery of this event/);
    }
    // Its own UpdateAccessKey reaches it too (every state change of a key is watched), and is skipped.
    const revert = publishedEvent('UpdateAccessKey', key.accessKeyId);
    expect(revert.data.userIdentity).toMatchObject({ type: 'assumed-role' });
    const own = (await auditRecords(cloud)).filter((r) => r.eventId === revert.data.eventId);
    expect(own.map((r) => [r.decision, r.reason])).toEqual([
      ['skipped', expect.stringMatching(/own role .* \(loop prevention\)/)],
    ]);
  });

  it('disables again a key someone switches back on, judged like a new one', async () => {
    cloud.setConfig({ rules: { 'key-for-other-user': 'enforce' } });
    const key = await createKeyFor('dave');
    await decisionFor(key.accessKeyId);
    expect(await statusOf('dave', key.accessKeyId)).toBe('Inactive');

    await ram(alice()).updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({
        userName: 'dave',
        userAccessKeyId: key.accessKeyId,
        status: 'Active',
      }),
    );
    await cloud.settle();

    expect(await statusOf('dave', key.accessKeyId)).toBe('Inactive');
    const switchedOn = (await auditRecords(cloud)).filter(
      (r) =>
        r.eventName === 'UpdateAccessKey' &&
        r.resource.accessKeyId === key.accessKeyId &&
        r.actor.type === 'ram-user',
    );
    expect(switchedOn).toMatchObject([
      {
        decision: 'remediated',
        after: { accessKeyId: key.accessKeyId, status: 'Inactive' },
        rules: expect.arrayContaining([expect.objectContaining({ ruleId: 'key-for-other-user' })]),
      },
    ]);
  });

  it('records a key someone switches off as skipped: nothing to judge', async () => {
    cloud.setConfig({ rules: {} });
    const key = await createKeyFor('erin');
    await decisionFor(key.accessKeyId);
    await ram(alice()).updateAccessKey(
      new $Ram.UpdateAccessKeyRequest({
        userName: 'erin',
        userAccessKeyId: key.accessKeyId,
        status: 'Inactive',
      }),
    );
    await cloud.settle();

    const switchedOff = (await auditRecords(cloud)).filter(
      (r) => r.eventName === 'UpdateAccessKey' && r.resource.accessKeyId === key.accessKeyId,
    );
    expect(switchedOff).toMatchObject([
      { decision: 'skipped', reason: expect.stringMatching(/already Inactive/) },
    ]);
  });

  it('raises a critical alert with the console steps for a key of the account itself', async () => {
    const created = await ims().createAccessKey(new $Ims.CreateAccessKeyRequest({}));
    const key = minting(created.body?.accessKey);

    const record = await decisionFor(key.accessKeyId);
    expect(record).toMatchObject({
      decision: 'alerted',
      actor: { type: 'root-account' },
      rules: expect.arrayContaining([
        expect.objectContaining({ ruleId: 'root-access-key', severity: 'critical', mode: 'alert' }),
      ]),
    });
    const root = await ram().listAccessKeys(new $Ram.ListAccessKeysRequest({}));
    expect(root.body?.accessKeys?.accessKey?.find((k) => k.accessKeyId === key.accessKeyId)?.status).toBe(
      'Active',
    );
    const [message] = dingtalkAbout(key.accessKeyId);
    const text = JSON.stringify(message?.body);
    expect(text).toMatch(/critical/i);
    expect(text).toContain('A role cannot disable an AccessKey of the Alibaba Cloud account itself');
    expect(text).toContain('Disable, then Delete');
    expect(mailsAbout(key.accessKeyId)[0]?.raw).toMatch(/critical/i);
  });

  /** Tags a RAM user through IMS TagResources, as anyone with that permission could. */
  async function tagUser(userName: string, value: string): Promise<void> {
    cloud.identities.createUser(userName);
    await ims().tagResources(
      new $Ims.TagResourcesRequest({
        resourceType: 'user',
        resourcePrincipalName: [userPrincipalName(cloud.identities, userName)],
        tag: [new $Ims.TagResourcesRequestTag({ key: 'ossguard-exception', value })],
      }),
    );
  }

  it("never lets a user exception waive key-for-other-user, which is about the key's creator", async () => {
    cloud.setConfig({
      rules: { 'key-for-other-user': 'enforce' },
      exceptions: { users: [{ user: 'ci-*', reason: 'CI robots get their keys from the platform team' }] },
    });
    const key = await createKeyFor('ci-deployer');

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      decision: 'remediated',
      ignoredExceptions: [
        { source: 'config', match: 'ci-*', why: expect.stringMatching(/key-for-other-user/) },
      ],
    });
    expect(await statusOf('ci-deployer', key.accessKeyId)).toBe('Inactive');
  });

  it('ignores an exception tag that runs longer than exceptions.maxLifetimeDays', async () => {
    cloud.setConfig({ rules: { 'no-mfa': 'enforce' } });
    await tagUser('heidi', 'until=2099-12-31;reason=vendor integration, rotated by hand;rules=no-mfa');
    const heidisOwn = cloud.identities.userWithKey('heidi').key;
    const key = await createKeyFor('heidi', heidisOwn);

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      decision: 'remediated',
      ignoredExceptions: [{ source: 'tag', why: expect.stringMatching(/90 days/) }],
    });
  });

  it("leaves the key active for an exception naming the rule, about the key's own user", async () => {
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    cloud.setConfig({ rules: { 'no-mfa': 'enforce' } });
    await tagUser('ivan', `until=${until};reason=vendor integration;rules=no-mfa,multiple-active-keys`);
    const ivansOwn = cloud.identities.userWithKey('ivan').key;
    const key = await createKeyFor('ivan', ivansOwn);

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      decision: 'excepted',
      exception: {
        source: 'tag',
        match: 'ossguard-exception',
        until,
        rules: ['no-mfa', 'multiple-active-keys'],
      },
    });
    expect(await statusOf('ivan', key.accessKeyId)).toBe('Active');
  });

  it('reports dry-run and leaves the key active when dryRun is set', async () => {
    cloud.setConfig({ dryRun: true, rules: { 'key-for-other-user': 'enforce' } });
    const key = await createKeyFor('frank');

    expect(await decisionFor(key.accessKeyId)).toMatchObject({
      decision: 'dry-run',
      dryRun: true,
      reason: `dry-run: would disable AccessKey ${key.accessKeyId}`,
    });
    expect(await statusOf('frank', key.accessKeyId)).toBe('Active');
  });

  it('disables a key a user made for herself, with MFA, from outside the allowed networks', async () => {
    cloud.setConfig({
      rules: { 'untrusted-source': 'enforce' },
      accessKeys: { allowedSourceCidrs: ['10.0.0.0/8'] },
    });
    const { key: own } = cloud.identities.userWithKey('grace', { mfa: true });
    const key = await createKeyFor('grace', own);

    const record = await decisionFor(key.accessKeyId);
    expect(record).toMatchObject({
      decision: 'remediated',
      actor: { userName: 'grace', mfaAuthenticated: true, sourceIp: '127.0.0.1' },
    });
    expect(record.rules.map((r) => [r.ruleId, r.mode])).toEqual([
      ['untrusted-source', 'enforce'],
      ['multiple-active-keys', 'alert'],
    ]);
    expect(await statusOf('grace', key.accessKeyId)).toBe('Inactive');
  });

  it.each([
    ['ram', 'ConsoleOperation', 'Ram', true],
    ['ims', 'ConsoleOperation', 'Ims', true],
    ['ims', 'ApiCall', 'Ims', true],
    ['oss', 'ApiCall', 'Oss', false],
  ] as const)(
    'routes CreateAccessKey typed %s:ActionTrail:%s with serviceName %s to the guard: %s',
    async (prefix, eventType, serviceName, routed) => {
      cloud.setConfig({});
      const { user, key } = cloud.identities.userWithKey(`console-${prefix}-${eventType.toLowerCase()}`);
      const record = buildRecord({
        caller: { ...cloud.identities.rootCaller() },
        eventName: 'CreateAccessKey',
        serviceName,
        eventSource: `${prefix}.aliyuncs.com`,
        region: 'cn-shanghai',
        requestId: `REQ-${user.userName}`,
        sourceIp: '127.0.0.1',
        userAgent: 'ram.console.alibabacloud.com',
        eventType,
        isGlobal: true,
        requestParameters: { UserPrincipalName: userPrincipalName(cloud.identities, user.userName) },
        responseElements: {
          AccessKey: { AccessKeyId: key.accessKeyId, AccessKeySecret: key.accessKeySecret },
        },
      });
      minted.push(key.accessKeySecret);
      const event = wrapCloudEvent(record);
      // wrapCloudEvent types events by service; the prefix under test is set explicitly.
      event.type = `${prefix}:ActionTrail:${eventType}`;
      cloud.bus.publish(event);
      await cloud.settle();

      expect(deliveriesOf(event).map((d) => [d.functionName, d.ok])).toEqual(routed ? [[GUARD, true]] : []);
      if (routed) {
        expect(await decisionFor(key.accessKeyId)).toMatchObject({
          eventType,
          decision: 'alerted',
          resource: { ramUser: user.userName, accessKeyId: key.accessKeyId },
        });
      }
    },
  );

  it('keeps every minted secret out of alerts, log lines and audit records', async () => {
    await cloud.settle();
    const creations = cloud.bus.history().filter((e) => e.data.eventName === 'CreateAccessKey');
    const published = JSON.stringify(creations.map((e) => e.data.responseElements));
    // The records the guard received did carry the secrets: the redaction is what keeps them out.
    expect(minted.length).toBeGreaterThanOrEqual(8);
    for (const secret of minted) expect(published).toContain(secret);

    const places = {
      dingtalk: JSON.stringify(cloud.dingtalk.messages()),
      // Raw and decoded: quoted-printable could split a secret across lines.
      smtp: cloud.smtp
        .messages()
        .map((m) => [m.raw, m.mail.text, m.mail.html].join('\n'))
        .join('\n'),
      logs: cloud.fc.logs.map((line) => line.message).join('\n'),
      audit: JSON.stringify(await auditRecords(cloud)),
      'invocation results': JSON.stringify(cloud.bus.deliveries()),
    };
    expect(places.dingtalk.length).toBeGreaterThan(0);
    expect(places.smtp.length).toBeGreaterThan(0);
    expect(places.logs).toContain('CreateAccessKey');
    for (const [place, text] of Object.entries(places)) {
      for (const secret of minted) expect(text.includes(secret), `${place} holds a secret`).toBe(false);
    }
  });
});
