import pLimit from 'p-limit';
import { CallLog } from '../clients/calllog';
import { type RamApi, RamGateway } from '../clients/ram';
import { describeError } from '../errors';
import type { ChangeRecord, ParsedItem } from '../events/types';
import { consoleMfaGuard, keyHygieneGuard, staleKeySubject } from '../guards/key-hygiene';
import { evaluateRules } from '../pipeline/evaluate';
import { type InvocationDeps, runGuard } from '../pipeline/run';
import { consoleMfaRules, keyHygieneRules } from '../rules';

export interface KeySweepResult {
  users: number;
  /** Active keys read. */
  keys: number;
  /** Active keys some rule fired on: handed to key-hygiene-guard. */
  stale: number;
  /** Users who can sign in to the console without an MFA device: handed to console-mfa-guard. */
  consoleWithoutMfa: number;
  decisions: Record<string, number>;
  /** Findings the blast-radius cap held back: not recorded, so the next run finds them again. */
  deferred: number;
  /** Findings the guards met cloud faults on: not recorded either, so the next run retries them. */
  failed: number;
  /** Users the deadline left unread: the next run reads them (its changes are named by the day, as these). */
  unfinished: number;
  /** Users whose reads failed while others' succeeded: logged, and read again by the next run. */
  unread: number;
  /** Set when RAM could not be read; the next run tries again. */
  error?: string;
}

/** Whose RAM users a key sweep reads, and until when. */
export interface KeySweepAccount {
  /** The account's RAM client: the function role's at home, a member role's session in a member. */
  ram: RamApi;
  /** A member's id: its changes name it, so the pipeline acts on them there (shared/pipeline/accounts.ts). */
  memberId?: string;
  /** The deploying account's id at home, in its MFA findings' ids; empty when FC did not say it. */
  homeId?: string;
  /** Epoch ms: no user is read after it. */
  deadline: number;
  /** Told why RAM could not be read, before the sweep returns. */
  unreadable?: (error: unknown) => Promise<void>;
}

/** Users read at once: their login profile, MFA device and keys. */
const USER_CONCURRENCY = 8;

/**
 * The account's RAM users: their active AccessKeys, judged for age and idle time (ListUsers, ListAccessKeys, and
 * each active key's last use, GetAccessKeyLastUsed: F-RAM-GETACCESSKEYLASTUSED), and whether a console user has
 * an MFA device (GetLoginProfile, GetUserMFAInfo: F-RAM-GETUSERMFAINFO). Only what a rule fires on goes to
 * key-hygiene-guard or console-mfa-guard, which read it again and audit, alert or disable; each change is named
 * by the day, so hourly sweeps report it once a day. A member's users are read with its member role's session,
 * and its changes name it: the pipeline reads them again, acts and records there, naming both accounts.
 */
export async function sweepKeys(
  deps: InvocationDeps,
  account: KeySweepAccount,
  now: Date,
  sweepEvent: string,
): Promise<KeySweepResult> {
  const result: KeySweepResult = {
    users: 0,
    keys: 0,
    stale: 0,
    consoleWithoutMfa: 0,
    decisions: {},
    deferred: 0,
    failed: 0,
    unfinished: 0,
    unread: 0,
  };
  const { config } = deps.runtime;
  const ram = new RamGateway(account.ram, new CallLog());
  const clock = deps.now ?? (() => new Date());
  const day = now.toISOString().slice(0, 10);
  // User names repeat across accounts; AccessKey ids do not. A user's finding names its account, then the user,
  // apart by a `:` no RAM user name holds (F-RAM-USERNAME-CHARS): with a hyphen, home user `<id>-alice` and
  // member <id>'s `alice` had one id. (The ids were `sweep-mfa-<day>-[<member>-]<user>` before: on the day of
  // the upgrade, a console user without MFA is reported a second time.)
  const mfaId = (userName: string): string =>
    `sweep-mfa-${day}:${account.memberId ?? account.homeId ?? ''}:${userName}`;
  const change = (eventId: string, resources: ChangeRecord['resources']): ChangeRecord => ({
    ...sweptChange(eventId, resources, now, sweepEvent),
    ...(account.memberId === undefined ? {} : { accountId: account.memberId }),
  });
  const changes: ParsedItem[] = [];
  const consoleUsers: ParsedItem[] = [];
  const judgeUser = async (userName: string): Promise<void> => {
    const [consoleLogin, mfaDevice] = await Promise.all([
      ram.hasLoginProfile(userName),
      ram.hasMfaDevice(userName),
    ]);
    if (evaluateRules(consoleMfaRules, { userName, consoleLogin, mfaDevice }, config).length > 0) {
      result.consoleWithoutMfa += 1;
      consoleUsers.push({
        kind: 'change',
        index: consoleUsers.length,
        record: change(mfaId(userName), { ramUser: userName }),
      });
    }
    const active = (await ram.listAccessKeys(userName)).filter((k) => k.status === 'Active');
    for (const key of active) {
      result.keys += 1;
      if (!key.createDate) continue;
      const used = await ram.keyLastUsed(userName, key.accessKeyId);
      // Deleted since ListAccessKeys: nothing left to judge.
      if (!used) continue;
      const subject = staleKeySubject(
        { userName, accessKeyId: key.accessKeyId, createDate: key.createDate, ...used },
        config,
        now,
      );
      if (evaluateRules(keyHygieneRules, subject, config).length === 0) continue;
      result.stale += 1;
      changes.push({
        kind: 'change',
        index: changes.length,
        record: change(`sweep-keys-${day}-${key.accessKeyId}`, {
          ramUser: userName,
          accessKeyId: key.accessKeyId,
        }),
      });
    }
  };
  try {
    const users = await ram.listUserNames();
    result.users = users.length;
    const limit = pLimit(USER_CONCURRENCY);
    let failure: { error: unknown } | undefined;
    await Promise.all(
      users.map((userName) =>
        limit(async () => {
          if (clock().getTime() >= account.deadline) {
            result.unfinished += 1;
            return;
          }
          // One user's failed read leaves the others judged: counted, logged, and read again by the next run.
          await judgeUser(userName).catch((error: unknown) => {
            result.unread += 1;
            failure ??= { error };
            deps.log.warn('a RAM user could not be read; the next run tries again', {
              ...(account.memberId === undefined ? {} : { accountId: account.memberId }),
              userName,
              error: describeError(error),
            });
          });
        }),
      ),
    );
    // Not one user read: the account's RAM is what cannot be read (a role without the RAM grants), not a user.
    if (failure && result.unread === result.users - result.unfinished) throw failure.error;
  } catch (error) {
    result.error = describeError(error);
    deps.log.warn('the AccessKeys could not be swept; the next run tries again', {
      ...(account.memberId === undefined ? {} : { accountId: account.memberId }),
      error: result.error,
    });
    await account.unreadable?.(error);
    return result;
  }
  for (const judged of [
    await runGuard(keyHygieneGuard, changes, deps),
    await runGuard(consoleMfaGuard, consoleUsers, deps),
  ]) {
    for (const d of judged.decisions) result.decisions[d.decision] = (result.decisions[d.decision] ?? 0) + 1;
    const capped = judged.retryableFailures.filter((f) => f.capped).length;
    result.deferred += capped;
    result.failed += judged.retryableFailures.length - capped;
  }
  return result;
}

/** A sweep finding as a change: no API call stands behind it, only the user (and key) to read again. */
function sweptChange(
  eventId: string,
  resources: ChangeRecord['resources'],
  now: Date,
  sweepEvent: string,
): ChangeRecord {
  return {
    dedupeKey: eventId,
    eventId,
    eventName: sweepEvent,
    eventType: sweepEvent,
    service: 'Ram',
    // RAM is global; its events are recorded in cn-shanghai (F-ACTIONTRAIL-GLOBAL-REGION).
    region: 'cn-shanghai',
    time: now.toISOString(),
    actor: { type: 'system', userName: 'oss-sweeper' },
    resources,
    requestParameters: {},
    origin: 'sweep',
  };
}
