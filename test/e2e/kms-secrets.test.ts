import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { olderAuditKeys, resolveAuditKey } from '../../cli/audit/location';
import { LOCAL_SECRET_NAMES, LOCAL_SMTP_USER, type LocalCloud } from '../../local/cloud';
import { recordSeal } from '../../shared/audit/record';
import { AuditStore } from '../../shared/audit/store';
import { verifyAudit } from '../../shared/audit/verify';
import { CallLog } from '../../shared/clients/calllog';
import { KMS_VERSION, kmsSecrets } from '../../shared/clients/kms';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { rpcCaller } from '../../shared/clients/rpc-call';
import { DEFAULT_AUDIT_PREFIX, parseConfig } from '../../shared/config';
import { auditKeyOf } from '../../shared/config/secrets';
import { renderSYaml } from '../../shared/deployment/syaml';
import { keepSnapshot, latestSnapshot } from '../../shared/guards/policy-snapshots';
import { deferWork } from '../../shared/pipeline/deferred';
import { replayLocal, restoreLocalState, rootTarget, runCli, useLocalState } from '../helpers/cli';
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
    expect(record?.macKeyId).toBe(`kms:${LOCAL_SECRET_NAMES.auditKey}@v1`);
    const key = auditKeyOf(values[1], LOCAL_SECRET_NAMES.auditKey, 'v1');
    expect(record && recordSeal(record, key)).toBe('verified');
    // The message took a slot of the DingTalk budget every instance shares.
    const slots = await cloud
      .adminClient(cloud.auditBucket)
      .listV2({ prefix: 'ossguard/audit/alert-budget/' }, {});
    expect(slots.objects?.length).toBe(1);
    // In a window directory keyed with the audit key read from KMS, not the guessable window start, under a
    // slot name keyed with it too.
    expect(slots.objects?.[0]?.name).toMatch(
      /^ossguard\/audit\/alert-budget\/[0-9a-f]{16}\/[0-9a-f]{32}\/000-[0-9a-f]{32}$/,
    );
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

  it('verifies the records made before and after the audit key is rotated, each with its own version', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('before-rotation');
    await alice.putBucket('after-rotation');
    await cloud.settle();
    await alice.putBucketACL('before-rotation', 'public-read');
    await cloud.settle();

    // An administrator rotates the key: a new version becomes ACSCurrent (F-KMS-PUTSECRETVALUE).
    const { rootKey } = cloud.identities;
    const admin = rpcCaller(
      rootKey,
      { version: KMS_VERSION, host: `kms.${cloud.region}.aliyuncs.com`, region: cloud.region },
      cloud.endpoints.kms,
    );
    await admin('PutSecretValue', {
      SecretName: LOCAL_SECRET_NAMES.auditKey,
      SecretData: 'the-rotated-local-audit-key-0123456789',
      VersionId: 'v2',
    });
    // A changed configuration starts fresh instances, which read the secrets anew.
    cloud.setConfig({ maxRemediationsPerInvocation: 24 });
    await alice.putBucketACL('after-rotation', 'public-read');
    await cloud.settle();

    const [before] = await decisionsFor(cloud, 'PutBucketAcl', 'before-rotation');
    const [after] = await decisionsFor(cloud, 'PutBucketAcl', 'after-rotation');
    expect(before?.macKeyId).toBe(`kms:${LOCAL_SECRET_NAMES.auditKey}@v1`);
    expect(after?.macKeyId).toBe(`kms:${LOCAL_SECRET_NAMES.auditKey}@v2`);
    // EventBridge delivers the change made before the rotation again: its record, made with v1, says handled.
    const earlier = cloud.bus
      .history()
      .find(
        (e) =>
          e.data.eventName === 'PutBucketAcl' &&
          e.data.referencedResources['ACS::OSS::Bucket']?.[0] === 'before-rotation',
      );
    const again = await cloud.bus.invoke('oss-acl-guard', JSON.stringify(earlier));
    const decisions = again.ok ? (again.result as { decisions: Array<{ decision: string }> }).decisions : [];
    expect(decisions.map((d) => d.decision)).toEqual(['duplicate']);

    // As `ossguard audit verify` reads the key: ACSCurrent, and each earlier version a MAC names.
    const config = parseConfig(cloud.functionEnv().OSSGUARD_CONFIG ?? '{}');
    const location = { target: rootTarget(cloud), config };
    const key = await resolveAuditKey(location);
    const olderKeys = olderAuditKeys(location);
    expect(key?.id).toBe(`kms:${LOCAL_SECRET_NAMES.auditKey}@v2`);
    const gateway = new OssGateway(
      new OssClientFactory({ credentials: rootKey, endpoint: cloud.endpoints.oss }),
      cloud.region,
      new CallLog(),
    );
    const verification = await verifyAudit(new AuditStore(gateway, cloud.auditBucket, DEFAULT_AUDIT_PREFIX), {
      ...(key ? { key } : {}),
      ...(olderKeys ? { olderKeys } : {}),
    });
    expect(verification.findings.filter((f) => f.kind === 'forged')).toEqual([]);
    const by = verification.verifiedBy;
    expect(by[`kms:${LOCAL_SECRET_NAMES.auditKey}@v1`]?.records).toBeGreaterThan(0);
    expect(by[`kms:${LOCAL_SECRET_NAMES.auditKey}@v2`]?.records).toBeGreaterThan(0);
    cloud.setConfig({});

    // `ossguard replay` believes the record v1 sealed, as the pipeline does: the change is not handled again.
    const dir = mkdtempSync(join(tmpdir(), 'ossguard-kms-replay-'));
    useLocalState(cloud, dir);
    try {
      const { events: replayed } = await replayLocal('--dry-run', '--since', '1h');
      const beforeId = earlier?.data.eventId;
      expect(replayed.find((e) => e.eventId === beforeId)?.outcome).toBe('already-handled');
    } finally {
      restoreLocalState();
    }
  });

  it('restores a policy snapshot sealed with the audit key version before a rotation', async () => {
    const { rootKey } = cloud.identities;
    const kms = kmsSecrets(rootKey, cloud.region, cloud.endpoints.kms);
    const read = (stage: 'ACSCurrent' | 'ACSPrevious') =>
      kms.getSecretVersion(LOCAL_SECRET_NAMES.auditKey, { stage });
    const [current, previous] = await Promise.all([read('ACSCurrent'), read('ACSPrevious')]);
    const keyOf = (v: { value: string; versionId: string }) =>
      auditKeyOf(v.value, LOCAL_SECRET_NAMES.auditKey, v.versionId);
    const gateway = new OssGateway(
      new OssClientFactory({ credentials: rootKey, endpoint: cloud.endpoints.oss }),
      cloud.region,
      new CallLog(),
    );
    const snapshot = {
      bucket: 'snapshot-before-rotation',
      policy: '{"Version":"1","Statement":[]}',
      takenAt: new Date(Date.now() - 60_000).toISOString(),
      eventId: 'snapshot-sealed-with-v1',
    };
    await keepSnapshot(gateway, cloud.auditBucket, snapshot, keyOf(previous));
    const found = await latestSnapshot(
      gateway,
      cloud.auditBucket,
      snapshot.bucket,
      keyOf(current),
      new Date(),
      keyOf(previous),
    );
    expect(found?.snapshot).toEqual(snapshot);
  });

  it('still drains deferred work sealed with the audit key version before a rotation', async () => {
    const alice = userClient(cloud, 'alice');
    const bucket = 'sealed-before-rotation';
    await alice.putBucket(bucket);
    await cloud.settle();
    await cloud.unobserved(() => alice.putBucketACL(bucket, 'public-read'));
    // The queue item trail-guard would have written before the rotation: sealed with the version then current.
    const { rootKey } = cloud.identities;
    const kms = kmsSecrets(rootKey, cloud.region, cloud.endpoints.kms);
    const sealedWith = await kms.getSecretVersion(LOCAL_SECRET_NAMES.auditKey, { stage: 'ACSPrevious' });
    const gateway = new OssGateway(
      new OssClientFactory({ credentials: rootKey, endpoint: cloud.endpoints.oss }),
      cloud.region,
      new CallLog(),
    );
    const now = new Date();
    const record = {
      eventId: 'queued-before-rotation',
      eventVersion: 1,
      eventName: 'PutBucketAcl',
      eventType: 'ApiCall',
      eventTime: now.toISOString(),
      serviceName: 'Oss',
      acsRegion: cloud.region,
      userIdentity: { type: 'ram-user', userName: 'alice', accountId: cloud.identities.accountId },
      requestParameters: { BucketName: bucket, 'x-oss-acl': 'public-read' },
      referencedResources: { 'ACS::OSS::Bucket': [bucket] },
    };
    await cloud.unobserved(() =>
      deferWork(
        {
          gateway,
          bucket: cloud.auditBucket,
          key: auditKeyOf(sealedWith.value, LOCAL_SECRET_NAMES.auditKey, sealedWith.versionId),
        },
        {
          from: 'before-rotation',
          reason: 'test',
          deferredAt: now.toISOString(),
          attempt: 0,
          routes: { 'oss-acl-guard': [record] },
        },
      ),
    );
    // The sweep's timer drains the queue, with the functions holding the rotated key (v2).
    const outcome = await cloud.bus.invoke(
      'oss-sweeper',
      JSON.stringify({
        triggerTime: now.toISOString(),
        triggerName: 'hourly-sweep',
        payload: '{"deadlineMs":0}',
      }),
    );
    expect(outcome.ok).toBe(true);
    expect((await alice.getBucketACL(bucket)).acl).toBe('private');
    const records = (await auditRecords(cloud)).filter((r) => r.eventId === 'queued-before-rotation');
    expect(records.map((r) => r.decision)).toEqual(['remediated']);
  });
});
