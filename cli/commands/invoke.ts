import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ENDPOINT_ENV } from '../../shared/config/load';
import type { FcHandler } from '../../shared/pipeline/handler';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { distDir, resolveTarget, withTargetOptions } from '../target';

interface InvokeOptions {
  local?: boolean;
  region?: string;
  config?: string;
  dryRun?: boolean;
}

async function readInput(source: string): Promise<Buffer> {
  if (source !== '-') return readFileSync(source);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export const registerInvoke: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('invoke')
      .description(
        'Run a saved event (a CloudEvent, a batch, a bare ActionTrail record or a LookupEvents page) through a ' +
          "function's bundle, as FC would, and print each decision as one JSON line.",
      )
      .argument('<function>', 'oss-acl-guard, oss-policy-guard or access-key-guard')
      .argument('<event-file>', 'path to the event JSON, or - for stdin'),
  )
    .option(
      '--config <file>',
      "ossguard config (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .option('--dry-run', 'decide and audit, but change nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  ossguard invoke oss-acl-guard test/fixtures/events/actiontrail-PutBucket-root-account.json --local\n' +
        '  aliyun actiontrail LookupEvents ... | ossguard invoke oss-acl-guard - --dry-run --region cn-hangzhou',
    )
    .action(async (fn: string, eventFile: string, options: InvokeOptions) => {
      const bundle = join(distDir(), fn, 'index.js');
      if (!existsSync(bundle))
        throw new Error(`no bundle for function ${fn} at ${bundle}: run \`npm run build\``);
      const target = await resolveTarget(options);
      await warnIfRootAccount(target, options);
      const configFile = options.config ?? target.local?.configFile ?? 'ossguard.config.yaml';
      const config = parseYaml(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      if (options.dryRun) config.dryRun = true;
      // The bundle reads its config and endpoints from the environment when it loads, as on FC.
      Object.assign(process.env, target.local?.functionEnv);
      process.env.OSSGUARD_CONFIG = JSON.stringify(config);
      for (const [name, variable] of Object.entries(ENDPOINT_ENV)) {
        const endpoint = target.endpoints[name as keyof typeof ENDPOINT_ENV];
        if (endpoint) process.env[variable] = endpoint;
      }
      const { handler } = createRequire(bundle)(bundle) as { handler: FcHandler };
      const credentials = target.local?.functionCredentials ?? target.credentials;
      const body = await readInput(eventFile);
      // The function's own log lines go to stderr, so stdout carries exactly one JSON line per decision.
      console.log = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
      try {
        const result = await handler(body, {
          requestId: randomUUID(),
          region: target.region,
          ...(target.local ? { accountId: target.local.accountId } : {}),
          credentials,
          function: { name: fn },
        });
        for (const decision of result.decisions) process.stdout.write(`${JSON.stringify(decision)}\n`);
        if (result.decisions.some((d) => d.decision === 'failed')) setExit(1);
      } catch (error) {
        process.stderr.write(`ossguard invoke: ${error instanceof Error ? error.message : String(error)}\n`);
        setExit(1);
      }
    });
};
