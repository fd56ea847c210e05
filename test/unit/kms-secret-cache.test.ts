import { describe, expect, it } from 'vitest';
import type { KmsSecrets } from '../../shared/clients/kms';
import { loadRuntime } from '../../shared/config/load';
import { KmsSecretCache, SECRET_REFRESH_MS, SECRET_RETRY_MS } from '../../shared/config/secrets';

/** A KMS whose answers the test decides: counts reads, fails while `down`. */
function fakeKms() {
  const state = { reads: 0, down: false, value: 'v1' };
  const kms: KmsSecrets = {
    async getSecretValue() {
      return (await kms.getSecretVersion('')).value;
    },
    async getSecretVersion(_name, select) {
      // Never rotated: no ACSPrevious (F-KMS-PUTSECRETVALUE).
      if (select?.stage === 'ACSPrevious') throw new Error('Forbidden.ResourceNotFound');
      state.reads += 1;
      if (state.down) throw new Error('ServiceUnavailable');
      return { value: state.value, versionId: state.value };
    },
    async createSecret() {},
  };
  return { state, kms: () => kms };
}

describe('the KMS secret cache of an instance', () => {
  it('reads once for the instance, again after the refresh interval, and picks up a rotated value', async () => {
    let now = 0;
    const { state, kms } = fakeKms();
    const cache = new KmsSecretCache({ dingtalkSecret: 'robot' }, () => now);
    expect(await cache.get(kms)).toEqual({ dingtalkSecret: 'v1' });
    now += SECRET_REFRESH_MS - 1;
    await cache.get(kms);
    expect(state.reads).toBe(1);
    state.value = 'v2';
    now += 1;
    expect(await cache.get(kms)).toEqual({ dingtalkSecret: 'v2' });
    expect(state.reads).toBe(2);
  });

  it('keeps the values it has when a refresh fails, and tries again only after the retry interval', async () => {
    let now = 0;
    const { state, kms } = fakeKms();
    const cache = new KmsSecretCache({ auditKey: 'audit' }, () => now);
    await cache.get(kms);
    state.down = true;
    now += SECRET_REFRESH_MS;
    const errors: unknown[] = [];
    expect(await cache.get(kms, (e) => errors.push(e))).toEqual({ auditKey: 'v1' });
    expect(errors).toHaveLength(1);
    now += SECRET_RETRY_MS - 1;
    await cache.get(kms);
    expect(state.reads).toBe(2);
    now += 1;
    await cache.get(kms, () => {});
    expect(state.reads).toBe(3);
  });

  it('fails the first read, which has nothing to fall back on', async () => {
    const { state, kms } = fakeKms();
    state.down = true;
    await expect(new KmsSecretCache({ smtpPassword: 'smtp' }).get(kms)).rejects.toThrow('ServiceUnavailable');
  });
});

describe('secrets named in KMS', () => {
  const config = JSON.stringify({
    audit: { bucket: 'audit-bucket' },
    alerts: { dingtalk: { webhook: 'https://oapi.dingtalk.com/robot/send?access_token=abc' } },
    secrets: { dingtalkSecret: 'ossguard/robot' },
  });

  it('need no robot secret in the environment', () => {
    expect(loadRuntime({ OSSGUARD_CONFIG: config }).secrets).toEqual({});
  });

  it('refuse the same secret in the environment too, where the function configuration would show it', () => {
    expect(() => loadRuntime({ OSSGUARD_CONFIG: config, OSSGUARD_DINGTALK_SECRET: 'SEC-x' })).toThrow(
      /OSSGUARD_DINGTALK_SECRET: must not be set when secrets.dingtalkSecret names a KMS secret/,
    );
  });
});
