import { createHash } from 'node:crypto';
import type { KeyOwner } from '../clients/ram';
import type { OssguardConfig } from '../config/schema';
import type { Actor, ChangeRecord, ParsedItem } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { Evaluation, Guard, Observation } from '../pipeline/types';
import { type ExceptionOutcome, evaluateExceptions, narrowException } from '../rule-exceptions';
import { type KeyUseSubject, keyUseRules } from '../rules';
import { maskKeyId, signingKeyOf } from '../rules/key-use/subject';
import type { AllowedNetworks } from '../rules/keys/source';
import { wildcardMatches } from '../wildcard';
import { ROOT_KEY_STEPS } from './keys';

interface KeyUseState {
  subject: KeyUseSubject;
  /** The RAM user that owns the signing key, when a RAM user's key signed the call (for tag exceptions). */
  owner?: KeyOwner;
}

/**
 * Where a key may sign calls from: the first `accessKeys.allowedNetworks` entry naming the key, else the first
 * naming its user, else `accessKeys.allowedSourceCidrs`.
 */
export function allowedNetworksFor(keys: OssguardConfig['accessKeys'], actor: Actor): AllowedNetworks {
  const { userName, accessKeyId } = actor;
  const entry =
    keys.allowedNetworks.find((e) => e.accessKeyId !== undefined && e.accessKeyId === accessKeyId) ??
    (actor.type === 'ram-user' && userName
      ? keys.allowedNetworks.find((e) => e.user !== undefined && wildcardMatches(e.user, userName))
      : undefined);
  return entry
    ? { cidrs: entry.cidrs, vpcIds: entry.vpcIds }
    : { cidrs: keys.allowedSourceCidrs, vpcIds: [] };
}

export const keyUseSubjectOf = (change: ChangeRecord, config: OssguardConfig): KeyUseSubject => ({
  eventName: change.eventName,
  eventType: change.eventType,
  service: change.service,
  actor: change.actor,
  allowed: allowedNetworksFor(config.accessKeys, change.actor),
});

/**
 * Exceptions for a key: config entries by key id first (the only kind a root key can have), then by the
 * owner's name, then the owner's exception tag.
 */
export function keyExceptions(
  accessKeyId: string | undefined,
  owner: KeyOwner | undefined,
  config: OssguardConfig,
  now: Date,
  /** The account the key belongs to: the change's member account. */
  accountId: string | undefined,
): ExceptionOutcome {
  const { exceptions } = config;
  const byKey = accessKeyId
    ? evaluateExceptions(
        accessKeyId,
        exceptions.accessKeys.map((e) => ({ pattern: e.accessKeyId, ...e })),
        {},
        exceptions,
        now,
        accountId,
      )
    : { ignored: [] };
  if (byKey.applied || !owner) return byKey;
  const byUser = evaluateExceptions(
    owner.userName,
    exceptions.users.map((e) => ({ pattern: e.user, ...e })),
    owner.tags,
    exceptions,
    now,
    accountId,
  );
  return { ...byUser, ignored: [...byKey.ignored, ...byUser.ignored] };
}

/**
 * Of the trail's records of calls signed with an AccessKey and of console sign-ins, those a key-usage rule
 * fires on and no config exception for the key covers. Every call of the account passes through here, so
 * this is pure and cheap: only the few it keeps are read, judged and audited.
 *
 * Each kept record gets a dedupe key of this guard's own, so that its audit record never stands in for the
 * record another guard keeps of the same event; a root key's uses of one hour share one key, so the first
 * alerts and the rest of that hour are duplicates of it (at most one alert per key per hour, kept in the
 * audit bucket like every record). The key is hashed there: alerts show the dedupe key, and the id masked.
 */
export function keyUsesToJudge(
  items: readonly ParsedItem[],
  config: OssguardConfig,
  now: Date,
): ParsedItem[] {
  const kept: ParsedItem[] = [];
  for (const item of items) {
    if (item.kind !== 'change') continue;
    const change = item.record;
    const subject = keyUseSubjectOf(change, config);
    const findings = evaluateRules(keyUseRules, subject, config);
    if (findings.length === 0) continue;
    const excepted = narrowException(
      keyExceptions(signingKeyOf(subject), undefined, config, now, change.accountId),
      findings.map((f) => f.ruleId),
    );
    if (excepted.applied) continue;
    const key = signingKeyOf(subject);
    const dedupeKey = findings.some((f) => f.ruleId === 'root-key-in-use')
      ? `key-usage-guard/root-key/${createHash('sha256')
          .update(key ?? '')
          .digest('hex')
          .slice(0, 16)}/${change.time.slice(0, 13)}`
      : `key-usage-guard/${change.dedupeKey}`;
    kept.push({ ...item, record: { ...change, dedupeKey } });
  }
  return kept;
}

/**
 * Whether any rule may fire on a RAM user's key use: only key-used-outside-network does, and only where some
 * network is allowed (accessKeys.allowedNetworks or allowedSourceCidrs). trail-guard keeps no other such record.
 */
export function judgesRamUserKeys(config: OssguardConfig): boolean {
  const { allowedNetworks, allowedSourceCidrs } = config.accessKeys;
  return (
    config.rules['key-used-outside-network'] !== 'off' &&
    (allowedNetworks.length > 0 || allowedSourceCidrs.length > 0)
  );
}

/**
 * key-usage-guard: how keys and console sessions are used, from the trail (every call of the account; a
 * sign-in never reaches EventBridge, F-ACTIONTRAIL-SIGNIN-TRAIL-ONLY). The call itself is history the record is the
 * only witness of; the state re-read is the signing key's: a key already switched off is left alone.
 */
export const keyUsageGuard: Guard<KeyUseState> = {
  name: 'key-usage-guard',
  // Fed by trail-guard alone (`keyUsesToJudge`), never by an EventBridge rule.
  events: [],

  async observe(change, scope): Promise<Observation<KeyUseState>> {
    const subject = keyUseSubjectOf(change, scope.config);
    const key = signingKeyOf(subject);
    const userName = subject.actor.userName;
    if (!key || subject.actor.type !== 'ram-user' || !userName)
      return { kind: 'present', state: { subject } };
    if (!scope.ram) throw new Error('key-usage-guard was built without RAM clients: pass createRamApi');
    const [owner, keys] = await Promise.all([scope.ram.keyOwner(key), scope.ram.listAccessKeys(userName)]);
    const status = keys.find((k) => k.accessKeyId === key)?.status;
    if (!owner || !status) return { kind: 'gone', reason: `AccessKey ${maskKeyId(key)} no longer exists` };
    if (status !== 'Active')
      return { kind: 'gone', reason: `AccessKey ${maskKeyId(key)} is already ${status}` };
    return { kind: 'present', state: { subject, owner } };
  },

  evaluate(change, { subject, owner }, { config, now }): Evaluation {
    const findings = evaluateRules(keyUseRules, subject, config);
    const key = signingKeyOf(subject);
    const before = { accessKeyId: key ? maskKeyId(key) : null, status: key ? 'Active' : null };
    // An exception waives only the rules it names (shared/rule-exceptions.ts).
    const exceptions = narrowException(
      keyExceptions(key, owner, config, now, change.accountId),
      findings.map((f) => f.ruleId),
    );
    if (!key || !owner) {
      // A root key no role may disable (F-IMS-UPDATEACCESSKEY), or a sign-in: every finding is an alert.
      const root = subject.actor.type === 'root-account' && key !== undefined;
      return {
        findings: findings.map((f) => ({ ...f, mode: 'alert' })),
        exceptions,
        before,
        compliantReason: 'no rule fired',
        ...(root
          ? {
              alertReason: 'a root AccessKey cannot be disabled by a role: the account owner must disable it',
              advice: ROOT_KEY_STEPS,
            }
          : {}),
      };
    }
    return {
      findings,
      exceptions,
      before,
      compliantReason: 'no rule fired: the key was used from an allowed network',
      fix: {
        description: `disable AccessKey ${maskKeyId(key)} of ${owner.userName}`,
        actions: [{ kind: 'disable-access-key', userName: owner.userName, accessKeyId: key }],
        after: { accessKeyId: maskKeyId(key), status: 'Inactive' },
      },
      advice: [
        `To allow this key's use from elsewhere, add its network to accessKeys.allowedNetworks, or an exception (exceptions.accessKeys, or tag the RAM user ${config.exceptions.tagKey} = until=YYYY-MM-DD;reason=<why>).`,
      ],
    };
  },
};
