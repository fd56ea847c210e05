import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { FAST_LOOKUP_PER_SECOND, startCloud } from './local-cloud';

/**
 * Every command of the README's command table, with the arguments the README shows, run in order against the
 * local cloud (with `--local` where the command takes it), as a newcomer would copy them.
 */
const README = readFileSync(join(process.cwd(), 'README.md'), 'utf8');

function readmeCommands(): string[] {
  const section = README.slice(README.indexOf('## Command line'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  return [...table.matchAll(/^\| `ossguard ([^`]+)`/gm)].map(([, command]) =>
    (command ?? '').replaceAll('\\|', '|'),
  );
}

let cloud: LocalCloud;
let dir: string;
/** Filled once `audit list` has run: `audit show <id>` shows the first record it listed. */
let eventId = '';

/** What each placeholder of the table stands for in this run. */
const placeholders: Record<string, () => string> = {
  '<function>': () => 'oss-acl-guard',
  '<event-file|->': () => join('test', 'fixtures', 'events', 'actiontrail-PutBucket-root-account.json'),
  '<file|->': () => join('test', 'fixtures', 'policies', 'https-only-ram-user-read-write.json'),
  '<7d|time>': () => '7d',
  '<id>': () => eventId,
  '<n>': () => '1',
  // The local cloud's operator key: every call this run makes with it is in the trail.
  '<AccessKeyId>': () => cloud.identities.rootKey.accessKeyId,
};

function argsOf(command: string): string[] {
  return command.split(' ').map((word) => {
    if (!word.startsWith('<')) return word;
    const value = placeholders[word];
    if (!value) throw new Error(`the README shows ${word}, which this test cannot fill in`);
    return value();
  });
}

beforeAll(async () => {
  cloud = await startCloud({}, { lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND });
  dir = mkdtempSync(join(tmpdir(), 'ossguard-readme-'));
  useLocalState(cloud, dir);
  // A change for the audit commands to find.
  const { key } = cloud.identities.userWithKey('readme-user');
  await cloud.ossClient(key).putBucket('readme-bucket');
  await cloud.ossClient(key).putBucketACL('readme-bucket', 'public-read');
  await cloud.settle();
}, 60_000);

afterAll(async () => {
  restoreLocalState();
  await cloud?.stop();
});

describe("the README's command table", () => {
  const commands = readmeCommands();

  it('lists the commands this test runs', () => {
    expect(
      commands.map((c) =>
        c
          .split(' ')
          .slice(0, c.startsWith('audit') ? 2 : 1)
          .join(' '),
      ),
    ).toEqual([
      'local',
      'invoke',
      'check-policy',
      'audit list',
      'audit show',
      'audit report',
      'audit lock',
      'audit verify',
      'replay',
      'scan',
      'bootstrap',
      'verify',
      'doctor',
      'incident',
    ]);
  });

  // `ossguard local` runs as a process of its own in cli-local.test.ts and cli-local-plain.test.ts.
  it.each(commands.filter((c) => c !== 'local'))(
    '`ossguard %s` runs as shown and exits 0',
    async (command) => {
      // The incident row says one run writes the JSON and the HTML beside the summary: this run asks for both.
      const outputs = command.startsWith('incident')
        ? ['--json', join(dir, 'incident.json'), '--html', join(dir, 'incident.html')]
        : [];
      const args = [...argsOf(command), ...outputs];
      const { stdout: help } = await runCli(...args.slice(0, command.startsWith('audit') ? 2 : 1), '--help');
      const local = help.includes('--local') ? ['--local'] : [];
      const cwd = process.cwd();
      // `audit report` writes into the current folder.
      if (command === 'audit report') process.chdir(dir);
      let result: Awaited<ReturnType<typeof runCli>>;
      try {
        result = await runCli(...args, ...local);
      } finally {
        process.chdir(cwd);
      }
      expect(result.stderr).not.toMatch(/^error:|Warning/m);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      if (command === 'audit list') {
        const list = await runCli(...args, ...local, '--json');
        eventId = (JSON.parse(list.stdout.split('\n')[0] ?? '{}') as { eventId: string }).eventId;
        expect(eventId).toBeTruthy();
      }
      if (command === 'audit report') {
        const path = /wrote (\S+\.html)/.exec(result.stderr)?.[1] ?? '';
        expect(path.startsWith(join(dir, 'ossguard-report-'))).toBe(true);
        expect(readFileSync(path, 'utf8')).toContain('readme-bucket');
      }
      if (command.startsWith('incident')) {
        // One run: the summary in the terminal, the JSON and the HTML in their files.
        const key = cloud.identities.rootKey.accessKeyId;
        expect(result.stdout).toContain(`Incident report for AccessKey ${key}`);
        expect(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8'))).toMatchObject({
          accessKeyId: key,
        });
        expect(readFileSync(join(dir, 'incident.html'), 'utf8')).toContain('<svg class="timeline"');
      }
    },
    60_000,
  );
});

describe('`ossguard bootstrap --local --dry-run`', () => {
  it('plans without audit.region even when OSSGUARD_REGIONS lists regions for a real deployment', async () => {
    vi.stubEnv('OSSGUARD_REGIONS', 'cn-hangzhou cn-beijing');
    try {
      const { code, stdout, stderr } = await runCli('bootstrap', '--local', '--dry-run');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/audit bucket ossguard-audit \(cn-hangzhou\)/);
    } finally {
      vi.unstubAllEnvs();
    }
  }, 60_000);
});
