import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseTimeBound, splitList } from '../../shared/audit/query';
import { AuditStore } from '../../shared/audit/store';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { parseConfig } from '../../shared/config';
import { ENDPOINT_ENV } from '../../shared/config/load';
import type { FcHandler } from '../../shared/pipeline/handler';
import {
  actionTrailLookup,
  LOOKUP_RETENTION_DAYS,
  lookupPacer,
  PagedLookup,
} from '../../shared/replay/lookup';
import {
  handledEventIds,
  REPLAYABLE_GUARDS,
  type ReplayedEvent,
  type ReplayGuard,
  type ReplaySummary,
  replay,
} from '../../shared/replay/replay';
import { olderAuditKeys, resolveAuditKey } from '../audit/location';
import { ProgressBar } from '../audit/progress';
import { sanitize, terminalSafeJson } from '../audit/text';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { type AccountSpec, accountAccess, callerAccount, parseAccounts } from '../organization';
import { type CloudTarget, distDir, resolveTarget, type TargetOptions, withTargetOptions } from '../target';

interface ReplayCliOptions extends TargetOptions {
  since: Date;
  until?: Date;
  dryRun?: boolean;
  guard?: string[];
  config?: string;
  json?: boolean;
  accounts?: AccountSpec;
}

const DAY_MS = 86_400_000;

/** Whether an account set names any account but the caller's own. */
const reachesMembers = (accounts: AccountSpec | undefined, home: string): boolean =>
  accounts === 'all' || (accounts ?? []).some((id) => id !== home);
/** Beside the audit prefix, not in it: `ossguard audit verify` reads everything under the audit prefix. */
const DRY_RUN_PREFIX = 'ossguard/replay-dry-run/';

const timeOption = (text: string): Date => {
  try {
    return parseTimeBound(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
};

/**
 * Loads a function's bundle as FC would: the bundle reads its config and endpoints from the environment when
 * it loads, so each load gets a fresh module (a dry-run and a real replay in one process must not share one).
 */
function loadHandler(fn: string, config: Record<string, unknown>, target: CloudTarget): FcHandler {
  const bundle = join(distDir(), fn, 'index.js');
  // The local cloud's function environment carries the robot's secret too; on Alibaba Cloud it is the caller's.
  Object.assign(process.env, target.local?.functionEnv ?? {});
  for (const [name, variable] of Object.entries(ENDPOINT_ENV)) {
    const endpoint = target.endpoints[name as keyof typeof ENDPOINT_ENV];
    if (endpoint) process.env[variable] = endpoint;
  }
  process.env.OSSGUARD_CONFIG = JSON.stringify(config);
  const load = createRequire(bundle);
  delete load.cache[load.resolve(bundle)];
  return (load(bundle) as { handler: FcHandler }).handler;
}

function describe(e: ReplayedEvent): string {
  const { bucket, objectKey, ramUser, accessKeyId } = e.resource;
  const resource = objectKey ? `${bucket}/${objectKey}` : (bucket ?? accessKeyId ?? ramUser ?? 'account');
  const rules = e.rules.length > 0 ? ` [${e.rules.join(',')}]` : '';
  return sanitize(
    `${e.decision.padEnd(10)} ${e.guard} ${e.eventName} ${resource} ${e.time}${rules}: ${e.reason}`,
  );
}

const summaryLine = (s: ReplaySummary, calls: number, throttled: number): string =>
  `seen ${s.seen}, acted ${s.acted}, already handled ${s.alreadyHandled}, skipped ${s.skipped}, failed ${s.failed}` +
  ` (LookupEvents: ${calls} calls, ${throttled} throttled)`;

export const registerReplay: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('replay')
      .description(
        'Look up the ActionTrail events each guard handles (LookupEvents, at most 2 calls per second) and run ' +
          'those without an audit record through the guards, as if EventBridge had delivered them.',
      ),
  )
    .requiredOption(
      '--since <when>',
      'start of the window: a duration back from now (30m, 24h, 7d) or an ISO time',
      timeOption,
    )
    .option('--until <when>', 'end of the window (default: now)', timeOption)
    .option('--dry-run', 'decide but change nothing and alert no one; records go beside the audit prefix')
    .option(
      '--guard <names>',
      `replay only these guards, comma-separated (${REPLAYABLE_GUARDS.map((g) => g.name).join(', ')})`,
      splitList,
    )
    .option(
      '--config <file>',
      "ossguard config (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .option('--json', 'one JSON line per event and a closing summary line')
    .option(
      '--accounts <all|id,...>',
      "accounts of the config's organization whose history to replay, each read through its operator role " +
        "(all: every account Resource Directory lists); default: the caller's account. Acting in a member " +
        'needs the function role: only with --local, whose guards run as the local function role',
      parseAccounts,
    )
    .addHelpText(
      'after',
      '\nLookupEvents is regional: --region picks the trail region (RAM and IMS events are recorded in cn-shanghai).' +
        '\nExamples:\n  ossguard replay --since 24h --local\n  ossguard replay --since 2026-05-01 --until 2026-05-02 --dry-run --region cn-hangzhou',
    )
    .action(async (options: ReplayCliOptions) => {
      const now = new Date();
      const until = options.until ?? now;
      const { since } = options;
      if (since >= until) throw new Error('--since must be before --until');
      if (now.getTime() - since.getTime() > LOOKUP_RETENTION_DAYS * DAY_MS)
        throw new Error(`--since reaches past the ${LOOKUP_RETENTION_DAYS} days LookupEvents keeps`);

      const target = await resolveTarget(options);
      await warnIfRootAccount(target, options);
      const configFile = options.config ?? target.local?.configFile ?? 'ossguard.config.yaml';
      const text = readFileSync(configFile, 'utf8');
      const config = parseConfig(text);
      const factory = new OssClientFactory({
        credentials: target.credentials,
        ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
      });
      // Each account's own history (LookupEvents answers the caller's account only): a member's through its
      // read-only operator role; the guards then act on its changes through the member role, which they
      // assume with the credentials they run with. Decided before anything is read.
      const home =
        target.local?.accountId ??
        (options.accounts ? await callerAccount(factory.client(target.region)) : '');
      if (!target.local && reachesMembers(options.accounts, home))
        throw new Error(
          'replay cannot act in member accounts from here: the guards would run with your credentials, and a ' +
            "member's role trusts ossguard's function role alone (a person's session of it would pass for " +
            "ossguard's own). The hourly sweep re-reads the members; `ossguard scan --accounts` lists what is exposed",
        );
      const gateway = new OssGateway(factory, config.audit.region ?? target.region, new CallLog());
      const audit = new AuditStore(gateway, config.audit.bucket, config.audit.prefix);
      // A dry-run record at the real key would mark the event handled, and the next real replay would skip it.
      const scratch = `${DRY_RUN_PREFIX}${now.toISOString().replace(/[-:.]/g, '')}/`;
      const records = options.dryRun ? new AuditStore(gateway, config.audit.bucket, scratch) : audit;
      const raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
      const runConfig = options.dryRun
        ? { ...raw, dryRun: true, alerts: {}, audit: { ...config.audit, prefix: scratch } }
        : raw;

      const wanted = options.guard ?? REPLAYABLE_GUARDS.map((g) => g.name);
      const unknown = wanted.filter((name) => !REPLAYABLE_GUARDS.some((g) => g.name === name));
      if (unknown.length > 0) throw new Error(`unknown guard ${unknown.join(', ')}`);
      // As `invoke` does, the local cloud's functions get the function role's session; a dry-run keeps the
      // caller's own, since the role may write audit records only under the real audit prefix.
      const credentials = options.dryRun
        ? target.credentials
        : (target.local?.functionCredentials ?? target.credentials);
      const guards: ReplayGuard[] = [];
      for (const { name, events } of REPLAYABLE_GUARDS.filter((g) => wanted.includes(g.name))) {
        if (!existsSync(join(distDir(), name, 'index.js'))) {
          process.stderr.write(
            `ossguard replay: no bundle for ${name} in ${distDir()}: its events are not replayed\n`,
          );
          continue;
        }
        const handler = loadHandler(name, runConfig, target);
        guards.push({
          name,
          events,
          invoke: (body) =>
            handler(body, {
              requestId: randomUUID(),
              region: target.region,
              ...(target.local ? { accountId: target.local.accountId } : {}),
              credentials,
              function: { name },
            }),
        });
      }

      const indexing = new ProgressBar(process.stderr, 'reading audit records');
      const key = await resolveAuditKey({ target, config });
      // A record sealed before the audit key was rotated still says its change was handled, as the pipeline
      // believes it (shared/pipeline/resolve.ts): read the version its MAC names, as `audit verify` does.
      const olderKeys = olderAuditKeys({ target, config });
      const handled = await handledEventIds(audit, since, until, {
        ...(key ? { key } : {}),
        ...(olderKeys ? { olderKeys } : {}),
        onProgress: (d, t) => indexing.update(d, t),
      });
      indexing.finish();
      const histories = options.accounts
        ? await accountAccess(options.accounts, target, config, home)
        : [{ accountId: home, credentials: target.credentials }];
      // The local cloud says the rate it allows; everywhere else the documented one holds.
      const rate = target.local?.lookupCallsPerSecond;
      const lookups = histories.map(
        ({ credentials }) =>
          new PagedLookup(actionTrailLookup(credentials, target.region, target.endpoints.actiontrail), {
            pacer: lookupPacer(rate),
          }),
      );
      const bars = {
        lookup: new ProgressBar(process.stderr, 'looking up events'),
        replay: new ProgressBar(process.stderr, 'replaying'),
      };
      const summary: ReplaySummary = { seen: 0, acted: 0, alreadyHandled: 0, skipped: 0, failed: 0 };
      for (const lookup of lookups) {
        const part = await replay({
          guards,
          since,
          until,
          lookup,
          handled,
          records,
          onProgress: (phase, done, total) => {
            bars[phase].update(done, total);
            if (done === total) bars[phase].finish();
          },
          onEvent: (event) => {
            if (options.json) process.stdout.write(`${terminalSafeJson(event)}\n`);
            else if (event.outcome === 'acted' || event.outcome === 'failed')
              process.stdout.write(`${describe(event)}\n`);
          },
        });
        for (const field of Object.keys(summary) as Array<keyof ReplaySummary>) summary[field] += part[field];
      }
      const calls = lookups.reduce((n, l) => n + l.stats.calls, 0);
      const throttled = lookups.reduce((n, l) => n + l.stats.throttled, 0);
      if (options.json) {
        process.stdout.write(`${terminalSafeJson({ summary, lookupCalls: calls, throttled })}\n`);
      } else {
        const window = `${since.toISOString()} .. ${until.toISOString()}${options.dryRun ? ' (dry-run)' : ''}`;
        process.stdout.write(`replay ${window}: ${summaryLine(summary, calls, throttled)}\n`);
        if (options.dryRun) process.stdout.write(`dry-run decisions are audited under ${scratch}\n`);
      }
      if (summary.failed > 0) setExit(1);
    });
};
