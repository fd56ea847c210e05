import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { checkpointPrefix } from '../../shared/audit/integrity-checkpoint';
import {
  type AuditFilter,
  matchesFilter,
  parseDecisions,
  parseTimeBound,
  planListing,
  splitList,
} from '../../shared/audit/query';
import { type AuditKey, type AuditRecord, DECISIONS } from '../../shared/audit/record';
import { type AuditStore, sha256Hex } from '../../shared/audit/store';
import { type Verification, verifyAudit, writeCheckpoint } from '../../shared/audit/verify';
import {
  AuditWorm,
  type LockOutcome,
  MAX_WORM_DAYS,
  WormRefusal,
  type WormStatus,
} from '../../shared/audit/worm';
import { SECRET_ENV } from '../../shared/config';
import { actorLabel, renderRecordText, resourceLabel, rulesLabel, shortTime } from '../audit/format';
import { renderReport } from '../audit/html';
import {
  type AuditLocationOptions,
  olderAuditKeys,
  resolveAuditKey,
  resolveAuditLocation,
} from '../audit/location';
import { ProgressBar } from '../audit/progress';
import { renderTable } from '../audit/table';
import { sanitize, terminalSafeJson } from '../audit/text';
import type { RegisterCommand } from '../command';
import { parseAccounts } from '../organization';
import { withTargetOptions } from '../target';

interface FilterOptions {
  since?: Date;
  until?: Date;
  bucket?: string[];
  rule?: string[];
  decision?: AuditRecord['decision'][];
  actor?: string;
  accounts?: string[];
}

type ListOptions = AuditLocationOptions & FilterOptions & { json?: boolean };

/** Commander parsers: a bad value is a usage error (exit 2) that names the option. */
const asOption =
  <T>(parse: (text: string) => T) =>
  (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };

function parseDays(text: string): number {
  const days = Number(text);
  if (!/^\d+$/.test(text) || days < 1 || days > MAX_WORM_DAYS)
    throw new Error(`must be a whole number of days from 1 to ${MAX_WORM_DAYS} (70 years)`);
  return days;
}

function auditSubcommand(parent: Command, name: string, description: string): Command {
  return withTargetOptions(parent.command(name).description(description))
    .option('--audit-bucket <name>', 'the audit bucket (default: audit.bucket of the config)')
    .option(
      '--config <file>',
      "ossguard config to take audit.bucket/prefix/region from (default: the local cloud's with --local, else ossguard.config.yaml)",
    );
}

function withFilters(command: Command): Command {
  return command
    .option(
      '--since <when>',
      'events at or after: a duration back from now (30m, 24h, 7d) or an ISO time',
      asOption((t) => parseTimeBound(t)),
    )
    .option(
      '--until <when>',
      'events at or before: a duration back from now or an ISO time',
      asOption((t) => parseTimeBound(t)),
    )
    .option(
      '--bucket <glob>',
      'resource bucket name or glob (* and ?); comma-separated for several',
      asOption(splitList),
    )
    .option('--rule <id>', 'rule id that fired; comma-separated for several', asOption(splitList))
    .option(
      '--decision <kind>',
      `${DECISIONS.join(', ')}; comma-separated for several`,
      asOption(parseDecisions),
    )
    .option('--actor <text>', 'part of the actor user name or principal id (case-insensitive)')
    .option(
      '--accounts <id,...>',
      'member accounts the changes happened in (an organization; records name it as accountId)',
      (text: string) => {
        const ids = parseAccounts(text);
        if (ids === 'all') throw new InvalidArgumentError('name account ids (every account is the default)');
        return ids;
      },
    );
}

const filterOf = (o: FilterOptions): AuditFilter => ({
  ...(o.since ? { since: o.since } : {}),
  ...(o.until ? { until: o.until } : {}),
  ...(o.bucket ? { buckets: o.bucket } : {}),
  ...(o.rule ? { rules: o.rule } : {}),
  ...(o.decision ? { decisions: o.decision } : {}),
  ...(o.actor ? { actor: o.actor } : {}),
  ...(o.accounts ? { accounts: o.accounts } : {}),
});

function describeFilter(filter: AuditFilter): string {
  const parts = [
    filter.since ? `since ${filter.since.toISOString()}` : '',
    filter.until ? `until ${filter.until.toISOString()}` : '',
    filter.buckets ? `bucket ${filter.buckets.join(',')}` : '',
    filter.rules ? `rule ${filter.rules.join(',')}` : '',
    filter.decisions ? `decision ${filter.decisions.join(',')}` : '',
    filter.actor ? `actor ~ ${filter.actor}` : '',
    filter.accounts ? `account ${filter.accounts.join(',')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'none';
}

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

const terminalWidth = (): number =>
  process.stdout.isTTY && process.stdout.columns
    ? process.stdout.columns
    : Number(process.env.COLUMNS) || 120;

interface Located {
  key: string;
  record: AuditRecord;
}

/** Reads the given keys with a progress bar, and says (without failing) how many were not records. */
async function readRecords(store: AuditStore, keys: string[]): Promise<Located[]> {
  const bar = new ProgressBar(process.stderr, 'reading audit records');
  const objects = await store.read(keys, (done, total) => bar.update(done, total));
  bar.finish();
  const broken = objects.filter((o) => !o.record);
  if (broken.length > 0) {
    err(
      `ossguard audit: skipped ${broken.length} object(s) that are not audit records, e.g. ${sanitize(broken[0]?.key ?? '')} ` +
        `${broken[0]?.problem ?? ''}; run \`ossguard audit verify\`\n`,
    );
  }
  return objects.flatMap((o) => (o.record ? [{ key: o.key, record: o.record }] : []));
}

async function select(store: AuditStore, filter: AuditFilter): Promise<Located[]> {
  const plan = planListing(store.prefix, filter.since, filter.until);
  const keys = await store.listKeys(plan.prefixes, plan.inRange);
  return (await readRecords(store, keys))
    .filter(({ record }) => matchesFilter(record, filter))
    .sort((a, b) => Date.parse(a.record.time) - Date.parse(b.record.time) || (a.key < b.key ? -1 : 1));
}

const TABLE_COLUMNS = [
  { header: 'time', min: 20 },
  { header: 'decision', min: 8 },
  { header: 'event', min: 10 },
  { header: 'resource', min: 12 },
  { header: 'actor', min: 8 },
  { header: 'rules', min: 8 },
  { header: 'reason', min: 12 },
];

const tableRow = (r: AuditRecord): string[] => [
  shortTime(r.time),
  r.decision,
  r.eventName,
  resourceLabel(r),
  actorLabel(r),
  rulesLabel(r),
  r.reason,
];

/**
 * `show <id>` first tries the id as a dedupe key, whose hash is the key's file name, so only matching
 * keys are read; an event id (or an id under several guards) needs a scan of the selected days.
 */
async function findRecords(store: AuditStore, id: string, filter: AuditFilter): Promise<Located[]> {
  const plan = planListing(store.prefix, filter.since, filter.until);
  const keys = await store.listKeys(plan.prefixes, plan.inRange);
  const matches = (r: AuditRecord) => r.eventId === id || r.dedupeKey === id;
  const fileName = `/${sha256Hex(id).slice(0, 40)}.json`;
  const direct = (
    await readRecords(
      store,
      keys.filter((k) => k.endsWith(fileName)),
    )
  ).filter((l) => matches(l.record));
  if (direct.length > 0) return direct;
  return (await readRecords(store, keys)).filter((l) => matches(l.record));
}

function describeLock(outcome: LockOutcome, asked: number): string {
  switch (outcome.kind) {
    case 'locked':
      return `locked: objects in the audit bucket are now retained for ${outcome.days} days`;
    case 'already-locked':
      return outcome.days > asked
        ? `already locked for ${outcome.days} days (a locked retention can only grow; not shortened to ${asked})`
        : `already locked for ${outcome.days} days; nothing to do`;
    case 'extended':
      return `extended the locked retention from ${outcome.from} to ${outcome.to} days`;
  }
}

const describeWorm = (worm: WormStatus): string =>
  worm.state === 'none'
    ? 'no retention policy: records can be deleted or replaced (see `ossguard audit lock`)'
    : `${worm.state === 'Locked' ? 'locked' : 'in progress, not locked'}, ${worm.days} days`;

function printFindings(verification: Verification, json: boolean): void {
  for (const f of verification.findings) {
    if (json) out(`${terminalSafeJson({ type: 'finding', ...f })}\n`);
    else out(`${f.kind.toUpperCase().padEnd(10)}  ${sanitize(f.key)}  ${sanitize(f.detail)}\n`);
  }
}

/** The audit location the options name, its key, and every object there verified, with progress on stderr. */
async function verifyLocated(options: AuditLocationOptions, progressLabel: string) {
  const location = await resolveAuditLocation(options);
  const key = await resolveAuditKey(location);
  const bar = new ProgressBar(process.stderr, progressLabel);
  const olderKeys = olderAuditKeys(location);
  const verification = await verifyAudit(location.store, {
    ...(key ? { key } : {}),
    ...(olderKeys ? { olderKeys } : {}),
    onProgress: (done, total) => bar.update(done, total),
  });
  bar.finish();
  return { ...location, key, verification };
}

async function checkpointAndReport(
  store: AuditStore,
  verification: Verification,
  key: AuditKey | undefined,
): Promise<void> {
  const written = await writeCheckpoint(store, verification, key);
  if (written)
    err(
      `checkpoint ${sanitize(written.key)} pins ${written.checkpoint.entries.length} new object(s), ` +
        `${written.checkpoint.total} in all\n`,
    );
  else err('checkpoint: every object is already pinned, nothing new to write\n');
}

export const registerAudit: RegisterCommand = (program, setExit) => {
  const audit = program
    .command('audit')
    .description('Review the audit records ossguard wrote, and keep them tamper-evident');

  withFilters(auditSubcommand(audit, 'list', 'List audit records as a table, or as JSON lines with --json'))
    .option('--json', 'one JSON record per line, as stored')
    .addHelpText(
      'after',
      '\nExamples:\n  ossguard audit list --since 24h --decision failed,alerted\n' +
        "  ossguard audit list --since 2026-11-01 --bucket 'prod-*' --json | jq .reason",
    )
    .action(async (options: ListOptions) => {
      const { store } = await resolveAuditLocation(options);
      const selected = await select(store, filterOf(options));
      if (options.json) {
        for (const { record } of selected) out(`${terminalSafeJson(record)}\n`);
        return;
      }
      if (selected.length === 0) {
        out('No audit records match.\n');
        return;
      }
      out(
        renderTable(
          TABLE_COLUMNS,
          selected.map((l) => tableRow(l.record)),
          terminalWidth(),
        ),
      );
      out(`\n${selected.length} record${selected.length === 1 ? '' : 's'}\n`);
    });

  auditSubcommand(audit, 'show', 'Show the audit record(s) of one event, by event id or dedupe key')
    .argument('<id>', 'the event id or dedupe key')
    .option(
      '--since <when>',
      'only look at events at or after (speeds up an event-id search)',
      asOption((t) => parseTimeBound(t)),
    )
    .option(
      '--until <when>',
      'only look at events at or before',
      asOption((t) => parseTimeBound(t)),
    )
    .option('--json', 'the record(s) as stored, one JSON per line')
    .action(async (id: string, options: ListOptions) => {
      const { store } = await resolveAuditLocation(options);
      const found = await findRecords(store, id, filterOf({ since: options.since, until: options.until }));
      if (found.length === 0) {
        err(`ossguard audit show: no audit record for event ${sanitize(id)}\n`);
        setExit(1);
        return;
      }
      out(
        found
          .map(({ key, record }) =>
            options.json ? `${terminalSafeJson(record)}\n` : renderRecordText(record, key, terminalWidth()),
          )
          .join(options.json ? '' : '\n'),
      );
    });

  withFilters(
    auditSubcommand(audit, 'report', 'Write a self-contained HTML report: timeline, counts, every record'),
  )
    .option('--out <file>', 'where to write the HTML page (default: ossguard-report-<time>.html here)')
    .action(async (options: ListOptions & { out?: string }) => {
      const { store } = await resolveAuditLocation(options);
      const filter = filterOf(options);
      const selected = await select(store, filter);
      const html = renderReport({
        records: selected.map((l) => l.record),
        bucket: store.bucket,
        prefix: store.prefix,
        generatedAt: new Date(),
        ...(filter.since ? { since: filter.since } : {}),
        ...(filter.until ? { until: filter.until } : {}),
        filters: describeFilter(filter),
      });
      const file = resolve(
        options.out ?? `ossguard-report-${new Date().toISOString().replace(/[-:.]/g, '')}.html`,
      );
      writeFileSync(file, html);
      err(`wrote ${file} (${selected.length} record${selected.length === 1 ? '' : 's'})\n`);
    });

  auditSubcommand(
    audit,
    'lock',
    'Pin the current records in a checkpoint, then lock a WORM retention policy on the audit bucket',
  )
    .requiredOption('--days <n>', `retention in days (1 to ${MAX_WORM_DAYS})`, asOption(parseDays))
    .addHelpText(
      'after',
      '\nA locked policy cannot be shortened or removed, not even by the account owner: until it expires,\n' +
        'no record can be deleted or overwritten. Running it again with the same or fewer days is a no-op;\n' +
        'more days extend the policy.',
    )
    .action(async (options: AuditLocationOptions & { days: number }) => {
      const { store, factory, region, key, verification } = await verifyLocated(
        options,
        'reading audit objects',
      );
      // Records pinned by nothing while no chain exists is what the first lock is for, not a problem to flag.
      const problems = verification.findings.filter(
        (f) => !(f.kind === 'unpinned' && verification.checkpoints.length === 0),
      );
      if (problems.length > 0)
        err(
          `ossguard audit lock: ${problems.length} problem(s) found; locking keeps the evidence (see \`ossguard audit verify\`)\n`,
        );
      await checkpointAndReport(store, verification, key);
      try {
        const outcome = await new AuditWorm(factory, region, store.bucket).lock(options.days);
        out(`${sanitize(store.bucket)}: ${describeLock(outcome, options.days)}\n`);
      } catch (error) {
        if (!(error instanceof WormRefusal)) throw error;
        err(`ossguard audit lock: ${error.message}\n`);
        setExit(1);
      }
    });

  auditSubcommand(
    audit,
    'verify',
    'Check every record against its digest and key, and every checkpointed record for removal or replacement',
  )
    .option('--checkpoint', 'afterwards, pin the objects no checkpoint pins yet in a new checkpoint')
    .option('--json', 'findings and a summary as JSON lines')
    .addHelpText(
      'after',
      '\nExit code 0 when intact, 1 when anything is wrong. Removals are detected for records pinned by a\n' +
        'checkpoint: `ossguard audit lock` writes one, and so does a scheduled `ossguard audit verify --checkpoint`.',
    )
    .action(async (options: AuditLocationOptions & { checkpoint?: boolean; json?: boolean }) => {
      const { store, factory, region, key, verification } = await verifyLocated(
        options,
        'verifying audit objects',
      );
      let worm: WormStatus | string;
      try {
        worm = await new AuditWorm(factory, region, store.bucket).status();
      } catch (error) {
        worm = `unknown (${error instanceof Error ? error.message : String(error)})`;
      }
      const intact = verification.findings.length === 0;
      printFindings(verification, !!options.json);
      const summary = {
        objects: verification.objects.length,
        checkpoints: verification.checkpoints.length,
        pinned: verification.pinned.size,
        problems: verification.findings.length,
        keyed: verification.keyed,
        verifiedBy: verification.verifiedBy,
      };
      if (options.json) {
        out(`${terminalSafeJson({ type: 'summary', intact, ...summary, worm })}\n`);
      } else {
        out(
          `${intact ? 'intact' : 'NOT INTACT'}: ${summary.objects} object(s) under oss://${sanitize(store.bucket)}/${sanitize(store.prefix)}, ` +
            `${summary.checkpoints} checkpoint(s) pinning ${summary.pinned}, ${summary.problems} problem(s)\n` +
            `retention: ${typeof worm === 'string' ? sanitize(worm) : describeWorm(worm)}\n` +
            `MACs: ${key ? `checked with audit key ${sanitize(key.id)}` : 'not checked (no audit key)'}\n` +
            describeVerifiedBy(verification.verifiedBy),
        );
      }
      if (verification.checkpoints.length === 0 && !options.checkpoint)
        err(
          `no checkpoint under ${sanitize(checkpointPrefix(store.prefix))} yet: removed records cannot be detected until ` +
            '`ossguard audit lock` or `ossguard audit verify --checkpoint` writes one\n',
        );
      if (!key)
        err(
          `no audit key (config secrets.auditKey, or ${SECRET_ENV.auditKey}): MACs not checked, so a record or checkpoint ` +
            'rewritten with a fresh digest by anyone who can write the bucket goes unnoticed\n',
        );
      if (options.checkpoint) await checkpointAndReport(store, verification, key);
      if (!intact) setExit(1);
    });
};

/** Which audit key verified which records and checkpoints: after a rotation, each version its own. */
function describeVerifiedBy(by: Record<string, { records: number; checkpoints: number }>): string {
  return Object.entries(by)
    .map(
      ([id, n]) => `verified with ${sanitize(id)}: ${n.records} record(s), ${n.checkpoints} checkpoint(s)\n`,
    )
    .join('');
}
