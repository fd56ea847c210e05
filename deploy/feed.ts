import type { OssguardConfig } from '../shared/config/schema';

/**
 * ossguard's one reliable feed: an ActionTrail trail over every region that writes to the logstore
 * `actiontrail_<trail>` in an SLS project of the home region, where the log-triggered function runs.
 * `ossguard bootstrap` creates it and `ossguard doctor` checks it; both read the names from here.
 */

/** Days the trigger-log logstore keeps its records: operational logs, not evidence. */
export const TRIGGER_LOG_TTL_DAYS = 30;
/** SLS stores a logstore's data permanently when its ttl is 3650 (F-SLS-LOGSTORE-TTL). */
export const PERMANENT_TTL_DAYS = 3650;
/** The role SLS assumes to invoke a log-triggered function; fc3 creates it when s.yaml names none (F-FC-LOGTRIGGER-ROLE). */
export const LOG_TRIGGER_ROLE = 'AliyunLogETLRole';
export const LOG_TRIGGER_ROLE_POLICY = 'AliyunLogETLRolePolicy';
export const LOG_SERVICE_PRINCIPAL = 'log.aliyuncs.com';
/** The service a function's role must trust (F-FC-FUNCTION-ROLE-TRUST). */
export const FC_SERVICE_PRINCIPAL = 'fc.aliyuncs.com';

export interface FeedSettings {
  trailName: string;
  /** Home region: the trail, its SLS project and the log-triggered function live here. */
  region: string;
  project: string;
  /** `actiontrail_<trail>`: the name ActionTrail gives the logstore it creates (F-SLS-TRAIL-LOGSTORE). */
  logstore: string;
  retentionDays: number;
  ossReadEvents: boolean;
  /** The config has an `organization`: the trail is the directory's multi-account trail (F-ORG-TRAIL). */
  organization: boolean;
}

export const trailLogstoreOf = (trailName: string): string => `actiontrail_${trailName}`;

/**
 * The trail settings of a config. The home region is `trail.region`, else the audit region, else the one
 * region the functions run in (`fallbackRegion`).
 */
export function feedSettings(config: OssguardConfig, fallbackRegion: string): FeedSettings {
  const trail = config.trail;
  return {
    trailName: trail.name,
    region: trail.region ?? config.audit.region ?? fallbackRegion,
    project: trail.project,
    logstore: trailLogstoreOf(trail.name),
    retentionDays: trail.retentionDays,
    ossReadEvents: trail.ossReadEvents,
    organization: config.organization !== undefined,
  };
}

/** `acs:log:<region>:<uid>:project/<project>`, as CreateTrail's SlsProjectArn takes it (F-ACTIONTRAIL-CREATETRAIL). */
export const slsProjectArn = (region: string, accountId: string, project: string): string =>
  `acs:log:${region}:${accountId}:project/${project}`;

/** The region and project an SLS project ARN names; undefined for anything else. */
export function parseSlsProjectArn(arn: string | undefined): { region: string; project: string } | undefined {
  const match = /^acs:log:([^:]+):[^:]*:project\/([^/]+)$/.exec(arn ?? '');
  return match?.[1] && match[2] ? { region: match[1], project: match[2] } : undefined;
}

export interface DataEventSelector {
  ServiceName: string;
  ReadWriteType: 'Read' | 'Write' | 'All';
  EventName?: { Equals?: string[]; NotEquals?: string[] };
  ResourceArn?: { Equals?: string[]; NotEquals?: string[] };
}

/**
 * OSS data events: writes, or reads and writes when `trail.ossReadEvents` (F-ACTIONTRAIL-DATA-EVENT-SELECTOR).
 * No EventName or ResourceArn filter: every object write of every bucket.
 */
export function ossDataEventSelectors(ossReadEvents: boolean): DataEventSelector[] {
  return [{ ServiceName: 'Oss', ReadWriteType: ossReadEvents ? 'All' : 'Write' }];
}

/** The selectors a GetDataEventSelector answer holds, or [] when it holds none that parse. */
export function parseSelectors(text: string | undefined): DataEventSelector[] {
  try {
    const parsed = JSON.parse(text ?? '') as unknown;
    return Array.isArray(parsed) ? (parsed as DataEventSelector[]) : [];
  } catch {
    return [];
  }
}

/** Whether the selectors record every OSS write (and every read, when asked), unfiltered. */
export function selectsOssWrites(selectors: readonly DataEventSelector[], reads: boolean): boolean {
  return selectors.some(
    (s) =>
      s.ServiceName?.toLowerCase() === 'oss' &&
      (s.ReadWriteType === 'All' || (!reads && s.ReadWriteType === 'Write')) &&
      !s.EventName &&
      !s.ResourceArn,
  );
}

/** Whether a trust policy lets `service` assume the role. */
export function trustsService(document: string | undefined, service: string): boolean {
  try {
    const parsed = JSON.parse(document ?? '') as { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [];
    return statements.some((raw) => {
      const s = raw as { Effect?: string; Action?: unknown; Principal?: { Service?: unknown } };
      const services = [s.Principal?.Service].flat();
      const actions = [s.Action].flat();
      const named = services.some(
        (v) => v === service || (typeof v === 'string' && v.endsWith(`@${service}`)),
      );
      return s.Effect === 'Allow' && actions.includes('sts:AssumeRole') && named;
    });
  } catch {
    return false;
  }
}
