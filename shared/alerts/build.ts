import type { UnsignedAuditRecord } from '../audit/record';
import { type Severity, severityRank } from '../severity';
import type { Alert } from './types';

const HEADLINE: Record<UnsignedAuditRecord['decision'], string> = {
  remediated: 'reverted',
  alerted: 'needs attention',
  'dry-run': 'would be reverted (dry-run)',
  failed: 'could not be checked or fixed',
  excepted: 'allowed by an exception',
  skipped: 'no action needed',
  reported: 'in an account ossguard does not act in',
};

function resourceLabel(record: UnsignedAuditRecord): string {
  const { bucket, objectKey, ramUser, accessKeyId } = record.resource;
  if (objectKey && bucket) return `oss://${bucket}/${objectKey}`;
  if (bucket) return `bucket ${bucket}`;
  if (accessKeyId) return `AccessKey ${accessKeyId}${ramUser ? ` of ${ramUser}` : ''}`;
  if (ramUser) return `RAM user ${ramUser}`;
  return 'the account';
}

function highestSeverity(record: UnsignedAuditRecord): Severity {
  if (record.decision === 'failed' && record.rules.length === 0) return 'high';
  return record.rules.reduce<Severity>(
    (top, f) => (severityRank(f.severity) > severityRank(top) ? f.severity : top),
    'info',
  );
}

/**
 * The alert for a decision, built from the audit record so both say the same thing. Values stay raw here;
 * each channel escapes them for its own format.
 */
/** The record need not be signed yet: the alert carries no digest, and signing is not free in a burst. */
export function alertFor(record: UnsignedAuditRecord, advice: readonly string[] = []): Alert {
  const actor = record.actor;
  const via = record.eventType === 'ConsoleOperation' ? 'console' : 'API';
  const facts: Alert['facts'] = [
    { label: 'Resource', value: resourceLabel(record) },
    { label: 'Change', value: `${record.eventName} (${via}) in ${record.region} at ${record.time}` },
    { label: 'Actor', value: `${actor.userName ?? actor.principalId ?? 'unknown'} (${actor.type})` },
    { label: 'Source IP', value: actor.sourceIp ?? 'unknown' },
    // The audit record's own word, so an alert can be matched to the record and a filter can key on it.
    { label: 'Decision', value: record.decision },
  ];
  // In an organization, which member the change was in (the deploying account's own need not be said).
  if (record.accountId && record.deployAccountId && record.accountId !== record.deployAccountId)
    facts.unshift({ label: 'Account', value: record.accountId });
  if (record.before) facts.push({ label: 'Before', value: JSON.stringify(record.before) });
  if (record.after) facts.push({ label: 'After', value: JSON.stringify(record.after) });
  for (const finding of record.rules) {
    facts.push({
      label: `Rule ${finding.ruleId} (${finding.severity}, ${finding.mode})`,
      value: finding.message,
    });
  }
  for (const ignored of record.ignoredExceptions ?? []) {
    facts.push({ label: 'Ignored exception', value: `${ignored.source} ${ignored.match}: ${ignored.why}` });
  }
  if (record.error) facts.push({ label: 'Error', value: record.error.message });

  const actions = [`ossguard: ${record.reason}`, ...advice];
  if (record.resource.bucket && record.decision !== 'failed') {
    actions.push(
      `To allow this on purpose, tag the bucket: ossguard-exception = until=YYYY-MM-DD;reason=<why>;rules=<rule ids> (or add it to exceptions.buckets in the config).`,
    );
  }
  actions.push(`Audit record: event ${record.eventId}`);

  return {
    id: record.dedupeKey,
    severity: highestSeverity(record),
    title: `[ossguard] ${resourceLabel(record)} ${HEADLINE[record.decision]}`,
    summary: record.rules.map((f) => f.message).join('; ') || record.reason,
    facts,
    actions,
    rules: record.rules.map((f) => f.ruleId),
    time: record.decidedAt,
  };
}
