import { KEY_GUARD_EVENTS } from '../../events/names';
import type { Actor } from '../../events/types';

/**
 * A newly created AccessKey, judged with live RAM state (the owner's keys and login profile) and the facts
 * ActionTrail records about the call that created it (who, from where, with or without MFA).
 */
export interface KeySubject {
  accessKeyId: string;
  /** The RAM user that owns the key; absent for a key of the Alibaba Cloud account itself. */
  owner?: string;
  isRootKey: boolean;
  creator: Actor;
  /** Active keys the owner holds now, this one included (ListAccessKeys). */
  activeKeys: number;
  /** The owner can sign in to the console (GetLoginProfile found a profile). */
  consoleLogin: boolean;
  /** Networks from which key creation is expected; empty means the rule has nothing to compare with. */
  allowedSourceCidrs: readonly string[];
}

/**
 * What every key rule shares: the guard, the conservative default (disabling a key can break a production
 * workload, so enforcement is opt-in per rule) and the one remediation there is.
 */
export const KEY_RULE_BASE = {
  guard: 'access-key-guard',
  events: KEY_GUARD_EVENTS,
  defaultMode: 'alert',
  remediation: {
    id: 'disable-access-key',
    description: 'disable the new AccessKey',
    actions: ['ram:UpdateAccessKey'],
  },
} as const;
