import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SECRET_NAMES, LOCAL_SMTP_USER, type LocalCloud } from '../../local/cloud';
import { recordSeal } from '../../shared/audit/record';
import { kmsSecrets } from '../../shared/clients/kms';
import { auditKeyOf } from '../../shared/config/secrets';
import { renderSYaml } from '../../shared/deployment/syaml';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, decisionsFor, startCloud, userClient } from './local-cloud';

describe('ossguard with its secrets in KMS', () => {
  let cloud: LocalCloud;
  let values: string[];

  beforeAll(async () => {
    cloud = await startCloud({}, { kmsSecrets: true });
    const { rootKey } = cloud.identities;
    const kms = kmsSecrets(rootKey, cloud.region, cloud.endpoints.kms);
    values = await Promise.all(Object.values(LOCAL_SECRET_NAMES).map((name) => kms.getSecretValue(name)));
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('gives the functions secret names, never a secret value, in their environment or in `s preview`', async () => {
    const env = JSON.stringify(cloud.functionEnv());
    expect(values).toHaveLength(3);
    expect(values.every((v) => v.length > 8)).toBe(true);
    for (const value of values) expect(env).not.toContain(value);
    expect(JSON.parse(cloud.functionEnv().OSSGUARD_CONFIG ?? '{}').secrets).toEqual(LOCAL_SECRET_NAMES);
    // What `s deploy` would send FC, rendered by the real Serverless Devs CLI from the deployer's environment.
    const preview = JSON.stringify(
      await renderSYaml('s.yaml', { env: { ...cloud.functionEnv(), AccountID: cloud.identities.accountId } }),
    );
    expect(preview).toContain('OSSGUARD_SMTP_PASSWORD');
    for (const value of values) expect(preview).not.toContain(value);
  });

  it('starts, reverts and alerts with the robot secret and the SMTP password read from KMS, and keys the record with the KMS audit key', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('kms-bucket');
    await cloud.settle();
    await alice.putBucketACL('kms-bucket', 'public-read');
    await cloud.settle();

    const [record] = await decisionsFor(cloud, 'PutBucketAcl', 'kms-bucket');
    expect(record?.decision).toBe('remediated');
    // The local robot refuses a message whose signature was not made with its secret.
    expect(cloud.dingtalk.messages()).toHaveLength(1);
    // The local SMTP server takes mail only after AUTH with the password that sits in KMS alone.
    const mails = cloud.smtp.messages();
    expect(mails).toHaveLength(1);
    expect(mails[0]?.user).toBe(LOCAL_SMTP_USER);
    expect(mails[0]?.mail.text).toContain('kms-bucket');
    expect(record?.macKeyId).toBe(`kms:${LOCAL_SECRET_NAMES.auditKey}`);
    const key = auditKeyOf(values[1], LOCAL_SECRET_NAMES.auditKey);
    expect(record && recordSeal(record, key)).toBe('verified');
    // The message took a slot of the DingTalk budget every instance shares.
    const slots = await cloud
      .adminClient(cloud.auditBucket)
      .listV2({ prefix: 'ossguard/audit/alert-budget/' }, {});
    expect(slots.objects?.length).toBe(1);
  });

  it('puts no secret value in logs, audit records or the alerts themselves', async () => {
    const places = [
      cloud.fc.logs.map((line) => line.message).join('\n'),
      JSON.stringify(await auditRecords(cloud)),
      cloud.smtp
        .messages()
        .map((m) => m.raw)
        .join('\n'),
      JSON.stringify(cloud.dingtalk.messages()),
    ];
    for (const text of places) for (const value of values) expect(text).not.toContain(value);
  });

  it('alerts by email with the password read from KMS when a key is disabled by hand with `ossguard incident --disable`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ossguard-kms-incident-'));
    useLocalState(cloud, dir);
    try {
      const { key } = cloud.identities.userWithKey('kms-leaky');
      const { code, stderr } = await runCli('incident', key.accessKeyId, '--disable', '--local', '--json');
      expect(stderr).toContain('remediated');
      expect(code).toBe(0);
      const mails = cloud.smtp.messages().filter((m) => m.mail.text?.includes(key.accessKeyId));
      expect(mails.map((m) => m.user)).toEqual([LOCAL_SMTP_USER]);
    } finally {
      restoreLocalState();
    }
  });

  it('refuses a function role policy read of a secret it was not granted', async () => {
    const fn = cloud.functionCredentials('probe');
    const kms = kmsSecrets(fn, cloud.region, cloud.endpoints.kms);
    await expect(kms.getSecretValue(LOCAL_SECRET_NAMES.auditKey)).resolves.toBe(values[1]);
    cloud.kms.putSecret('someone-elses-secret', 'not for ossguard');
    await expect(kms.getSecretValue('someone-elses-secret')).rejects.toMatchObject({ code: 'Forbidden.RAM' });
  });
});
