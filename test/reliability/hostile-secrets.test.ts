import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultInjector } from '../../local/faults';
import { LocalSmtpServer } from '../../local/smtp/server';
import { wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { eventOf, startFaultyCloud } from './faulty-cloud';

const SMTP_USER = 'ossguard@local.test';
const SMTP_PASSWORD = 'smtp-pw-6b1e0f-never-shown';
const FORGED_SECRET = 'forged-secret-94c2d1-never-kept';

/**
 * Every secret the functions hold or see, hunted for in everything they leave behind: the FC logs, the DingTalk
 * messages, the mails (raw, headers included), the audit records and what the invocations returned. The run
 * includes cloud faults, so the error paths (retries, warnings, failed deliveries) leave their traces too.
 */
describe('secrets in no log, alert or audit record', () => {
  let cloud: LocalCloud;
  let faults: FaultInjector;
  const smtp = new LocalSmtpServer({ auth: { user: SMTP_USER, password: SMTP_PASSWORD } });
  const secrets = new Map<string, string>();
  const previousPassword = process.env.OSSGUARD_SMTP_PASSWORD;

  beforeAll(async () => {
    const port = await smtp.listen();
    // What `s deploy` puts in the function's environment (s.yaml: OSSGUARD_SMTP_PASSWORD: ${env(...)}).
    process.env.OSSGUARD_SMTP_PASSWORD = SMTP_PASSWORD;
    ({ cloud, faults } = await startFaultyCloud({
      config: {
        rules: { 'key-for-other-user': 'enforce' },
        alerts: {
          email: {
            host: '127.0.0.1',
            port,
            secure: false,
            user: SMTP_USER,
            from: SMTP_USER,
            to: ['secops@local.test'],
          },
        },
      },
      plan: { rates: { 'internal-error': 0.15, throttled: 0.1, reset: 0.05 } },
    }));
    const env = cloud.functionEnv();
    secrets.set('SMTP password', SMTP_PASSWORD);
    secrets.set('DingTalk secret', env.OSSGUARD_DINGTALK_SECRET ?? '');
    secrets.set('DingTalk access_token', 'access_token=');
    secrets.set('forged secret', FORGED_SECRET);
    secrets.set('root AccessKey secret', cloud.identities.rootKey.accessKeySecret);
    // Every STS session FC hands a function, as it hands it.
    const issue = cloud.functionCredentials.bind(cloud);
    cloud.functionCredentials = (fn: string) => {
      const session = issue(fn);
      secrets.set(`STS secret ${session.accessKeyId}`, session.accessKeySecret);
      secrets.set(`STS token ${session.accessKeyId}`, session.securityToken);
      return session;
    };

    const alice = cloud.identities.userWithKey('alice').key;
    secrets.set('alice secret', alice.accessKeySecret);
    await cloud.ossClient(alice).putBucket('secret-scan');
    await cloud.settle();

    faults.enabled = true;
    await cloud.ossClient(alice).putBucketACL('secret-scan', 'public-read');
    const ram = new Ram(
      new $OpenApiUtil.Config({
        accessKeyId: alice.accessKeyId,
        accessKeySecret: alice.accessKeySecret,
        endpoint: new URL(cloud.endpoints.ram).host,
        protocol: 'http',
        regionId: 'cn-shanghai',
      }),
    );
    cloud.identities.createUser('bob');
    // The cloud may fault this call too; alice tries again, as a person would.
    for (let attempt = 0; attempt < 20 && !secrets.has('minted secret'); attempt++) {
      const created = await ram
        .createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'bob' }))
        .catch(() => undefined);
      const minted = created?.body?.accessKey?.accessKeySecret;
      if (minted) secrets.set('minted secret', minted);
    }
    await cloud.settle();
    faults.enabled = false;

    // A forged event carrying secrets where ActionTrail never would.
    const sample = eventOf(cloud, await cloud.ossClient(alice).putBucketACL('secret-scan', 'private'));
    cloud.bus.publish(
      wrapCloudEvent({
        ...sample.data,
        eventName: 'CreateAccessKey',
        serviceName: 'Ram',
        requestParameters: { UserName: 'bob', AccessKeySecret: FORGED_SECRET, Password: FORGED_SECRET },
        responseElements: { AccessKey: { AccessKeyId: 'LTAI-forged', AccessKeySecret: FORGED_SECRET } },
        userIdentity: { ...sample.data.userIdentity, sessionContext: { securityToken: FORGED_SECRET } },
      }),
    );
    await cloud.settle();
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
    await smtp.close();
    if (previousPassword === undefined) delete process.env.OSSGUARD_SMTP_PASSWORD;
    else process.env.OSSGUARD_SMTP_PASSWORD = previousPassword;
  });

  it('ran the scenario: alerts went out over SMTP with the password, and faults were injected', () => {
    expect(smtp.messages().length).toBeGreaterThan(0);
    expect(smtp.messages().every((m) => m.user === SMTP_USER)).toBe(true);
    expect(cloud.dingtalk.messages().length).toBeGreaterThan(0);
    expect(faults.stats().faults).toBeGreaterThan(0);
    expect([...secrets.keys()].filter((k) => k.startsWith('STS token')).length).toBeGreaterThan(2);
    expect(secrets.has('minted secret')).toBe(true);
    // The events the functions received did carry secrets: the scan below is not vacuous.
    const delivered = JSON.stringify(cloud.bus.history());
    expect(delivered).toContain(secrets.get('minted secret'));
    expect(delivered).toContain(FORGED_SECRET);
  });

  const traces = (): Array<[string, string]> => [
    ...cloud.fc.logs.map((l): [string, string] => [`log of ${l.functionName}`, l.message]),
    ...cloud.dingtalk.messages().map((m): [string, string] => ['DingTalk message', JSON.stringify(m.body)]),
    ...[...smtp.messages(), ...cloud.smtp.messages()].map((m): [string, string] => ['mail', m.raw]),
    ...(cloud.oss.bucket(cloud.auditBucket)?.objectKeys ?? []).map((key): [string, string] => [
      `audit record ${key}`,
      cloud.oss.object(cloud.auditBucket, key)?.body.toString() ?? '',
    ]),
    ...cloud.bus.deliveries().map((d): [string, string] => ['invocation result', JSON.stringify(d)]),
  ];

  it('leaves no secret in any log line, alert, mail, audit record or invocation result', () => {
    const found: string[] = [];
    for (const [where, text] of traces()) {
      for (const [name, secret] of secrets) {
        if (secret && (text.includes(secret) || text.includes(encodeURIComponent(secret))))
          found.push(`${name} in ${where}`);
      }
    }
    expect(found).toEqual([]);
  });
});
