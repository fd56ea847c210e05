import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCli, startLocalCli } from '../helpers/local-cli';

const run = promisify(execFile);
const cli = join(process.cwd(), 'bin', 'ossguard.mjs');
const samples = join(process.cwd(), 'test', 'fixtures', 'events');

describe('`ossguard local` and `ossguard invoke --local`, as a user runs them', () => {
  const env = {
    ...process.env,
    OSSGUARD_LOCAL_STATE: join(mkdtempSync(join(tmpdir(), 'ossguard-cli-')), 'ready.json'),
  };
  let local: LocalCli;

  beforeAll(async () => {
    local = await startLocalCli([], { env });
  }, 90_000);

  afterAll(() => {
    local?.child.kill('SIGINT');
  });

  it('runs the demo: the public bucket and object are reverted, each audited, and the DingTalk message is rendered', () => {
    expect(local.output).toMatch(/demo-public-website ACL is now private/);
    expect(local.output).toMatch(/index\.html ACL is now private/);
    expect(local.output).toMatch(/oss-acl-guard remediated PutBucketAcl/);
    expect(local.output).toMatch(/oss-acl-guard remediated PutObjectAcl/);
    expect(local.output).not.toMatch(/audit ossguard\/audit\/intents\//);
    expect(local.output).toMatch(/DingTalk message the local robot received:\n### .*HIGH/);
  });

  it("prints no warning line on `npm start`'s first screen, up to the ready line", () => {
    const screen = local.output.slice(0, local.output.indexOf('ossguard local ready '));
    expect(screen).not.toMatch(/warn|deprecat|YAML|refreshSTSToken/i);
  });

  it('prints one ready line with the endpoints and the administrator keys, but no STS session', () => {
    const line = local.output.split('\n').find((l) => l.startsWith('ossguard local ready '));
    const info = JSON.parse(line?.slice('ossguard local ready '.length) ?? '{}') as Record<string, string>;
    expect(info).toMatchObject({ region: 'cn-hangzhou', auditBucket: 'ossguard-audit' });
    for (const key of ['oss', 'ram', 'actiontrail', 'dingtalk', 'smtp', 'accessKeyId', 'accessKeySecret']) {
      expect(info[key], key).toBeTruthy();
    }
    expect(line).not.toMatch(/securityToken|functionCredentials/);
  });

  it.each(readdirSync(samples).filter((f) => f.endsWith('.json')))(
    'invokes oss-acl-guard with the real sample %s and prints its decision as JSON lines',
    async (sample) => {
      const { stdout } = await run(
        process.execPath,
        [cli, 'invoke', 'oss-acl-guard', join(samples, sample), '--local'],
        {
          env,
        },
      ).catch((error: { stdout: string; code: number }) => ({ stdout: error.stdout }));
      const decisions = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { decision: string; reason: string });
      expect(decisions.length).toBeGreaterThan(0);
      for (const d of decisions) expect(['skipped', 'failed']).toContain(d.decision);
      if (sample === 'actiontrail-PutBucket-root-account.json') {
        expect(decisions[0]?.reason).toMatch(/bucket test-123 no longer exists/);
      }
    },
  );

  it('documents itself in --help', async () => {
    const { stdout } = await run(process.execPath, [cli, 'local', '--help']);
    expect(stdout).toMatch(/--port <port>/);
    expect(stdout).toMatch(/--no-demo/);
    expect(stdout).toMatch(/ossguard local ready/);
  });
});
