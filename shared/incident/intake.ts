import { CallLog } from '../clients/calllog';
import type { CloudCredentials } from '../clients/oss';
import { type LeakFinding, SasGateway, sasCaller } from '../clients/sas';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { type InvocationDeps, type InvocationResult, runGuard } from '../pipeline/run';
import { leakedAccessKey } from '../rules/leaks/leaked-access-key';
import { LEAK_EVENT, leakGuard, MANUAL_LEAK_EVENT } from './leak-guard';

/**
 * How far back each run asks for findings. A finding is judged once (its audit record makes later runs
 * duplicates), so the window only has to outlast runs that failed or were missed.
 */
export const LEAK_LOOKBACK_MS = 7 * 24 * 3_600_000;

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
  if (deps.runtime.config.rules[leakedAccessKey.id] === 'off') return undefined;
  const now = (deps.now ?? (() => new Date()))();
  const sas = new SasGateway(sasCaller(credentials, sasEndpoint));
  const findings = await sas.leaks(now.getTime() - LEAK_LOOKBACK_MS, new CallLog());
  const items: ParsedItem[] = findings
    .filter((f) => f.accessKeyId && Number.isFinite(f.id))
    .map((f, index) => ({ kind: 'change', index, record: findingChange(f, deps.region) }));
  if (items.length === 0) return { decisions: [], retryableFailures: [] };
  return runGuard(leakGuard(sas, [credentials.accessKeyId]), items, {
    ...deps,
    invocationId: `${deps.invocationId}/leaks`,
  });
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
 * finds the same audit key and the pipeline makes the finding a duplicate.
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
