import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveTarget } from '../../cli/target';
import type { LocalCloud } from '../../local/cloud';
import { noAmbientCredentials, restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { startCloud } from './local-cloud';

/**
 * The CLI takes its credentials as the official tools do (F-CREDENTIALS-CHAIN): a profile of the aliyun
 * CLI named with --profile, the environment, or the default chain. Profiles here hold keys of the local
 * cloud, which checks every signature, so a command that succeeds signed with the profile's key.
 */
let cloud: LocalCloud;
let home: string;

/** Writes ~/.aliyun/config.json as `aliyun configure` would, under a fresh HOME. */
function aliyunProfiles(profiles: Array<Record<string, unknown>>, current = 'default'): void {
  mkdirSync(join(home, '.aliyun'), { recursive: true });
  writeFileSync(join(home, '.aliyun', 'config.json'), JSON.stringify({ current, profiles }));
}

beforeAll(async () => {
  cloud = await startCloud();
  useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-credentials-')));
});

afterAll(async () => {
  restoreLocalState();
  await cloud?.stop();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('`--profile` on a command that reaches the cloud', () => {
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
  });

  it('signs with the AccessKey of the named aliyun CLI profile', async () => {
    noAmbientCredentials(home);
    const { key } = cloud.identities.userWithKey('ops-admin');
    const forged = { ...key, accessKeySecret: `${key.accessKeySecret}x` };
    aliyunProfiles([
      {
        name: 'default',
        mode: 'AK',
        access_key_id: forged.accessKeyId,
        access_key_secret: forged.accessKeySecret,
      },
      { name: 'ops', mode: 'AK', access_key_id: key.accessKeyId, access_key_secret: key.accessKeySecret },
    ]);
    const good = await runCli('scan', '--local', '--profile', 'ops');
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    const bad = await runCli('scan', '--local', '--profile', 'default');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/SignatureDoesNotMatch/);
  });

  it('uses the STS token of a StsToken profile, and ali-oss prints no refreshSTSToken warning', async () => {
    noAmbientCredentials(home);
    const session = cloud.functionCredentials('cli');
    aliyunProfiles([
      {
        name: 'sts',
        mode: 'StsToken',
        access_key_id: session.accessKeyId,
        access_key_secret: session.accessKeySecret,
        sts_token: session.securityToken,
      },
    ]);
    const { code, stderr } = await runCli('audit', 'list', '--local', '--profile', 'sts');
    expect(stderr).not.toMatch(/refreshSTSToken/);
    expect(code).toBe(0);
  });

  it('names the profile when it does not exist', async () => {
    noAmbientCredentials(home);
    aliyunProfiles([{ name: 'default', mode: 'AK', access_key_id: 'LTAIx', access_key_secret: 'y' }]);
    const { code, stderr } = await runCli('doctor', '--local', '--profile', 'nobody');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/no credentials from profile nobody of the aliyun CLI/);
  });

  it.each(['scan', 'replay', 'bootstrap', 'verify', 'doctor', 'audit list', 'invoke'])(
    '%s takes --profile',
    async (command) => {
      const { stdout } = await runCli(...command.split(' '), '--help');
      expect(stdout).toMatch(/--profile <name>/);
    },
  );
});

describe('the default credential chain, without --profile', () => {
  it('reads the current profile of the aliyun CLI, or the one ALIBABA_CLOUD_PROFILE names', async () => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
    noAmbientCredentials(home);
    aliyunProfiles([
      { name: 'default', mode: 'AK', access_key_id: 'LTAIcurrent', access_key_secret: 'current-secret' },
      { name: 'other', mode: 'AK', access_key_id: 'LTAIother', access_key_secret: 'other-secret' },
    ]);
    expect((await resolveTarget({})).credentials).toEqual({
      accessKeyId: 'LTAIcurrent',
      accessKeySecret: 'current-secret',
    });
    vi.stubEnv('ALIBABA_CLOUD_PROFILE', 'other');
    expect((await resolveTarget({})).credentials.accessKeyId).toBe('LTAIother');
  });

  it('reads the credentials file ~/.alibabacloud/credentials when the aliyun CLI has none', async () => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
    noAmbientCredentials(home);
    mkdirSync(join(home, '.alibabacloud'));
    writeFileSync(
      join(home, '.alibabacloud', 'credentials'),
      '[default]\ntype = access_key\naccess_key_id = LTAIfile\naccess_key_secret = file-secret\n',
    );
    expect((await resolveTarget({})).credentials).toEqual({
      accessKeyId: 'LTAIfile',
      accessKeySecret: 'file-secret',
    });
  });

  it('prefers the environment, an STS token included', async () => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
    noAmbientCredentials(home);
    aliyunProfiles([{ name: 'default', mode: 'AK', access_key_id: 'LTAIcli', access_key_secret: 's' }]);
    const env = {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.env',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token',
    };
    expect((await resolveTarget({}, env)).credentials).toEqual({
      accessKeyId: 'STS.env',
      accessKeySecret: 'env-secret',
      securityToken: 'env-token',
    });
  });

  it('never prints the aliyun CLI config file it cannot parse: it holds AccessKey secrets', async () => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
    noAmbientCredentials(home);
    mkdirSync(join(home, '.aliyun'));
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      '{"current": "default", "profiles": [{"name": "default", "access_key_secret": "SECRET-in-config",}]}',
    );
    for (const profile of [undefined, 'default']) {
      const error = await resolveTarget(profile ? { profile } : {}, {}).then(
        () => new Error('resolved'),
        (e: Error) => e,
      );
      expect(error.message).toMatch(/config\.json/);
      expect(error.message).not.toContain('SECRET-in-config');
    }
  });

  it('says every way to provide credentials when the chain finds none', async () => {
    noAmbientCredentials(mkdtempSync(join(tmpdir(), 'ossguard-home-')));
    await expect(resolveTarget({}, {})).rejects.toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID.*--profile/s);
  });
});
