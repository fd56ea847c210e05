import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { createAlertDispatcher } from '../../shared/alerts/dispatch';
import { parseTimeBound } from '../../shared/audit/query';
import { CallLog } from '../../shared/clients/calllog';
import { kmsSecrets } from '../../shared/clients/kms';
import { OssClientFactory } from '../../shared/clients/oss';
import { RamGateway } from '../../shared/clients/ram';
import { createRamApi } from '../../shared/clients/ram-sdk';
import { parseConfig } from '../../shared/config';
import { ENDPOINT_ENV, loadRuntime } from '../../shared/config/load';
import { KmsSecretCache, kmsSecretNames } from '../../shared/config/secrets';
import { reportLeak } from '../../shared/incident/intake';
import { investigate } from '../../shared/incident/investigate';
import { logstoreReader, lookupReader, slsLogQuery } from '../../shared/incident/trail';
import { createLogger } from '../../shared/log';
import {
  actionTrailLookup,
  LOOKUP_RETENTION_DAYS,
  lookupPacer,
  PagedLookup,
} from '../../shared/replay/lookup';
import { leakedAccessKey } from '../../shared/rules/leaks/leaked-access-key';
import { sanitize, terminalSafeJson } from '../audit/text';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import { renderIncidentHtml, renderIncidentText } from '../incident/render';
import { type CloudTarget, resolveTarget, type TargetOptions, withTargetOptions } from '../target';

interface IncidentCliOptions extends TargetOptions {
  since?: Date;
  until?: Date;
  disable?: boolean;
  /** `true`: the JSON on stdout instead of the summary; a file name: the JSON written there too. */
  json?: boolean | string;
  html?: string;
  config?: string;
}

const DAY_MS = 86_400_000;
/** RAM and IMS events are recorded in cn-shanghai (F-ACTIONTRAIL-GLOBAL-REGION): where UpdateAccessKey is looked up. */
const GLOBAL_EVENTS_REGION = 'cn-shanghai';
const ACCESS_KEY_ID = /^[A-Za-z0-9]{8,64}$/;

const timeOption = (text: string): Date => {
  try {
    return parseTimeBound(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
};

const terminalWidth = (): number =>
  process.stdout.isTTY && process.stdout.columns
    ? process.stdout.columns
    : Number(process.env.COLUMNS) || 120;

/**
 * `--disable`: the key through the leaked-key guard in this process, with the caller's credentials: disabled
 * (never the caller's own key, never a root key), alerted as critical and audited like a Security Center
 * finding. The person asked for it, so the rule runs in enforce mode whatever the config says.
 */
async function disableKey(
  accessKeyId: string,
  target: CloudTarget,
  configText: string,
): Promise<{ decision: string; reason: string }> {
  const raw = (parseYaml(configText) ?? {}) as Record<string, unknown>;
  const rules = {
    ...((raw.rules as Record<string, unknown> | undefined) ?? {}),
    [leakedAccessKey.id]: 'enforce',
  };
  const env: NodeJS.ProcessEnv = { ...process.env, ...(target.local?.functionEnv ?? {}) };
  env.OSSGUARD_CONFIG = JSON.stringify({ ...raw, rules });
  for (const [name, variable] of Object.entries(ENDPOINT_ENV)) {
    const endpoint = target.endpoints[name as keyof typeof ENDPOINT_ENV];
    if (endpoint) env[variable] = endpoint;
  }
  const loaded = loadRuntime(env);
  // Where the config keeps the alert secrets in KMS, they are read from there with the caller's credentials,
  // as the functions read them with their role's.
  const names = kmsSecretNames(loaded.config);
  const fromKms = Object.keys(names).length
    ? await new KmsSecretCache(names).get(() =>
        kmsSecrets(target.credentials, loaded.config.secrets?.region ?? target.region, target.endpoints.kms),
      )
    : {};
  const runtime = { ...loaded, secrets: { ...loaded.secrets, ...fromKms } };
  const log = createLogger({ guard: 'ossguard incident' }, (line) => process.stderr.write(`${line}\n`));
  const result = await reportLeak(
    {
      runtime,
      oss: new OssClientFactory({
        credentials: target.credentials,
        ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
      }),
      ram: createRamApi(target.credentials, target.endpoints),
      region: target.region,
      dispatch: createAlertDispatcher(runtime),
      log,
      invocationId: randomUUID(),
    },
    accessKeyId,
    [target.credentials.accessKeyId],
  );
  const decision = result.decisions[0];
  if (!decision) throw new Error(result.retryableFailures[0]?.error ?? 'the key was not judged');
  return { decision: decision.decision, reason: decision.reason };
}

export const registerIncident: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('incident')
      .argument('<accessKeyId>', 'the AccessKey id reported as leaked')
      .description(
        'What a leaked AccessKey did: every call made with it in the trail (the logstore, or LookupEvents ' +
          'without one), first and last use, source IPs, calls by name, buckets and objects read or written, ' +
          'changes made, refused calls; and whether it is still in use. --disable disables it first.',
      ),
  )
    .option(
      '--since <when>',
      'start of the window: a duration back from now (24h, 7d) or an ISO time (default 90d)',
      timeOption,
    )
    .option('--until <when>', 'end of the window (default: now)', timeOption)
    .option('--disable', 'disable the key first (alert as critical, audit), as for a Security Center finding')
    .option(
      '--json [file]',
      'the report as one JSON object: written to <file> beside the terminal summary, or on stdout instead of it',
    )
    .option('--html <file>', 'also write the report as a self-contained HTML page with a timeline')
    .option(
      '--config <file>',
      "ossguard config (default: the local cloud's with --local, else ossguard.config.yaml)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  ossguard incident LTAI5tExample --since 7d --json incident.json --html incident.html\n  ossguard incident LTAI5tExample --disable --local',
    )
    .action(async (accessKeyId: string, options: IncidentCliOptions) => {
      if (!ACCESS_KEY_ID.test(accessKeyId))
        throw new Error(`"${sanitize(accessKeyId)}" is not an AccessKey id`);
      const now = new Date();
      const until = options.until ?? now;
      const since = options.since ?? new Date(now.getTime() - LOOKUP_RETENTION_DAYS * DAY_MS);
      if (since >= until) throw new Error('--since must be before --until');
      const target = await resolveTarget(options);
      await warnIfRootAccount(target, options);
      const configText = readFileSync(
        options.config ?? target.local?.configFile ?? 'ossguard.config.yaml',
        'utf8',
      );
      const config = parseConfig(configText);

      if (options.disable) {
        const { decision, reason } = await disableKey(accessKeyId, target, configText);
        process.stderr.write(`${sanitize(`ossguard incident: ${decision}: ${reason}`)}\n`);
        if (decision !== 'remediated') setExit(1);
      }

      const trailRegion = config.trail.region ?? target.region;
      const slsEndpoint = target.endpoints.sls ?? `https://${trailRegion}.log.aliyuncs.com`;
      // The local cloud says the LookupEvents rate it allows; everywhere else the documented one holds.
      const paced = { pacer: lookupPacer(target.local?.lookupCallsPerSecond) };
      const regionalLookup = new PagedLookup(
        actionTrailLookup(target.credentials, target.region, target.endpoints.actiontrail),
        paced,
      );
      const globalLookup = new PagedLookup(
        actionTrailLookup(target.credentials, GLOBAL_EVENTS_REGION, target.endpoints.actiontrail),
        paced,
      );
      const tty = process.stderr.isTTY === true;
      const report = await investigate({
        accessKeyId,
        from: since,
        to: until,
        readers: {
          logstore: logstoreReader(
            slsLogQuery(
              target.credentials,
              slsEndpoint,
              config.trail.project,
              `actiontrail_${config.trail.name}`,
            ),
          ),
          // RAM and IMS calls are in the global events region's history, not the target region's.
          lookup:
            target.region === GLOBAL_EVENTS_REGION
              ? lookupReader(globalLookup)
              : lookupReader(regionalLookup, globalLookup),
        },
        lookup: globalLookup,
        ram: new RamGateway(createRamApi(target.credentials, target.endpoints), new CallLog()),
        progress: (found, pages) => {
          if (tty) process.stderr.write(`\rreading the trail: ${found} calls in ${pages} page(s)`);
        },
        now,
      });
      if (tty) process.stderr.write('\r\x1b[2K');
      const from = report.source === 'logstore' ? "the trail's logstore" : 'ActionTrail LookupEvents';
      process.stderr.write(`read ${report.calls} call(s) from ${from}\n`);
      const json = `${terminalSafeJson(report)}\n`;
      // One run gives all three: the files named, and the summary on the terminal unless stdout takes the JSON.
      for (const [file, text] of [
        [typeof options.json === 'string' ? options.json : undefined, () => json],
        [options.html, () => renderIncidentHtml(report)],
      ] as const) {
        if (!file) continue;
        writeFileSync(file, text());
        process.stderr.write(`${sanitize(`wrote ${file}`)}\n`);
      }
      process.stdout.write(options.json === true ? json : renderIncidentText(report, terminalWidth()));
    });
};
