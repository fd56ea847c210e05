import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveTarget } from '../../cli/target';
import type { LocalCloud } from '../../local/cloud';
import {
  aliyunProfiles,
  noAmbientCredentials,
  restoreLocalState,
  runCli,
  useLocalState,
} from '../helpers/cli';
import { startCloud } from './local-cloud';

/**
 * The CLI takes its credentials as the official tools do (F-CREDENTIALS-CHAIN): a profile of the aliyun
 * CLI named with --profile, the environment, or the default chain. Profiles here hold keys of the local
 * cloud, which checks every signature, so a command that succeeds signed with the profile's key.
 */
let cloud: LocalCloud;
let home: string;

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
    aliyunProfiles(home, [
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
    aliyunProfiles(home, [
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
    aliyunProfiles(home, [{ name: 'default', mode: 'AK', access_key_id: 'LTAIx', access_key_secret: 'y' }]);
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
    aliyunProfiles(home, [
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
    aliyunProfiles(home, [{ name: 'default', mode: 'AK', access_key_id: 'LTAIcli', access_key_secret: 's' }]);
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

/**
 * A RamRoleArn profile: @alicloud/credentials calls STS AssumeRole over HTTPS at the profile's `sts_endpoint`
 * (F-CREDENTIALS-RAMROLEARN-STS-ENDPOINT). The local cloud serves no STS, so a TLS endpoint of this test
 * stands in for it: it checks the call the SDK makes and hands out a session the local cloud really issued
 * for the role, in the fields the SDK reads. The CLI runs as a process of its own, trusting the test's
 * certificate through NODE_EXTRA_CA_CERTS.
 */
describe('a RamRoleArn profile, the recommended way', () => {
  const run = promisify(execFile);
  const certs = mkdtempSync(join(tmpdir(), 'ossguard-sts-'));
  const calls: URLSearchParams[] = [];
  let sts: Server;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1'],
        ...['-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    sts = createServer(
      { key: readFileSync(join(certs, 'key.pem')), cert: readFileSync(join(certs, 'cert.pem')) },
      (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        req.on('end', () => {
          const params = new URLSearchParams(new URL(req.url ?? '/', 'https://sts').search);
          for (const [name, value] of new URLSearchParams(body)) params.set(name, value);
          calls.push(params);
          const role = /:role\/(.+)$/.exec(params.get('RoleArn') ?? '')?.[1] ?? '';
          const session = cloud.identities.assumeRole(role, params.get('RoleSessionName') ?? '');
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              RequestId: 'local-test',
              Credentials: {
                AccessKeyId: session.accessKeyId,
                AccessKeySecret: session.accessKeySecret,
                SecurityToken: session.securityToken,
                Expiration: session.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
              },
            }),
          );
        });
      },
    );
    await new Promise<void>((listening) => sts.listen(0, '127.0.0.1', listening));
  });

  afterAll(() => {
    sts?.close();
  });

  it("assumes the role at the profile's STS endpoint and signs every call with the STS session", async () => {
    home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
    const { key } = cloud.identities.userWithKey('ossguard-runner');
    const arn = `acs:ram::${cloud.identities.accountId}:role/ossguard-fn`;
    aliyunProfiles(home, [
      {
        name: 'ossguard-admin',
        mode: 'RamRoleArn',
        access_key_id: key.accessKeyId,
        access_key_secret: key.accessKeySecret,
        ram_role_arn: arn,
        ram_session_name: 'ossguard-cli',
        expired_seconds: 900,
        sts_endpoint: `127.0.0.1:${(sts.address() as AddressInfo).port}`,
      },
    ]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      NODE_EXTRA_CA_CERTS: join(certs, 'cert.pem'),
      ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    };
    for (const name of ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET']) delete env[name];
    const cli = join(process.cwd(), 'bin', 'ossguard.mjs');
    const { stdout, stderr } = await run(
      process.execPath,
      [cli, 'scan', '--local', '--profile', 'ossguard-admin', '--json'],
      { env },
    );
    expect(stderr).toBe('');
    expect(stdout).not.toMatch(/could not be read/);
    const [call] = calls;
    expect(calls).toHaveLength(1);
    expect(call?.get('Action')).toBe('AssumeRole');
    expect(call?.get('AccessKeyId')).toBe(key.accessKeyId);
    expect(call?.get('RoleArn')).toBe(arn);
    expect(call?.get('RoleSessionName')).toBe('ossguard-cli');
  }, 60_000);
});
