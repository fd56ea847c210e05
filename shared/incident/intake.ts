import pLimit from 'p-limit';
import type { AuditRecord } from '../audit/record';
import { CallLog } from '../clients/calllog';
import { type CloudCredentials, OssGateway } from '../clients/oss';
import { RamGateway } from '../clients/ram';
import { type LeakFinding, SasGateway, sasCaller } from '../clients/sas';
import { runtimeAuditKey } from '../config/secrets';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { CONCURRENCY } from '../pipeline/deliver';
import { ledgerRecord, openLedger } from '../pipeline/resolve';
import { type InvocationDeps, type InvocationResult, runGuard } from '../pipeline/run';
import { leakedAccessKey } from '../rules/leaks/leaked-access-key';
import { LEAK_EVENT, leakGuard, MANUAL_LEAK_EVENT } from './leak-guard';
import { type LiveKey, liveKey } from './live-key';

/**
 * How far back each run asks for findings. A finding is judged once per time its key is switched on (its audit
 * records make later runs duplicates), so the window only has to outlast runs that failed or were missed, and
 * the time a disabled key stays watched for being switched back on: 90 days, as long as `ossguard incident`
 * looks back. Each run reads each finding's records (one GET per judgement) and RAM only for the keys its last
 * judgement left off, so a longer window costs a few reads a finding an hour.
 */
export const LEAK_LOOKBACK_MS = 90 * 24 * 3_600_000;

/**
 * How many times one finding is judged again after its key was switched back on: bounds the ledger walk. A run
 * judges at most one more round a finding, and the sweep's timer runs hourly (s.yaml), so one round an hour of
 * the window is a bound that switching a key on again and again cannot exhaust: past a smaller cap, the key
 * stayed on with no alert.
 */
const MAX_REJUDGEMENTS = LEAK_LOOKBACK_MS / 3_600_000;

/**
 * The sweep's leak step: Security Center publishes no event for a finding (F-SAS-NO-LEAK-EVENTS), so the
 * timer asks for the findings it made in the window, each through the shared pipeline
 * (re-read, decide, disable, alert, audit). Switched off with the rule (`rules: {leaked-access-key: off}`).
 */
export async function leakIntake(
  deps: InvocationDeps,
  credentials: CloudCredentials,
  sasEndpoint?: string,
): Promise<InvocationResult | undefined> {
  const { config } = deps.runtime;
  if (config.rules[leakedAccessKey.id] === 'off') return undefined;
  const now = (deps.now ?? (() => new Date()))();
  const sas = new SasGateway(sasCaller(credentials, sasEndpoint));
  const findings = await sas.leaks(now.getTime() - LEAK_LOOKBACK_MS, new CallLog());
  if (!deps.ram) throw new Error('the leak intake needs RAM clients: pass createRamApi');
  const ram = new RamGateway(deps.ram, new CallLog());
  const audit = {
    gateway: new OssGateway(deps.oss, config.audit.region ?? deps.region, new CallLog()),
    bucket: config.audit.bucket,
    prefix: config.audit.prefix,
    key: runtimeAuditKey(deps.runtime),
  };
  const limit = pLimit(CONCURRENCY);
  const due = await Promise.all(
    findings
      .filter((f) => f.accessKeyId && Number.isFinite(f.id))
      .map((finding) =>
        limit(async () => {
          const record = findingChange(finding, deps.region);
          const round = await judgement(record, audit, () => liveKey(ram, finding.accessKeyId));
          return round === undefined ? [] : [rejudged(record, round)];
        }),
      ),
  );
  const items: ParsedItem[] = due.flat().map((record, index) => ({ kind: 'change', index, record }));
  if (items.length === 0) return { decisions: [], retryableFailures: [] };
  return runGuard(leakGuard(sas, [credentials.accessKeyId]), items, {
    ...deps,
    invocationId: `${deps.invocationId}/leaks`,
  });
}

/**
 * Which judgement of a finding is due: 0 for the first, n for the n-th after its key was switched back on,
 * undefined for none. A finding is judged again only when its last judgement left the key off and RAM now
 * has the key active: someone switched it back on (UpdateAccessKey, Status Active), and a leaked key must not
 * stay on; a finding left on on purpose last time (whitelisted, alerted) stays as it was judged.
 */
async function judgement(
  change: ChangeRecord,
  audit: Parameters<typeof openLedger>[0],
  live: () => Promise<LiveKey | undefined>,
): Promise<number | undefined> {
  for (let round = 0; round <= MAX_REJUDGEMENTS; round++) {
    // The pipeline's own reading of the ledger: a record that does not verify (planted) settles nothing.
    const opened = await openLedger(audit, rejudged(change, round));
    if (opened.kind === 'open') return round;
    const record = await ledgerRecord(opened.ledger);
    if (typeof record === 'string' || !leftOff(record)) return undefined;
    if (round === 0 && (await live())?.status !== 'Active') return undefined;
  }
  return undefined;
}

/**
 * Whether a judgement left the key off: ossguard disabled it, or found it already off (a `skipped` record
 * with no state judged, which is how the pipeline records an observation of `gone`). A whitelisted, alerted,
 * excepted or dry-run judgement left it on on purpose.
 */
const leftOff = (record: AuditRecord): boolean =>
  record.decision === 'remediated' || (record.decision === 'skipped' && record.before === undefined);

/** The change of the n-th judgement after the key was switched back on: its own audit key. */
function rejudged(change: ChangeRecord, round: number): ChangeRecord {
  if (round === 0) return change;
  const eventId = `${change.eventId}/switched-on-${round}`;
  return {
    ...change,
    eventId,
    dedupeKey: eventId,
    requestParameters: { ...change.requestParameters, SwitchedBackOn: String(round) },
  };
}

/**
 * A key reported by hand: judged like a finding, with no Security Center finding behind it. The id carries
 * the time, so reporting the same key again is a new report, not a duplicate.
 */
export function reportLeak(
  deps: InvocationDeps,
  accessKeyId: string,
  ownKeyIds: readonly string[],
): Promise<InvocationResult> {
  const time = (deps.now ?? (() => new Date()))().toISOString();
  const eventId = `incident-${accessKeyId}-${time.replace(/[-:.]/g, '')}`;
  const record: ChangeRecord = {
    ...leakChange(eventId, MANUAL_LEAK_EVENT, deps.region, time, accessKeyId),
    actor: { type: 'unknown', userName: 'ossguard incident' },
  };
  return runGuard(leakGuard(undefined, ownKeyIds), [{ kind: 'change', index: 0, record }], deps);
}

/**
 * The change a finding is. Its id is Security Center's, and its time the first detection, so the next run
 * finds the same audit key and the pipeline makes the finding a duplicate (see `judgement` for a key switched
 * back on).
 */
function findingChange(finding: LeakFinding, region: string): ChangeRecord {
  const time = new Date(Number.isFinite(finding.foundAt) ? finding.foundAt : 0).toISOString();
  const record = leakChange(`sas-leak-${finding.id}`, LEAK_EVENT, region, time, finding.accessKeyId);
  return {
    ...record,
    requestParameters: { FindingId: String(finding.id), UserType: finding.userType, Url: finding.url },
  };
}

function leakChange(
  eventId: string,
  eventName: string,
  region: string,
  time: string,
  accessKeyId: string,
): ChangeRecord {
  return {
    dedupeKey: eventId,
    eventId,
    eventName,
    eventType: 'SecurityFinding',
    service: 'Sas',
    region,
    time,
    actor: { type: 'system', userName: 'security-center' },
    resources: { accessKeyId },
    requestParameters: {},
    origin: 'sweep',
  };
}
