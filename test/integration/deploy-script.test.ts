import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * deploy/deploy.sh drives the real `s` CLI over the project's s.yaml, once per region of OSSGUARD_REGIONS.
 * Deploying needs Alibaba Cloud, so the fc3 component is swapped for a local stand-in (Serverless Devs loads
 * a component from a path offline, F-SDEVS-COMPONENT-PATH) that records each call; everything else,
 * the rendering, the resource selection, the global pre-deploy actions, is what a real run does.
 */
const run = promisify(execFile);

const STUB = `
const { appendFileSync } = require('node:fs');
const record = (command, inputs) =>
  appendFileSync(process.env.DEPLOY_CALLS, JSON.stringify({ command, fn: inputs.props.functionName, region: inputs.props.region }) + '\\n');
module.exports = class {
  async deploy(inputs) { record('deploy', inputs); return {}; }
  async remove(inputs) { record('remove', inputs); return {}; }
};
`;

let dir: string;
let calls: string;

const sBin = (): string => {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@serverless-devs/s/package.json');
  return resolve(dirname(manifest), (require(manifest) as { bin: { s: string } }).bin.s);
};

async function deploySh(command: 'deploy' | 'remove', regions: string) {
  writeFileSync(calls, '');
  const { stderr } = await run('bash', [resolve('deploy/deploy.sh'), command], {
    cwd: dir,
    env: {
      ...process.env,
      OSSGUARD_REGIONS: regions,
      OSSGUARD_S: `${process.execPath} ${sBin()}`,
      DEPLOY_CALLS: calls,
      // Fake: the stand-in component never uses them, but `s` resolves credentials before calling it.
      AccountID: '1234567890123456',
      AccessKeyID: 'LTAI-fake-deploy-test',
      AccessKeySecret: 'fake',
    },
    timeout: 120_000,
  });
  const lines = readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  return {
    calls: lines.map((l) => JSON.parse(l) as { command: string; fn?: string; region?: string }),
    stderr,
  };
}

const callsOf = (list: Array<{ command: string; fn?: string; region?: string }>, command: string) =>
  list
    .filter((c) => c.command === command)
    .map((c) => `${c.fn}@${c.region}`)
    .sort();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ossguard-deploy-sh-'));
  calls = join(dir, 'calls.jsonl');
  mkdirSync(join(dir, 'fc3-stand-in'));
  writeFileSync(join(dir, 'fc3-stand-in', 'index.js'), STUB);
  writeFileSync(join(dir, 'fc3-stand-in', 'package.json'), '{"name":"fc3-stand-in","main":"index.js"}');
  copyFileSync('ossguard.config.yaml', join(dir, 'ossguard.config.yaml'));
  const sYaml = readFileSync('s.yaml', 'utf8')
    .replaceAll('component: fc3@0.1.22', 'component: ./fc3-stand-in')
    // The real actions build and bootstrap; here each run of them is one recorded line.
    .replace(/- run: npm run build\n/, `- run: echo '{"command":"pre-deploy"}' >> ${calls}\n`)
    .replace(/- run: node bin\/ossguard\.mjs bootstrap\n/, '- run: "true"\n');
  writeFileSync(join(dir, 's.yaml'), sYaml);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The EventBridge fast-path functions: those whose region follows OSSGUARD_REGION in s.yaml. */
const FAST_PATH = ['oss-acl-guard', 'oss-policy-guard'];
const HOME_ONLY = ['access-key-guard', 'oss-sweeper', 'trail-guard'];

describe('deploy/deploy.sh', () => {
  it('deploys everything to the home region, the fast path to the other supported regions, and runs pre-deploy once', async () => {
    const { calls: made } = await deploySh('deploy', 'cn-hangzhou, cn-beijing');
    expect(callsOf(made, 'deploy')).toEqual(
      [
        ...[...HOME_ONLY, ...FAST_PATH].map((f) => `${f}@cn-hangzhou`),
        ...FAST_PATH.map((f) => `${f}@cn-beijing`),
      ].sort(),
    );
    expect(made.filter((c) => c.command === 'pre-deploy')).toHaveLength(1);
    expect(made[0]?.command).toBe('pre-deploy');
  }, 120_000);

  it('removes the same functions from the same regions', async () => {
    const { calls: removed } = await deploySh('remove', 'cn-hangzhou cn-beijing');
    const { calls: deployed } = await deploySh('deploy', 'cn-hangzhou cn-beijing');
    expect(callsOf(removed, 'remove')).toEqual(callsOf(deployed, 'deploy'));
  }, 240_000);

  it('deploys to one region when OSSGUARD_REGIONS names one', async () => {
    const { calls: made } = await deploySh('deploy', 'ap-southeast-1');
    expect(new Set(callsOf(made, 'deploy').map((c) => c.split('@')[1]))).toEqual(new Set(['ap-southeast-1']));
  }, 120_000);

  it('puts no EventBridge function where the bus receives no OSS events, and says the trail covers it', async () => {
    const { calls: made, stderr } = await deploySh('deploy', 'eu-central-1 cn-beijing me-east-1');
    expect(callsOf(made, 'deploy')).toEqual(
      [...HOME_ONLY.map((f) => `${f}@eu-central-1`), ...FAST_PATH.map((f) => `${f}@cn-beijing`)].sort(),
    );
    expect(made.filter((c) => c.command === 'pre-deploy')).toHaveLength(1);
    expect(stderr).toMatch(/me-east-1 receives no OSS events on EventBridge; the trail's logstore/);
  }, 180_000);
});
