import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import {
  analysePolicy,
  failingFindings,
  inferTarget,
  type PolicyAnalysis,
  type PolicyContext,
  type PolicyFinding,
} from '../../shared/policy';
import { policyRules } from '../../shared/rules';
import { SEVERITIES, type Severity, severityRank } from '../../shared/severity';
import type { RegisterCommand } from '../command';

interface CheckPolicyOptions {
  json?: boolean;
  failOn: Severity;
  owner?: string;
  bucket?: string;
  trusted?: string[];
  known?: string[];
}

/** Input we cannot judge at all: exit 2, unlike a policy OSS would reject (an invalid-policy finding, exit 1). */
class UnusableInput extends Error {}

const idList = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean),
];

async function readPolicy(source: string): Promise<string> {
  let text: string;
  try {
    if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
      text = Buffer.concat(chunks).toString('utf8');
    } else text = await readFile(source, 'utf8');
  } catch (error) {
    throw new UnusableInput(
      `cannot read ${source}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // Editors on Windows save UTF-8 with a byte-order mark, which JSON.parse refuses.
  const policy = text.replace(/^\uFEFF/, '');
  try {
    JSON.parse(policy);
  } catch (error) {
    throw new UnusableInput(
      `${source === '-' ? 'stdin' : source} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return policy;
}

function contextFor(policy: string, options: CheckPolicyOptions): PolicyContext {
  const inferred = inferTarget(policy);
  return {
    bucket: options.bucket ?? inferred.bucket ?? '',
    ownerAccountId: options.owner ?? inferred.ownerAccountId ?? '',
    trustedAccounts: options.trusted ?? [],
    knownPrincipals: options.known ?? [],
  };
}

function renderFinding(f: PolicyFinding): string {
  return `  ${f.severity.toUpperCase().padEnd(8)} ${f.rule}: ${f.message}\n           fix: ${f.fix}`;
}

function renderReport(
  source: string,
  ctx: PolicyContext,
  analysis: PolicyAnalysis,
  failOn: Severity,
): string {
  const failing = failingFindings(analysis, failOn);
  const groups = new Map<number | null, PolicyFinding[]>();
  for (const f of analysis.findings) groups.set(f.statement, [...(groups.get(f.statement) ?? []), f]);
  const lines = [
    `${source === '-' ? 'stdin' : source}: ${analysis.public ? 'PUBLIC (OSS Block Public Access would count this policy as public)' : 'not public'}`,
    `bucket ${ctx.bucket || '(unknown)'}, owner ${ctx.ownerAccountId || '(unknown)'}, ` +
      `${analysis.statements} statement(s), failing at ${failOn} or above`,
    '',
  ];
  for (const [statement, findings] of groups) {
    lines.push(statement === null ? 'policy' : `statement ${statement}`);
    for (const f of [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity)))
      lines.push(renderFinding(f));
    lines.push('');
  }
  lines.push(
    failing.length > 0
      ? `FAIL: ${failing.length} finding(s) at or above ${failOn} (${analysis.findings.length} in all)`
      : `PASS: nothing at or above ${failOn} (${analysis.findings.length} finding(s) below it)`,
  );
  return `${lines.join('\n')}\n`;
}

const HELP = [
  '',
  'Rules (default severity):',
  ...policyRules.map(
    (rule) => `  ${rule.id.padEnd(26)}${rule.severity.padEnd(9)}${rule.firesWhen.replaceAll('`', '')}`,
  ),
  '',
  'Owner and trust: a RAM user UID looks like an account UID, so a fixed principal is internal only when it is',
  "the owner (--owner, else the UID in the Resource ARNs), listed in --known (the owner's RAM users and roles)",
  'or in --trusted. Without an owner, every other fixed principal counts as foreign.',
  '',
  'Exit codes:',
  '  0  no finding at or above --fail-on',
  '  1  at least one finding at or above --fail-on (a JSON policy OSS would reject is an invalid-policy finding)',
  '  2  unusable input: the file cannot be read or is not JSON at all, or a usage error',
  '',
  'Examples:',
  '  ossguard check-policy policy.json --owner 1234567890123456',
  '  cat policy.json | ossguard check-policy - --json --fail-on medium --trusted 1111111111111111,2222222222222222',
].join('\n');

export const registerCheckPolicy: RegisterCommand = (program, setExit) => {
  program
    .command('check-policy')
    .description(
      'Analyse a bucket policy without calling any API: whether OSS would call it public, and what is too broad.',
    )
    .argument('<file>', 'path to the policy JSON, or - for stdin')
    .option('--json', 'print {"public": boolean, "findings": [{rule, severity, statement, message, fix}]}')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity')
        .choices(SEVERITIES)
        .default('high'),
    )
    .option('--owner <accountId>', "the bucket owner's account UID (default: the UID in the Resource ARNs)")
    .option('--bucket <name>', 'the bucket (default: the one the Resource ARNs name, when they agree)')
    .option('--trusted <ids>', 'comma-separated account UIDs trusted like the owner', idList)
    .option('--known <ids>', "comma-separated UIDs of the owner's RAM users and roles", idList)
    .addHelpText('after', HELP)
    .action(async (source: string, options: CheckPolicyOptions) => {
      let policy: string;
      try {
        policy = await readPolicy(source);
      } catch (error) {
        if (!(error instanceof UnusableInput)) throw error;
        process.stderr.write(`ossguard check-policy: ${error.message}\n`);
        setExit(2);
        return;
      }
      const ctx = contextFor(policy, options);
      if (!ctx.ownerAccountId)
        process.stderr.write(
          'ossguard check-policy: owner account unknown (no --owner, no UID in the Resource ARNs); ' +
            'every fixed principal not in --known or --trusted counts as foreign\n',
        );
      const analysis = analysePolicy(policy, ctx);
      const output = options.json
        ? `${JSON.stringify({
            public: analysis.public,
            findings: analysis.findings.map(({ rule, severity, statement, message, fix }) => ({
              rule,
              severity,
              statement,
              message,
              fix,
            })),
          })}\n`
        : renderReport(source, ctx, analysis, options.failOn);
      process.stdout.write(output);
      setExit(failingFindings(analysis, options.failOn).length > 0 ? 1 : 0);
    });
};
