import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = join(process.cwd(), 'bin', 'ossguard.mjs');
const samples = join(process.cwd(), 'test', 'fixtures', 'events');

describe('`ossguard local` and `ossguard invoke --local`, as a user runs them', () => {
  const env = {
    ...process.env,
    OSSGUARD_LOCAL_STATE: join(mkdtempSync(join(tmpdir(), 'ossguard-cli-')), 'ready.json'),
  };
  let local: ChildProcess;
  let output = '';

  beforeAll(async () => {
    local = spawn(process.execPath, [cli, 'local'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`no ready line:\n${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ossguard local ready ')) {
          clearTimeout(timer);
          ready();
        }
      };
      local.stdout?.on('data', read);
      local.stderr?.on('data', read);
      local.once('exit', (code) => fail(new Error(`exited ${code}:\n${output}`)));
    });
  }, 90_000);

  afterAll(() => {
    local?.kill('SIGINT');
  });

  it('runs the demo: the public bucket and object are reverted, each audited, and the DingTalk message is rendered', () => {
    expect(output).toMatch(/demo-public-website ACL is now private/);
    expect(output).toMatch(/index\.html ACL is now private/);
    expect(output).toMatch(/oss-acl-guard remediated PutBucketAcl/);
    expect(output).toMatch(/oss-acl-guard remediated PutObjectAcl/);
    expect(output).not.toMatch(/audit ossguard\/audit\/intents\//);
    expect(output).toMatch(/DingTalk message the local robot received:\n### .*HIGH/);
  });

  it("prints no warning line on `npm start`'s first screen, up to the ready line", () => {
    const screen = output.slice(0, output.indexOf('ossguard local ready '));
    expect(screen).not.toMatch(/warn|deprecat|YAML|refreshSTSToken/i);
  });

  it('prints one ready line with the endpoints and the administrator keys, but no STS session', () => {
    const line = output.split('\n').find((l) => l.startsWith('ossguard local ready '));
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
