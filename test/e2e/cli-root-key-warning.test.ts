import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { warnIfRootAccount } from '../../cli/caller-identity';
import type { LocalState } from '../../cli/target';
import { LocalCloud } from '../../local/cloud';
import {
  aliyunProfiles,
  noAmbientCredentials,
  restoreLocalState,
  runCli,
  useLocalState,
} from '../helpers/cli';

/**
 * Commands that reach the cloud ask STS GetCallerIdentity who they run as and warn when it is the account's
 * own key (F-STS-IDENTITYTYPE-ACCOUNT, F-ROOT-ACCESSKEY-RISK). The profiles hold keys of the local cloud,
 * whose STS answers for whichever key signed the call.
 */
let cloud: LocalCloud;
let dir: string;
const WARNING = /warning: these credentials are the AccessKey of Alibaba Cloud account \d+ itself/g;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ossguard-root-warning-'));
  cloud = await LocalCloud.start({ noGuards: true, stateDir: dir });
  useLocalState(cloud, dir);
});

afterAll(async () => {
  restoreLocalState();
  await cloud?.stop();
});

beforeEach(() => {
  const home = mkdtempSync(join(tmpdir(), 'ossguard-home-'));
  noAmbientCredentials(home);
  const { key } = cloud.identities.userWithKey('ops-admin');
  const { rootKey } = cloud.identities;
  aliyunProfiles(home, [
    {
      name: 'root',
      mode: 'AK',
      access_key_id: rootKey.accessKeyId,
      access_key_secret: rootKey.accessKeySecret,
    },
    { name: 'ops', mode: 'AK', access_key_id: key.accessKeyId, access_key_secret: key.accessKeySecret },
  ]);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the warning when the CLI runs on a root account key', () => {
  it.each(['scan', 'audit list', 'doctor'])(
    '%s with the local root key warns once, says why and what to do, and still runs',
    async (command) => {
      const quiet = await runCli(...command.split(' '), '--local', '--profile', 'ops');
      const { code, stdout, stderr } = await runCli(...command.split(' '), '--local', '--profile', 'root');
      expect(stderr.match(WARNING)).toHaveLength(1);
      expect(stderr).toContain(`account ${cloud.identities.accountId} itself`);
      expect(stderr).toMatch(/no RAM policy narrows it/);
      expect(stderr).toMatch(/RamRoleArn profile/);
      expect(code).toBe(quiet.code);
      expect(stdout.length).toBeGreaterThan(0);
    },
  );

  it("does not warn with a RAM user's key", async () => {
    const { code, stderr } = await runCli('scan', '--local', '--profile', 'ops');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it("does not warn with the local cloud's administrator key that --local picks without --profile", async () => {
    const { stderr } = await runCli('scan', '--local');
    expect(stderr).not.toMatch(WARNING);
  });
});

describe('an STS endpoint that does not answer', () => {
  let refusing: Server;
  let refusingUrl: string;
  let closedUrl: string;

  beforeAll(async () => {
    refusing = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Code: 'Forbidden', Message: 'refused', RequestId: 'refused' }));
    });
    await new Promise<void>((done) => refusing.listen(0, '127.0.0.1', done));
    refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((done) => closed.close(done));
  });

  afterAll(async () => {
    await new Promise((done) => refusing?.close(done));
  });

  it.each([
    ['answers 403', () => refusingUrl],
    ['refuses the connection', () => closedUrl],
  ])('when it %s, a command on the root key runs without a warning', async (_how, sts) => {
    const state: LocalState = { ...cloud.readyInfo(), functionEnv: cloud.functionEnv(), sts: sts() };
    const path = join(dir, 'ready-sts.json');
    writeFileSync(path, JSON.stringify(state));
    vi.stubEnv('OSSGUARD_LOCAL_STATE', path);
    const { code, stderr } = await runCli('scan', '--local', '--profile', 'root');
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('on Alibaba Cloud, without --local', () => {
  it('asks the STS endpoint OSSGUARD_STS_ENDPOINT names, with the credentials of the chain', async () => {
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const { rootKey } = cloud.identities;
      const target = { kind: 'alibaba' as const, region: cloud.region, credentials: rootKey, endpoints: {} };
      await warnIfRootAccount(target, {}, { OSSGUARD_STS_ENDPOINT: cloud.endpoints.sts });
      const { key } = cloud.identities.userWithKey('ops-admin');
      await warnIfRootAccount(
        { ...target, credentials: key },
        {},
        { OSSGUARD_STS_ENDPOINT: cloud.endpoints.sts },
      );
    } finally {
      spy.mockRestore();
    }
    expect(stderr.match(WARNING)).toHaveLength(1);
  });
});
