import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/index';
import { policyRules } from '../../shared/rules';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/policies/${name}`, import.meta.url));

/** Runs the CLI in-process and captures what it writes. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
  const code = await main(['check-policy', ...args]);
  vi.restoreAllMocks();
  return { code, stdout: out.join(''), stderr: err.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ossguard check-policy', () => {
  it.each([
    ['an HTTPS-only grant to the owner', 'https-only-ram-user-read-write.json', [], 0],
    ['a public website at the default threshold (high)', 'public-website.json', [], 1],
    ['a public website when failing only on critical', 'public-website.json', ['--fail-on', 'critical'], 0],
    ['anonymous writes when failing only on critical', 'anonymous-write.json', ['--fail-on', 'critical'], 1],
    ['the doc example with a /16 outside any VPC', 'doc-0030-internet-cidr-not-from-vpc.json', [], 0],
    [
      'the same example when failing on medium',
      'doc-0030-internet-cidr-not-from-vpc.json',
      ['--fail-on', 'medium'],
      1,
    ],
    ['JSON that OSS would reject', 'version-2.json', [], 1],
    ['a file that is not JSON at all', 'not-json.txt', [], 2],
    ['a file that does not exist', 'missing.json', [], 2],
  ])('exits as expected for %s', async (_case, file, args, code) => {
    expect((await run(fixture(file), '--json', ...args)).code).toBe(code);
  });

  it('prints exactly {public, findings[{rule, severity, statement, message, fix}]} with --json', async () => {
    const { stdout } = await run(fixture('doc-bpa-vpc-wildcard-plus-fixed-principal.json'), '--json');
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).toEqual(['public', 'findings']);
    expect(report.public).toBe(true);
    for (const finding of report.findings)
      expect(Object.keys(finding)).toEqual(['rule', 'severity', 'statement', 'message', 'fix']);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ rule: 'anonymous-principal', severity: 'high', statement: 0 }),
    );
  });

  it('reports a JSON policy OSS would reject as an invalid-policy finding', async () => {
    const { stdout } = await run(fixture('version-2.json'), '--json');
    expect(JSON.parse(stdout).findings).toContainEqual(
      expect.objectContaining({ rule: 'invalid-policy', statement: null }),
    );
  });

  it('says why input is unusable on stderr and prints no report', async () => {
    const { stdout, stderr } = await run(fixture('not-json.txt'), '--json');
    expect([stdout, stderr]).toEqual(['', expect.stringMatching(/is not JSON/)]);
  });

  it('takes trusted accounts and known RAM users from the command line', async () => {
    const policy = fixture('doc-bpa-vpc-wildcard-plus-fixed-principal.json');
    const foreign = async (...args: string[]) =>
      JSON.parse((await run(policy, '--json', ...args)).stdout).findings.some(
        (f: { rule: string }) => f.rule === 'foreign-account-principal',
      );
    expect(await foreign()).toBe(true);
    expect(await foreign('--trusted', '1111111111111111, 2021476040493500')).toBe(false);
    expect(await foreign('--known', '2021476040493500')).toBe(false);
  });

  it('uses --owner over the owner the Resource ARNs name', async () => {
    const { stdout } = await run(
      fixture('https-only-ram-user-read-write.json'),
      '--json',
      '--owner',
      '5555555555555555',
    );
    expect(JSON.parse(stdout).findings.map((f: { rule: string }) => f.rule)).toContain(
      'foreign-account-principal',
    );
  });

  it('reads the policy from stdin for "-"', async () => {
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin');
    Object.defineProperty(process, 'stdin', {
      configurable: true,
      value: Readable.from([
        Buffer.from('{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*",'),
        Buffer.from('"Action":"oss:PutObject","Resource":"acs:oss:*:1:b/*"}]}'),
      ]),
    });
    try {
      const { code, stdout } = await run('-', '--json');
      expect(code).toBe(1);
      expect(JSON.parse(stdout).public).toBe(true);
    } finally {
      if (stdin) Object.defineProperty(process, 'stdin', stdin);
    }
  });

  it('prints a readable report with the verdict and a fix per finding', async () => {
    const { code, stdout } = await run(fixture('anonymous-write.json'));
    expect(code).toBe(1);
    expect(stdout).toMatch(/PUBLIC/);
    expect(stdout).toMatch(/CRITICAL +public-write/);
    expect(stdout).toMatch(/fix: /);
    expect(stdout).toMatch(/^FAIL: /m);
  });

  it('documents every rule id and the exit codes in --help', async () => {
    const { code, stdout } = await run('--help');
    expect(code).toBe(0);
    for (const { id } of policyRules) expect(stdout).toMatch(new RegExp(`^  ${id} `, 'm'));
    expect(stdout).toMatch(/^ {2}2 {2}unusable input/m);
  });

  it('rejects an unknown severity as a usage error', async () => {
    expect((await run(fixture('public-website.json'), '--fail-on', 'severe')).code).toBe(2);
  });
});
