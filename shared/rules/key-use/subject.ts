import type { Actor } from '../../events/types';
import type { AllowedNetworks } from '../keys/source';

/**
 * One call ActionTrail recorded, judged for who signed it and from where: the facts of the call itself
 * (history, not state), plus the networks the config allows the signing key, resolved by the guard.
 */
export interface KeyUseSubject {
  eventName: string;
  /** `ApiCall`, `ConsoleOperation`, `ConsoleSignin`… (F-ACTIONTRAIL-EVENT-TYPES). */
  eventType: string;
  /** `Oss`, `Ram`, `Ecs`…: the service called. */
  service: string;
  actor: Actor;
  /** Where this key may be used from; no CIDR and no VPC id means the config names none. */
  allowed: AllowedNetworks;
}

const CONSOLE_EVENT_TYPES: ReadonlySet<string> = new Set([
  'ConsoleOperation',
  'ConsoleSignin',
  'ConsoleSignout',
]);

/**
 * The long-lived AccessKey that signed the call, if one did: console sessions carry no key id and assumed
 * roles an `STS.` one (F-ACTIONTRAIL-USER-IDENTITY), so neither is a key anyone could leak or disable; the
 * account's own calls name its key (F-ACTIONTRAIL-ROOT-KEY-USE).
 */
export function signingKeyOf(s: Pick<KeyUseSubject, 'eventType' | 'actor'>): string | undefined {
  const { accessKeyId, type } = s.actor;
  if (!accessKeyId || accessKeyId.startsWith('STS.') || CONSOLE_EVENT_TYPES.has(s.eventType))
    return undefined;
  return type === 'root-account' || type === 'ram-user' ? accessKeyId : undefined;
}

/** A key id as alerts show it: enough to find the key in the console, not the whole id. */
export const maskKeyId = (accessKeyId: string): string =>
  accessKeyId.length > 8 ? `${accessKeyId.slice(0, 4)}****${accessKeyId.slice(-4)}` : '****';

/**
 * What every rule of the key-usage guard shares: the guard, and alert by default (disabling a key in use can
 * stop a production workload, so enforcement is opt-in per rule).
 */
export const KEY_USE_RULE_BASE = { guard: 'key-usage-guard', defaultMode: 'alert' } as const;
