import type { KeyCall, MintedSession, TrailSource } from './trail';

/** What the report says about the key itself, read from RAM and the trail. */
export interface KeyState {
  /** The RAM user that owns it; absent when no RAM user does (the account's own key, or a deleted one). */
  owner?: string;
  /** `Active` or `Inactive` now; absent when RAM could not say. */
  status?: string;
  /** The owner's other keys, with their status: still usable by whoever holds them. */
  otherKeys: Array<{ accessKeyId: string; status: string }>;
  /** When it was last switched off (UpdateAccessKey to Inactive in the trail), if found. */
  disabledAt?: string;
}

export interface IncidentReport {
  accessKeyId: string;
  generatedAt: string;
  from: string;
  to: string;
  source: TrailSource;
  /** Why this source (no logstore configured: management events only). */
  sourceNote: string;
  /**
   * Present when the source still answered some pages as incomplete after the retries (SLS `x-log-progress:
   * Incomplete`, F-SLS-GETLOGS): every count below may be short.
   */
  trailIncomplete?: { pages: number; note: string };
  calls: number;
  firstUse?: string;
  lastUse?: string;
  sourceIps: Array<{ ip: string; calls: number }>;
  byCall: Array<{ service: string; eventName: string; calls: number; failed: number }>;
  /** Every bucket whose data it read or wrote (successful calls). */
  buckets: Array<{ bucket: string; reads: number; writes: number }>;
  /** Every object it read or wrote (successful calls). */
  objects: Array<{ bucket: string; key: string; access: 'read' | 'write'; calls: number }>;
  /** Successful changes to ACLs, policies, keys, users and roles. */
  changes: KeyCall[];
  /** Calls the services refused (probing). */
  failed: KeyCall[];
  /**
   * STS sessions minted with the key (successful AssumeRole calls): their calls carry the session's own key,
   * so they are not in this report; each stays usable until it expires.
   */
  sessions: Array<
    MintedSession & {
      time: string;
      sourceIp: string;
      /** Whether it had not expired when the report was made; absent when the trail gave no expiry. */
      validAtReport?: boolean;
    }
  >;
  key: KeyState & {
    /** Calls made after `disabledAt` (necessarily refused). */
    triedAfterDisable: KeyCall[];
    /** What the report can and cannot tell about use after the key was disabled. */
    stillInUse: string;
  };
  /** Every call, oldest first. */
  timeline: KeyCall[];
}

/** Changes a responder must review: permissions and exposure, not object data. */
const CHANGE = /Acl|Policy|PublicAccessBlock|AccessKey|User|Role|Group|LoginProfile|MFA/;
const IDENTITY_SERVICES = new Set(['Ram', 'Ims', 'Sts']);
const READ_NAME = /^(Get|Head|List|Select|Describe)/;

const isRead = (c: KeyCall): boolean =>
  c.readWrite ? c.readWrite.toLowerCase() === 'read' : READ_NAME.test(c.eventName);
const isChange = (c: KeyCall): boolean =>
  !c.errorCode && !isRead(c) && (CHANGE.test(c.eventName) || IDENTITY_SERVICES.has(c.service));

function counted<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}

const byCount = <T extends { calls: number }>(a: T, b: T): number => b.calls - a.calls;

/**
 * What the key did, from its calls in the trail, and whether it is still in use. Whether ActionTrail records
 * a call refused because its key is disabled is not documented (F-ACTIONTRAIL-INACTIVE-KEY-CALLS): the
 * report says so rather than read "nothing seen" as "nobody tried".
 */
export function buildReport(input: {
  accessKeyId: string;
  calls: readonly KeyCall[];
  from: Date;
  to: Date;
  generatedAt: Date;
  source: TrailSource;
  sourceNote: string;
  /** Pages the source answered as incomplete even after the retries. */
  incompletePages?: number;
  key: KeyState;
}): IncidentReport {
  const unique = [...new Map(input.calls.map((c) => [c.eventId, c])).values()];
  // Stable: calls of the same second stay in the order the trail gave them.
  const timeline = unique.sort((a, b) => a.time.localeCompare(b.time));
  const ok = timeline.filter((c) => !c.errorCode);
  const data = ok.filter((c) => c.service === 'Oss' && c.bucket && !isChange(c));

  const buckets = [...counted(data, (c) => c.bucket ?? '')].map(([bucket, calls]) => ({
    bucket,
    reads: calls.filter(isRead).length,
    writes: calls.filter((c) => !isRead(c)).length,
  }));
  const objects = [
    ...counted(
      data.filter((c) => c.objectKey !== undefined),
      (c) => JSON.stringify([c.bucket, c.objectKey, isRead(c) ? 'read' : 'write']),
    ),
  ].map(([id, calls]) => {
    const [bucket, key, access] = JSON.parse(id) as [string, string, 'read' | 'write'];
    return { bucket, key, access, calls: calls.length };
  });
  const generatedAt = input.generatedAt.toISOString();
  const sessions = ok.flatMap((c) =>
    c.session
      ? [
          {
            time: c.time,
            sourceIp: c.sourceIp,
            ...c.session,
            ...(c.session.expiration ? { validAtReport: c.session.expiration > generatedAt } : {}),
          },
        ]
      : [],
  );
  const triedAfterDisable = input.key.disabledAt
    ? timeline.filter((c) => c.time >= (input.key.disabledAt ?? ''))
    : [];
  return {
    accessKeyId: input.accessKeyId,
    generatedAt,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    source: input.source,
    sourceNote: input.sourceNote,
    ...(input.incompletePages
      ? {
          trailIncomplete: {
            pages: input.incompletePages,
            note:
              `INCOMPLETE: SLS answered ${input.incompletePages} page(s) of the trail as incomplete even after ` +
              'asking again: calls may be missing from every count below; run the report again later.',
          },
        }
      : {}),
    calls: timeline.length,
    ...(timeline[0] ? { firstUse: timeline[0].time } : {}),
    ...(timeline.length ? { lastUse: timeline[timeline.length - 1]?.time } : {}),
    sourceIps: [...counted(timeline, (c) => c.sourceIp || '(none)')]
      .map(([ip, calls]) => ({ ip, calls: calls.length }))
      .sort(byCount),
    byCall: [...counted(timeline, (c) => `${c.service} ${c.eventName}`)]
      .map(([, calls]) => ({
        service: calls[0]?.service ?? '',
        eventName: calls[0]?.eventName ?? '',
        calls: calls.length,
        failed: calls.filter((c) => c.errorCode).length,
      }))
      .sort(byCount),
    buckets: buckets.sort((a, b) => a.bucket.localeCompare(b.bucket)),
    objects: objects.sort((a, b) => `${a.bucket}/${a.key}`.localeCompare(`${b.bucket}/${b.key}`)),
    changes: timeline.filter(isChange),
    failed: timeline.filter((c) => c.errorCode),
    sessions,
    key: {
      ...input.key,
      triedAfterDisable,
      stillInUse: [stillInUse(input.key, triedAfterDisable), sessionsNote(sessions)]
        .filter(Boolean)
        .join(' '),
    },
    timeline,
  };
}

function stillInUse(key: KeyState, tried: readonly KeyCall[]): string {
  const others = key.otherKeys.filter((k) => k.status === 'Active');
  const holder = key.owner
    ? others.length > 0
      ? `${key.owner} still holds ${others.length} other active key(s): ${others.map((k) => k.accessKeyId).join(', ')}; whoever leaked this one may hold those too.`
      : `${key.owner} holds no other active key.`
    : 'No RAM user owns this key (the account’s own key, or one deleted since): no other keys to list.';
  if (key.status === 'Active') return `The key is still active. ${holder}`;
  if (!key.disabledAt)
    return `The key is ${key.status ?? 'in an unknown state'}; when it was disabled is not in the trail searched. ${holder}`;
  if (tried.length > 0) {
    const ips = [...new Set(tried.map((c) => c.sourceIp))].join(', ');
    return `The key was tried ${tried.length} time(s) after it was disabled at ${key.disabledAt}, from ${ips}. ${holder}`;
  }
  return (
    `No call with the key after it was disabled at ${key.disabledAt} is in the trail. ActionTrail is not documented ` +
    `to record calls refused because their key is disabled, so this cannot show that nobody tried. ${holder}`
  );
}

/**
 * Sessions minted with the key outlive its disabling until they expire. Whether disabling or deleting the key
 * ends them early is not documented (unverified), so the report says what the responder can do meanwhile.
 */
function sessionsNote(sessions: IncidentReport['sessions']): string {
  const open = sessions.filter((s) => s.validAtReport !== false);
  if (open.length === 0) return '';
  const roles = [...new Set(open.map((s) => s.roleArn))].join(', ');
  const last = open
    .map((s) => s.expiration ?? '')
    .sort()
    .at(-1);
  return (
    `${open.length} STS session(s) minted with this key may still be valid (roles ${roles}${last ? `, until ${last}` : ''}): ` +
    'disabling the key is not documented to end them; restrict those roles (or their trust policy) until the sessions expire.'
  );
}
