import type { LeakDetail, SasGateway } from '../clients/sas';
import { EventParseError } from '../errors';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { ChangeScope, Evaluation, Guard, Observation } from '../pipeline/types';
import { type LeakSubject, leakedAccessKey } from '../rules/leaks/leaked-access-key';
import { liveKey } from './live-key';

/** A finding of Security Center's AccessKey leak detection, read on the sweep's timer (F-SAS-LEAK-LIST). */
export const LEAK_EVENT = 'SasAccessKeyLeak';
/** A key reported as leaked by a person: `ossguard incident <AccessKeyId> --disable`. */
export const MANUAL_LEAK_EVENT = 'OssguardIncidentDisable';

interface LeakState {
  subject: LeakSubject;
}

/**
 * The command a responder runs to see what the key did; alerts carry it. No `--since`: the key may have been
 * used long before Security Center saw it, so the command's default window (90 days) applies.
 */
export const incidentCommand = (accessKeyId: string): string =>
  `ossguard incident ${accessKeyId} --html incident-${accessKeyId}.html`;

/**
 * What a person must do for a leaked key of the account itself: a role cannot disable it
 * (F-IMS-UPDATEACCESSKEY), and a key that keeps working after a leak must be rotated, not only reported.
 */
const ROOT_ROTATION_STEPS = [
  'A role cannot disable an AccessKey of the Alibaba Cloud account itself: the account owner must rotate it now.',
  '1. Sign in to the Alibaba Cloud console as the account owner (root), with MFA, and open the AccessKey page.',
  '2. Disable the leaked key at once; whatever breaks shows where it was used.',
  '3. Give each such workload a RAM user or, better, a RAM role with least privilege (not a new root key).',
  '4. Delete the leaked key once nothing legitimate needs it.',
];

const MISMATCH_STEPS = [
  'Open the finding in Security Center and check which account and key it names.',
  'If the key is one of yours, disable it by hand (or run `ossguard incident <AccessKeyId> --disable` in its account); if not, whitelist the finding.',
];

const OWN_KEY_STEPS = [
  'ossguard does not disable the key it is itself running with: it would lose the access it needs to respond.',
  'Rotate it by hand: create a new key for the same RAM user, switch ossguard to it, then disable and delete this one.',
];

/**
 * The leaked-key guard. The finding names a key; whether it is whitelisted and its secret valid come from
 * Security Center's detail call, and who owns the key and whether it is still active from RAM/IMS, all read now: the finding
 * itself is never taken as state. `ownKeyIds` are the keys ossguard runs with, which it never disables.
 */
export function leakGuard(sas: SasGateway | undefined, ownKeyIds: readonly string[]): Guard<LeakState> {
  return {
    name: 'access-key-guard',
    events: [LEAK_EVENT, MANUAL_LEAK_EVENT],

    async observe(change, scope): Promise<Observation<LeakState>> {
      const accessKeyId = change.resources.accessKeyId;
      if (!accessKeyId)
        throw new EventParseError(`${change.eventName} names no AccessKey id`, { eventId: change.eventId });
      const findingId = change.requestParameters.FindingId ?? 'manual';
      const detail = await findingDetail(sas, change, scope);
      const base = {
        accessKeyId,
        findingId,
        url: change.requestParameters.Url ?? '',
        whitelisted: detail?.whitelisted ?? false,
        ...(detail ? { tokenValid: detail.tokenValid } : {}),
      };
      const ram = scope.ram;
      if (!ram) throw new Error('the leaked-key guard was built without RAM clients: pass createRamApi');
      // The finding is never taken as state: the key is read again by its id in this account.
      const key = await liveKey(ram, accessKeyId);
      const present = (subject: Omit<LeakSubject, keyof typeof base>): Observation<LeakState> => ({
        kind: 'present',
        state: { subject: { ...base, ...subject } },
      });
      // Security Center says whose key it is (UserType `master`: the account's own, F-SAS-LEAK-LIST); no
      // role may read the account's own keys, so RAM can only contradict it.
      if (change.requestParameters.UserType === 'master') {
        return key
          ? present({
              isRootKey: false,
              mismatch: `Security Center calls AccessKey ${accessKeyId} the account's own, but RAM user ${key.owner} holds it: nothing was disabled`,
            })
          : present({ isRootKey: true });
      }
      if (!key) {
        // A person who reports by hand a key no RAM user holds gets the rotation steps rather than silence.
        if (change.eventName === MANUAL_LEAK_EVENT) return present({ isRootKey: true });
        return present({
          isRootKey: false,
          mismatch: `RAM/IMS know no AccessKey ${accessKeyId} of a RAM user: it is not a key of this account (or was deleted since), so nothing was disabled`,
        });
      }
      if (key.status !== 'Active')
        return { kind: 'gone', reason: `AccessKey ${accessKeyId} is already ${key.status}` };
      if (detail?.tokenValid === 'invalid')
        return present({
          owner: key.owner,
          isRootKey: false,
          mismatch: `Security Center says the leaked secret of AccessKey ${accessKeyId} is not valid (TokenValid 2) while RAM has the key active: left on, check the finding`,
        });
      return present({ owner: key.owner, isRootKey: false });
    },

    evaluate(change, { subject }, { config }): Evaluation {
      const findings = evaluateRules([leakedAccessKey], subject, config);
      const report = `See what the key did: ${incidentCommand(subject.accessKeyId)}`;
      // RAM showed a RAM user's key active; no role can read the account's own, and an unknown key has no state.
      const status = subject.owner ? 'Active' : 'unknown';
      const before = { accessKeyId: subject.accessKeyId, status, findingId: subject.findingId };
      const compliantReason = subject.whitelisted
        ? `the finding is whitelisted in Security Center: left alone`
        : 'no rule fired';
      const own = ownKeyIds.includes(subject.accessKeyId);
      if (subject.mismatch || subject.isRootKey || own || !subject.owner) {
        return {
          findings: findings.map((f) => ({ ...f, mode: 'alert' })),
          exceptions: { ignored: [] },
          before,
          compliantReason,
          alertReason:
            subject.mismatch ??
            (own
              ? 'the leaked key is the one ossguard runs with: rotate it by hand'
              : 'a root AccessKey cannot be disabled by a role: the account owner must rotate it'),
          advice: [
            ...(subject.mismatch ? MISMATCH_STEPS : own ? OWN_KEY_STEPS : ROOT_ROTATION_STEPS),
            report,
          ],
        };
      }
      return {
        findings,
        exceptions: { ignored: [] },
        before,
        compliantReason,
        fix: {
          description: change.requestParameters.SwitchedBackOn
            ? `disable again leaked AccessKey ${subject.accessKeyId} of ${subject.owner}: it was switched back on after the finding was judged with the key off`
            : `disable leaked AccessKey ${subject.accessKeyId} of ${subject.owner}`,
          actions: [
            { kind: 'disable-access-key', userName: subject.owner, accessKeyId: subject.accessKeyId },
          ],
          after: { accessKeyId: subject.accessKeyId, status: 'Inactive' },
        },
        advice: [report],
      };
    },
  };
}

/** The finding's detail, re-read from Security Center; none for a key reported by hand. */
async function findingDetail(
  sas: SasGateway | undefined,
  change: ChangeRecord,
  scope: ChangeScope,
): Promise<LeakDetail | undefined> {
  if (change.eventName !== LEAK_EVENT) return undefined;
  if (!sas) throw new Error('the leaked-key guard needs Security Center to re-read a finding');
  return sas.detail(Number(change.requestParameters.FindingId), scope.calls);
}
