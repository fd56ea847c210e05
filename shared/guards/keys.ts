import type { KeyOwner, RamGateway } from '../clients/ram';
import { EventParseError } from '../errors';
import { KEY_GUARD_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { ChangeScope, Evaluation, Guard, Observation } from '../pipeline/types';
import { evaluateExceptions, narrowException } from '../rule-exceptions';
import { type KeySubject, keyRules } from '../rules';

interface KeyState {
  subject: Omit<KeySubject, 'allowedSourceCidrs'>;
  owner?: KeyOwner;
}

/** Rules that judge the creator's act (who, with MFA, from where), not the key's owner. */
const CREATOR_RULES: ReadonlySet<string> = new Set(['key-for-other-user', 'no-mfa', 'untrusted-source']);

/** What a person must do by hand: no role can disable the account's own AccessKey (F-IMS-UPDATEACCESSKEY). */
export const ROOT_KEY_STEPS = [
  'A role cannot disable an AccessKey of the Alibaba Cloud account itself. The account owner must do it:',
  '1. Sign in to the Alibaba Cloud console as the account owner (root), with MFA.',
  '2. Open the AccessKey page (avatar menu → AccessKey), find the key named above, and click Disable, then Delete.',
  '3. Find what used the key and move it to a RAM user with least privilege, or better to a RAM role with STS tokens.',
];

/**
 * access-key-guard: CreateAccessKey and UpdateAccessKey from RAM or IMS. The event says which key was created
 * or switched, and by whom; the owner, its keys (with the key's status now) and its console login come from
 * the RAM/IMS APIs, so a key switched back on is judged like a new one, and one switched off is skipped.
 */
export const keyGuard: Guard<KeyState> = {
  name: 'access-key-guard',
  events: KEY_GUARD_EVENTS,

  async observe(change, scope): Promise<Observation<KeyState>> {
    const ram = requireRam(scope);
    const accessKeyId = change.resources.accessKeyId;
    if (!accessKeyId) {
      throw new EventParseError(`${change.eventName} event names no AccessKey id`, {
        eventId: change.eventId,
      });
    }
    const target = targetOf(change);
    if (target.kind === 'root') {
      // No role may read the account's own keys: the request's Status is the only hint of a root key being
      // switched off, which leaves nothing to warn about; anything else (on, or no Status) is alerted like a
      // new root key.
      const status = change.requestParameters.Status?.toLowerCase();
      if (change.eventName === 'UpdateAccessKey' && status === 'inactive') {
        return { kind: 'gone', reason: `AccessKey ${accessKeyId} of the account was not switched on` };
      }
      return { kind: 'present', state: { subject: rootSubject(change, accessKeyId) } };
    }
    // The user is named in the event: read owner, keys and login profile in one round trip.
    const [owner, keys, consoleLogin] = await Promise.all([
      ram.keyOwner(accessKeyId),
      ram.listAccessKeys(target.userName),
      ram.hasLoginProfile(target.userName),
    ]);
    const key = keys.find((k) => k.accessKeyId === accessKeyId);
    if (!owner || !key) return { kind: 'gone', reason: `AccessKey ${accessKeyId} no longer exists` };
    if (key.status !== 'Active') {
      return { kind: 'gone', reason: `AccessKey ${accessKeyId} is already ${key.status}` };
    }
    return {
      kind: 'present',
      state: {
        owner,
        subject: {
          accessKeyId,
          owner: owner.userName,
          isRootKey: false,
          creator: change.actor,
          activeKeys: keys.filter((k) => k.status === 'Active').length,
          consoleLogin,
        },
      },
    };
  },

  evaluate(change, { subject, owner }, { config, now }): Evaluation {
    const full: KeySubject = { ...subject, allowedSourceCidrs: config.accessKeys.allowedSourceCidrs };
    const findings = evaluateRules(keyRules, full, config);
    if (subject.isRootKey || !owner) {
      // Nothing to enforce with: every finding is an alert, with the steps a person must take.
      return {
        findings: findings.map((f) => ({ ...f, mode: 'alert' })),
        exceptions: { ignored: [] },
        before: { accessKeyId: subject.accessKeyId, status: 'Active' },
        compliantReason: 'no rule fired',
        alertReason: 'a root AccessKey cannot be disabled by a role: the account owner must disable it',
        advice: ROOT_KEY_STEPS,
      };
    }
    const { tagKey } = config.exceptions;
    // An exception is the key owner's: rules about the creator's act are not its to waive when someone
    // else created the key (a `ci-*` exception must not let anyone mint keys for the CI user).
    const self = subject.creator.type === 'ram-user' && subject.creator.userName === owner.userName;
    const exceptions = narrowException(
      evaluateExceptions(
        owner.userName,
        config.exceptions.users.map((e) => ({ pattern: e.user, ...e })),
        owner.tags,
        config.exceptions,
        now,
        change.accountId,
      ),
      findings.map((f) => f.ruleId),
      self ? undefined : CREATOR_RULES,
    );
    return {
      findings,
      exceptions,
      before: { accessKeyId: subject.accessKeyId, status: 'Active', activeKeys: subject.activeKeys },
      compliantReason: 'no rule fired: the key was created by its owner, with MFA, from an allowed network',
      fix: {
        description: `disable AccessKey ${subject.accessKeyId}`,
        actions: [{ kind: 'disable-access-key', userName: owner.userName, accessKeyId: subject.accessKeyId }],
        after: { accessKeyId: subject.accessKeyId, status: 'Inactive' },
      },
      advice: [
        `To allow keys for ${owner.userName} on purpose, tag the RAM user: ${tagKey} = until=YYYY-MM-DD;reason=<why>;rules=<rule ids> (or add the user to exceptions.users in the config). No exception waives a rule about another user's act: ${owner.userName} must create the key.`,
      ],
    };
  },
};

/**
 * RAM names the user in `UserName`, IMS in `UserPrincipalName`; with neither, the key is the caller's own
 * (IMS CreateAccessKey doc), which for a root-account caller is a root key. A kind, not a magic name: a RAM
 * user may well be called `root`.
 */
function targetOf(change: ChangeRecord): { kind: 'root' } | { kind: 'user'; userName: string } {
  const userName =
    change.resources.ramUser ?? (change.actor.type === 'ram-user' ? change.actor.userName : undefined);
  if (userName) return { kind: 'user', userName };
  if (change.actor.type === 'root-account') return { kind: 'root' };
  throw new EventParseError(
    `${change.eventName} event names no user and was not made by a RAM user or the account`,
    { eventId: change.eventId },
  );
}

function rootSubject(change: ChangeRecord, accessKeyId: string): KeyState['subject'] {
  return { accessKeyId, isRootKey: true, creator: change.actor, activeKeys: 1, consoleLogin: true };
}

function requireRam(scope: ChangeScope): RamGateway {
  if (!scope.ram)
    throw new Error(
      'access-key-guard was built without RAM clients: pass createRamApi to createFunctionHandler',
    );
  return scope.ram;
}
