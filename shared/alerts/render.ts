import { type Severity, severityRank } from '../severity';
import { escapeHtml, escapeMarkdown, MAX_VALUE_CHARS, singleLine } from './text';
import type { Alert } from './types';

/**
 * Pure renderings of alerts for each channel. All of them show the same parts in the same order (severity,
 * title, summary, every fact, the actions, id and time); only the escaping differs. Every untrusted value
 * goes through `text.ts` on its way in, so it stays on its own line and reads as literal text.
 */

const SEVERITY_MARK: Record<Severity, string> = {
  critical: '🔴',
  high: '🟠',
  medium: '🟡',
  low: '🔵',
  info: '⚪',
};

const SEVERITY_COLOUR: Record<Severity, string> = {
  critical: '#b71c1c',
  high: '#e65100',
  medium: '#f9a825',
  low: '#1565c0',
  info: '#616161',
};

const SUMMARY_CHARS = 2 * MAX_VALUE_CHARS;
const DIGEST_ENTRY_CHARS = 200;
const ACTIONS_HEADING = 'What ossguard did, and what you can do:';

const label = (severity: Severity): string => severity.toUpperCase();

/** Most severe first; alerts of equal severity keep their order. */
export function bySeverity(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((alert, index) => ({ alert, index }))
    .sort((a, b) => severityRank(b.alert.severity) - severityRank(a.alert.severity) || a.index - b.index)
    .map(({ alert }) => alert);
}

export function highestSeverity(alerts: readonly Alert[]): Severity {
  return bySeverity(alerts)[0]?.severity ?? 'info';
}

export interface DingTalkMarkdown {
  /** Shown in the notification preview; plain text, not rendered. */
  title: string;
  text: string;
}

export function renderDingTalkMarkdown(alert: Alert): DingTalkMarkdown {
  const lines = [
    `### ${SEVERITY_MARK[alert.severity]} ${label(alert.severity)} · ${escapeMarkdown(alert.title)}`,
    '',
    escapeMarkdown(alert.summary, SUMMARY_CHARS),
    '',
    ...alert.facts.map((fact) => `- **${escapeMarkdown(fact.label)}:** ${escapeMarkdown(fact.value)}`),
  ];
  if (alert.actions.length > 0) {
    lines.push('', `**${ACTIONS_HEADING}**`, '', ...alert.actions.map((a) => `- ${escapeMarkdown(a)}`));
  }
  lines.push('', `ossguard alert ${escapeMarkdown(alert.id)} · ${escapeMarkdown(alert.time)}`);
  return { title: singleLine(`${label(alert.severity)} ${alert.title}`, 100), text: lines.join('\n') };
}

export interface DigestPart {
  index: number;
  total: number;
}

/** An alert's line in a DingTalk digest. */
export function renderDingTalkDigestEntry(alert: Alert): string {
  return (
    `- ${SEVERITY_MARK[alert.severity]} **${label(alert.severity)}** ` +
    `${escapeMarkdown(alert.title, DIGEST_ENTRY_CHARS)}: ${escapeMarkdown(alert.summary, DIGEST_ENTRY_CHARS)} · ` +
    escapeMarkdown(alert.id, DIGEST_ENTRY_CHARS)
  );
}

/** One message listing many alerts, for bursts beyond DingTalk's rate limit: one line per alert. */
export function renderDingTalkDigest(alerts: readonly Alert[], part?: DigestPart): DingTalkMarkdown {
  const top = highestSeverity(alerts);
  const of = part && part.total > 1 ? ` (part ${part.index} of ${part.total})` : '';
  const lines = [
    `### ${SEVERITY_MARK[top]} ossguard digest: ${alerts.length} alerts, most severe ${label(top)}${of}`,
    '',
    'Listed together to stay within the robot rate limit; every alert is in the audit log in full.',
    '',
    ...bySeverity(alerts).map(renderDingTalkDigestEntry),
  ];
  return {
    title: `[ossguard] ${alerts.length} alerts, most severe ${label(top)}${of}`,
    text: lines.join('\n'),
  };
}

export interface RenderedEmail {
  /** One line, no control characters: nothing in it can end the header. */
  subject: string;
  text: string;
  html: string;
}

function textSection(alert: Alert): string {
  const lines = [
    `${label(alert.severity)}: ${singleLine(alert.title)}`,
    '',
    singleLine(alert.summary, SUMMARY_CHARS),
    '',
    ...alert.facts.map((fact) => `${singleLine(fact.label)}: ${singleLine(fact.value)}`),
  ];
  if (alert.actions.length > 0) {
    lines.push('', ACTIONS_HEADING, ...alert.actions.map((a) => `- ${singleLine(a)}`));
  }
  lines.push('', `ossguard alert ${singleLine(alert.id)} at ${singleLine(alert.time)}`);
  return lines.join('\n');
}

function htmlSection(alert: Alert): string {
  const colour = SEVERITY_COLOUR[alert.severity];
  const rows = alert.facts
    .map(
      (fact) =>
        `<tr><th align="left" style="vertical-align:top;padding:2px 12px 2px 0">${escapeHtml(fact.label)}</th>` +
        `<td style="word-break:break-all">${escapeHtml(fact.value)}</td></tr>`,
    )
    .join('\n');
  const actions =
    alert.actions.length > 0
      ? `<p><b>${ACTIONS_HEADING}</b></p>\n<ul>\n${alert.actions.map((a) => `<li>${escapeHtml(a)}</li>`).join('\n')}\n</ul>`
      : '';
  return [
    `<div style="border-left:6px solid ${colour};padding:4px 12px;margin:0 0 24px">`,
    `<p style="margin:0;font-weight:bold;color:${colour}">${label(alert.severity)}</p>`,
    `<h2 style="margin:4px 0 8px">${escapeHtml(alert.title)}</h2>`,
    `<p>${escapeHtml(alert.summary, SUMMARY_CHARS)}</p>`,
    `<table style="border-collapse:collapse">\n${rows}\n</table>`,
    actions,
    `<p style="color:#666;font-size:12px">ossguard alert ${escapeHtml(alert.id)} at ${escapeHtml(alert.time)}</p>`,
    '</div>',
  ]
    .filter(Boolean)
    .join('\n');
}

const htmlDocument = (body: string): string =>
  `<!doctype html>\n<html><head><meta charset="utf-8"></head>\n<body style="font-family:sans-serif">\n${body}\n</body></html>\n`;

export function renderEmail(alert: Alert): RenderedEmail {
  return {
    subject: singleLine(`[${label(alert.severity)}] ${alert.title}`, 200),
    text: `${textSection(alert)}\n`,
    html: htmlDocument(htmlSection(alert)),
  };
}

/**
 * How many alerts a digest email shows in full; the rest get one line each. A thousand full sections would
 * bury the ones that matter (and cost the function ~45 MB to encode); every alert stays in the audit log.
 */
export const EMAIL_DIGEST_DETAILED = 20;

/** An alert's line in an email digest: severity, title, summary and id, like a DingTalk digest entry. */
function textDigestEntry(alert: Alert): string {
  return (
    `- ${label(alert.severity)} ${singleLine(alert.title, DIGEST_ENTRY_CHARS)}: ` +
    `${singleLine(alert.summary, DIGEST_ENTRY_CHARS)} · ${singleLine(alert.id)}`
  );
}

function htmlDigestEntry(alert: Alert): string {
  return (
    `<li><b style="color:${SEVERITY_COLOUR[alert.severity]}">${label(alert.severity)}</b> ` +
    `${escapeHtml(alert.title, DIGEST_ENTRY_CHARS)}: ${escapeHtml(alert.summary, DIGEST_ENTRY_CHARS)} · ` +
    `${escapeHtml(alert.id)}</li>`
  );
}

/**
 * One email for a burst, most severe first: the first EMAIL_DIGEST_DETAILED alerts in full, then one line
 * for each of the others.
 */
export function renderEmailDigest(alerts: readonly Alert[]): RenderedEmail {
  const sorted = bySeverity(alerts);
  const detailed = sorted.slice(0, EMAIL_DIGEST_DETAILED);
  const listed = sorted.slice(EMAIL_DIGEST_DETAILED);
  const top = label(highestSeverity(alerts));
  const intro = `${alerts.length} alerts from ossguard, most severe first.`;
  const rest =
    listed.length > 0
      ? `${listed.length} more, one line each; each in full in the audit log (ossguard audit show <id>):`
      : '';
  const text = [
    intro,
    detailed.map(textSection).join('\n\n----\n\n'),
    ...(rest ? [`----\n\n${rest}\n\n${listed.map(textDigestEntry).join('\n')}`] : []),
  ];
  const html = [
    `<p>${intro}</p>`,
    ...detailed.map(htmlSection),
    ...(rest ? [`<p>${escapeHtml(rest)}</p>\n<ul>\n${listed.map(htmlDigestEntry).join('\n')}\n</ul>`] : []),
  ];
  return {
    subject: `[${top}] [ossguard] ${alerts.length} alerts, most severe ${top}`,
    text: `${text.join('\n\n')}\n`,
    html: htmlDocument(html.join('\n')),
  };
}
