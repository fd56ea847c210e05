import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCli, startLocalCli } from '../helpers/local-cli';

const run = promisify(execFile);
const root = process.cwd();
const cli = join(root, 'bin', 'ossguard.mjs');

/** The README's ali-oss example for `ossguard local --no-guards`. */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const from = readme.indexOf('`ossguard local --no-guards` serves');
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(from))?.[1];
  if (!block) throw new Error('README.md shows no ali-oss example for --no-guards');
  return block;
}

describe('`ossguard local --no-guards`, as the README shows it', () => {
  // A project folder of the user's own: the state file lands in its .ossguard-local/, as documented.
  const project = mkdtempSync(join(tmpdir(), 'ossguard-plain-'));
  const env = { ...process.env };
  delete env.OSSGUARD_LOCAL_STATE;
  let local: LocalCli;

  beforeAll(async () => {
    symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'));
    local = await startLocalCli(['--no-guards'], { cwd: project, env });
  }, 90_000);

  afterAll(() => {
    local?.child.kill('SIGINT');
  });

  it('prints no warning line and no demo before the ready line, and says no function is deployed', () => {
    const screen = local.output.slice(0, local.output.indexOf('ossguard local ready '));
    expect(screen).not.toMatch(/warn|deprecat|error/i);
    expect(screen).not.toMatch(/^demo:/m);
    expect(screen).toMatch(/no function deployed \(--no-guards\)/);
  });

  it("runs the README's ali-oss example, and the public bucket stays public: nothing reacts", async () => {
    writeFileSync(join(project, 'example.mjs'), readmeSnippet());
    const { stderr } = await run(process.execPath, ['example.mjs'], { cwd: project, env });
    expect(stderr).toBe('');
    const state = JSON.parse(readFileSync(join(project, '.ossguard-local', 'ready.json'), 'utf8')) as {
      oss: string;
      region: string;
      accessKeyId: string;
      accessKeySecret: string;
    };
    const client = new OSS({
      endpoint: state.oss,
      region: `oss-${state.region}`,
      accessKeyId: state.accessKeyId,
      accessKeySecret: state.accessKeySecret,
      bucket: 'my-test-bucket',
    });
    await new Promise((settled) => setTimeout(settled, 1500));
    expect((await client.getBucketACL('my-test-bucket')).acl).toBe('public-read');
    expect((await client.get('hello.txt')).content.toString()).toBe('hello');
  });

  it('answers `doctor --local` with its functions missing, since nothing is deployed', async () => {
    const result = await run(process.execPath, [cli, 'doctor', '--local'], { cwd: project, env }).catch(
      (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
    );
    expect(result.stdout).toMatch(/✗ function oss-acl-guard/);
  });
});

describe('two `ossguard local` in one folder', () => {
  it('the one that stops first leaves the state file of the one started after it', async () => {
    const project = mkdtempSync(join(tmpdir(), 'ossguard-two-'));
    const env = { ...process.env };
    delete env.OSSGUARD_LOCAL_STATE;
    const state = join(project, '.ossguard-local', 'ready.json');
    const start = async (): Promise<{ child: ChildProcess; oss: string }> => {
      const { child, output } = await startLocalCli(['--no-guards'], { cwd: project, env });
      const line = /^ossguard local ready (.*)$/m.exec(output)?.[1] ?? '{}';
      return { child, oss: (JSON.parse(line) as { oss: string }).oss };
    };
    const first = await start();
    const second = await start();
    try {
      const stopped = new Promise((done) => first.child.once('exit', done));
      first.child.kill('SIGINT');
      await stopped;
      expect((JSON.parse(readFileSync(state, 'utf8')) as { oss: string }).oss).toBe(second.oss);
    } finally {
      second.child.kill('SIGINT');
    }
  }, 120_000);
});
