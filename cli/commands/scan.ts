import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { mapLimited } from '../../shared/audit/store';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig } from '../../shared/config';
import { type Assessment, Assessor, type BucketRef, type Exposure } from '../../shared/sweep/assess';
import { bucketPages } from '../../shared/sweep/sweep';
import { ProgressBar } from '../audit/progress';
import { renderTable } from '../audit/table';
import { terminalSafeJson } from '../audit/text';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { resolveTarget, type TargetOptions, withTargetOptions } from '../target';

interface ScanOptions extends TargetOptions {
  config?: string;
  json?: boolean;
  concurrency: number;
}

const COLUMNS = [
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

/** The JSON line for one exposed resource; `object` is absent because a scan judges buckets, not objects. */
const jsonLine = (e: Exposure) =>
  terminalSafeJson({
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
    .action(async (options: ScanOptions) => {
      const target = await resolveTarget(options);
      await warnIfRootAccount(target, options);
      const config = parseConfig(
        readFileSync(options.config ?? target.local?.configFile ?? 'ossguard.config.yaml', 'utf8'),
      );
      const factory = new OssClientFactory({
        credentials: target.credentials,
        ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
      });
      const refs: BucketRef[] = [];
      for await (const page of bucketPages(new OssGateway(factory, target.region, new CallLog())))
        refs.push(...page);

      const assessor = new Assessor(factory, config, {
        accountId: target.local?.accountId ?? '',
        region: target.region,
        now: new Date(),
      });
      const bar = new ProgressBar(process.stderr, 'scanning buckets');
      let done = 0;
      const assessed: Assessment[] = await mapLimited(refs, options.concurrency, async (ref) => {
        const a = await assessor.assess(ref);
        bar.update(++done, refs.length);
        return a;
      });
      bar.finish();

      const exposed = assessed.flatMap((a) => (a.kind === 'exposed' ? [a.exposure] : []));
      const failed = assessed.flatMap((a) => (a.kind === 'failed' ? [a] : []));
      for (const f of failed)
        process.stderr.write(`ossguard scan: ${f.bucket} could not be read: ${f.error}\n`);
      if (options.json) {
        for (const e of exposed) process.stdout.write(`${jsonLine(e)}\n`);
      } else {
        if (exposed.length > 0) {
          const rows = exposed.map((e) => [
            e.bucket,
            e.region,
            [...new Set(findingsOf(e).map((f) => f.ruleId))].join(','),
            e.excepted ? `yes: ${e.excepted.reason}` : 'no',
            why(e),
          ]);
          process.stdout.write(renderTable(COLUMNS, rows, process.stdout.columns || 160));
        }
        const excepted = exposed.filter((e) => e.excepted).length;
        process.stdout.write(
          `${refs.length} bucket(s) scanned: ${exposed.length} exposed (${excepted} excepted), ${failed.length} could not be read\n`,
        );
      }
      if (failed.length > 0 || exposed.some((e) => !e.excepted)) setExit(1);
    });
};
