export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (severity: Severity): number => SEVERITIES.indexOf(severity);

export const atLeast = (severity: Severity, threshold: Severity): boolean =>
  severityRank(severity) >= severityRank(threshold);
