import type { KeyOwner } from '../clients/ram';
import type { OssguardConfig } from '../config/schema';
import { evaluateRules } from '../pipeline/evaluate';
import type { Evaluation, Guard, Observation } from '../pipeline/types';
import { narrowException } from '../rule-exceptions';
import { type ConsoleUserSubject, consoleMfaRules, keyHygieneRules, type StaleKeySubject } from '../rules';
import { keyExceptions } from './key-usage';

interface StaleKeyState {
  subject: StaleKeySubject;
  owner: KeyOwner;
}

const DAY_MS = 86_400_000;

/** A key's age and idle time in whole days, as of `now`; a key never used has been idle since its creation. */
export function staleKeySubject(
  key: { userName: string; accessKeyId: string; createDate: string; lastUsedDate?: string },
  config: OssguardConfig,
  now: Date,
): StaleKeySubject {
  const daysSince = (iso: string): number =>
    Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / DAY_MS));
  return {
    ...key,
    ageDays: daysSince(key.createDate),
    idleDays: daysSince(key.lastUsedDate ?? key.createDate),
    maxAgeDays: config.accessKeys.maxAgeDays,
    unusedDays: config.accessKeys.unusedDays,
  };
}

/** Rules whose finding can be enforced: the others alert whatever their mode (an old key in use is reported). */
const ENFORCEABLE: ReadonlySet<string> = new Set(
  keyHygieneRules.filter((r) => r.remediation).map((r) => r.id),
);

/**
 * key-hygiene-guard: the active keys the sweep found old or unused. The sweep names the user and the key;
 * the guard reads both again (ListAccessKeys, GetAccessKeyLastUsed), so a key switched off or used since is
 * left alone. In enforce mode only an unused key is disabled.
 */
export const keyHygieneGuard: Guard<StaleKeyState> = {
  name: 'key-hygiene-guard',
  // Fed by the sweep alone: no ActionTrail event says a key grew old.
  events: [],

  async observe(change, scope): Promise<Observation<StaleKeyState>> {
    const { ramUser: userName, accessKeyId } = change.resources;
    if (!scope.ram) throw new Error('key-hygiene-guard was built without RAM clients: pass createRamApi');
    if (!userName || !accessKeyId) return { kind: 'gone', reason: 'the sweep named no user and key' };
    const [owner, keys] = await Promise.all([
      scope.ram.keyOwner(accessKeyId),
      scope.ram.listAccessKeys(userName),
    ]);
    const key = keys.find((k) => k.accessKeyId === accessKeyId);
    if (!owner || !key?.createDate)
      return { kind: 'gone', reason: `AccessKey ${accessKeyId} no longer exists` };
    if (key.status !== 'Active')
      return { kind: 'gone', reason: `AccessKey ${accessKeyId} is already ${key.status}` };
    const used = await scope.ram.keyLastUsed(userName, accessKeyId);
    if (!used) return { kind: 'gone', reason: `AccessKey ${accessKeyId} no longer exists` };
    const subject = staleKeySubject(
      { userName, accessKeyId, createDate: key.createDate, ...used },
      scope.config,
      scope.now,
    );
    return { kind: 'present', state: { subject, owner } };
  },

  evaluate(change, { subject, owner }, { config, now }): Evaluation {
    const findings = evaluateRules(keyHygieneRules, subject, config).map((f) =>
      ENFORCEABLE.has(f.ruleId) ? f : { ...f, mode: 'alert' as const },
    );
    return {
      findings,
      exceptions: narrowException(
        keyExceptions(subject.accessKeyId, owner, config, now, change.accountId),
        findings.map((f) => f.ruleId),
      ),
      before: {
        accessKeyId: subject.accessKeyId,
        status: 'Active',
        ageDays: subject.ageDays,
        lastUsed: subject.lastUsedDate ?? null,
      },
      compliantReason: 'no rule fired: the key is recent and in use',
      fix: {
        description: `disable unused AccessKey ${subject.accessKeyId} of ${owner.userName}`,
        actions: [{ kind: 'disable-access-key', userName: owner.userName, accessKeyId: subject.accessKeyId }],
        after: { accessKeyId: subject.accessKeyId, status: 'Inactive' },
      },
      advice: [
        'Prefer STS temporary credentials (a RAM role) to long-lived keys; rotate a key that must stay: create the new one, move the workload, disable and delete the old one.',
      ],
    };
  },
};

/**
 * console-mfa-guard: the RAM users the sweep found able to sign in to the console without an MFA device. It
 * reads both again (GetLoginProfile, GetUserMFAInfo); there is nothing a role could fix, so it alerts.
 */
export const consoleMfaGuard: Guard<ConsoleUserSubject> = {
  name: 'console-mfa-guard',
  // Fed by the sweep alone.
  events: [],

  async observe(change, scope): Promise<Observation<ConsoleUserSubject>> {
    const userName = change.resources.ramUser;
    if (!scope.ram) throw new Error('console-mfa-guard was built without RAM clients: pass createRamApi');
    if (!userName) return { kind: 'gone', reason: 'the sweep named no user' };
    const [consoleLogin, mfaDevice] = await Promise.all([
      scope.ram.hasLoginProfile(userName),
      scope.ram.hasMfaDevice(userName),
    ]);
    return { kind: 'present', state: { userName, consoleLogin, mfaDevice } };
  },

  evaluate(change, subject, { config, now }): Evaluation {
    const findings = evaluateRules(consoleMfaRules, subject, config).map((f) => ({
      ...f,
      mode: 'alert' as const,
    }));
    return {
      findings,
      exceptions: narrowException(
        keyExceptions(undefined, { userName: subject.userName, tags: {} }, config, now, change.accountId),
        findings.map((f) => f.ruleId),
      ),
      before: { user: subject.userName, consoleLogin: subject.consoleLogin, mfaDevice: subject.mfaDevice },
      compliantReason: 'no rule fired: the user has an MFA device or no console login',
      alertReason: 'only the user, or an administrator in the console, can bind an MFA device',
      advice: [
        `Bind an MFA device to ${subject.userName} (RAM console → Users → ${subject.userName} → Authentication → Enable MFA), or require it at next sign-in.`,
      ],
    };
  },
};
