import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { mapLimited } from '../../shared/audit/store';
import { CallLog } from '../../shared/clients/calllog';
import { type CloudCredentials, OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig } from '../../shared/config';
import { Assessor, type BucketRef, type Exposure } from '../../shared/sweep/assess';
import { bucketPages } from '../../shared/sweep/sweep';
import { ProgressBar } from '../audit/progress';
import { renderTable } from '../audit/table';
import { terminalSafeJson } from '../audit/text';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { type AccountSpec, accountAccess, callerAccount, parseAccounts } from '../organization';
import { resolveTarget, type TargetOptions, withTargetOptions } from '../target';

interface ScanOptions extends TargetOptions {
  config?: string;
  json?: boolean;
  concurrency: number;
  accounts?: AccountSpec;
}

const COLUMNS = [
  { header: 'account', min: 8 },
  { header: 'bucket', min: 12 },
  { header: 'region', min: 8 },
  { header: 'rules', min: 12 },
  { header: 'excepted', min: 8 },
  { header: 'why', min: 20 },
];

const findingsOf = (e: Exposure) => [...e.acl, ...e.policy];

function why(e: Exposure): string {
  const messages = [...new Set(findingsOf(e).map((f) => f.message))].join('; ');
  return e.state.blocked ? `${messages} (Block Public Access is on, so OSS ignores it for now)` : messages;
}

/** An exposure and the account its bucket is in. */
type Found = Exposure & { accountId: string };

/** The JSON line for one exposed resource; `object` is absent because a scan judges buckets, not objects. */
const jsonLine = (e: Found, withAccount: boolean) =>
  terminalSafeJson({
    ...(withAccount ? { accountId: e.accountId } : {}),
    bucket: e.bucket,
    region: e.region,
    rules: [...new Set(findingsOf(e).map((f) => f.ruleId))],
    excepted: e.excepted !== undefined,
    ...(e.excepted ? { exception: e.excepted } : {}),
    // OSS's own verdict (GetBucketPolicyStatus), beside the analyser's findings.
    policyPublic: e.state.policyPublic,
    blocked: e.state.blocked,
  });

const positive = (text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return n;
};

export const registerScan: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('scan')
      .description(
        "List every bucket of the account and judge its ACL and policy with the guards' rules, changing " +
          'nothing: a table of what is exposed and why (exit 1 when something not excepted is exposed).',
      ),
  )
    .option(
      '--config <file>',
      "ossguard config for rule modes, exceptions and policy settings (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .option('--json', 'one JSON line per exposed bucket: bucket, rules, excepted')
    .option('--concurrency <n>', 'buckets read at once', positive, 16)
    .option(
      '--accounts <all|id,...>',
      "accounts of the config's organization to scan, each through its read-only operator role: all (every account " +
        "Resource Directory lists) or account ids; default: the caller's account only",
      parseAccounts,
    )
    .action(async (options: ScanOptions) => {
      const target = await resolveTarget(options);
      await warnIfRootAccount(target, options);
      const config = parseConfig(
        readFileSync(options.config ?? target.local?.configFile ?? 'ossguard.config.yaml', 'utf8'),
      );
      const factoryOf = (credentials: CloudCredentials) =>
        new OssClientFactory({
          credentials,
          ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
        });
      const home =
        target.local?.accountId ?? (await callerAccount(factoryOf(target.credentials).client(target.region)));
      const accounts = options.accounts
        ? await accountAccess(options.accounts, target, config, home)
        : [{ accountId: home, credentials: target.credentials }];
      const work: Array<{ ref: BucketRef; accountId: string; assessor: Assessor }> = [];
      for (const { accountId, credentials } of accounts) {
        const factory = factoryOf(credentials);
        const assessor = new Assessor(factory, config, { accountId, region: target.region, now: new Date() });
        for await (const page of bucketPages(new OssGateway(factory, target.region, new CallLog())))
          work.push(...page.map((ref) => ({ ref, accountId, assessor })));
      }

      const bar = new ProgressBar(process.stderr, 'scanning buckets');
      let done = 0;
      const assessed = await mapLimited(work, options.concurrency, async ({ ref, accountId, assessor }) => {
        const a = await assessor.assess(ref);
        bar.update(++done, work.length);
        return { a, accountId };
      });
      bar.finish();

      const byAccount = options.accounts !== undefined;
      const exposed: Found[] = assessed.flatMap(({ a, accountId }) =>
        a.kind === 'exposed' ? [{ ...a.exposure, accountId }] : [],
      );
      const failed = assessed.flatMap(({ a }) => (a.kind === 'failed' ? [a] : []));
      for (const f of failed)
        process.stderr.write(`ossguard scan: ${f.bucket} could not be read: ${f.error}\n`);
      if (options.json) {
        for (const e of exposed) process.stdout.write(`${jsonLine(e, byAccount)}\n`);
      } else {
        if (exposed.length > 0) {
          const rows = exposed.map((e) => [
            ...(byAccount ? [e.accountId] : []),
            e.bucket,
            e.region,
            [...new Set(findingsOf(e).map((f) => f.ruleId))].join(','),
            e.excepted ? `yes: ${e.excepted.reason}` : 'no',
            why(e),
          ]);
          const columns = byAccount ? COLUMNS : COLUMNS.slice(1);
          process.stdout.write(renderTable(columns, rows, process.stdout.columns || 160));
        }
        const excepted = exposed.filter((e) => e.excepted).length;
        process.stdout.write(
          `${work.length} bucket(s)${byAccount ? ` in ${accounts.length} account(s)` : ''} scanned: ${exposed.length} exposed (${excepted} excepted), ${failed.length} could not be read\n`,
        );
      }
      if (failed.length > 0 || exposed.some((e) => !e.excepted)) setExit(1);
    });
};
