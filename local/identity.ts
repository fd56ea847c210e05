import { randomBytes, randomUUID } from 'node:crypto';
import type { ActingPrincipal } from '../shared/events/actiontrail-event';

/**
 * The emulated account's principals and their keys. It is the RAM emulator's data model and the
 * credential store every emulator verifies signatures against, so a key created through the RAM API
 * can sign OSS requests, and a key disabled through RAM stops working everywhere.
 */
export type PrincipalKind = ActingPrincipal['kind'];

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  status: 'Active' | 'Inactive';
  createDate: string;
  /** When the key last signed a request this store looked up (RAM GetAccessKeyLastUsed answers it). */
  lastUsedDate?: string;
}

export interface RamUser {
  userId: string;
  userName: string;
  displayName: string;
  createDate: string;
  accessKeys: AccessKey[];
  loginProfile?: { createDate: string; mfaBindRequired: boolean; passwordResetRequired: boolean };
  tags: Record<string, string>;
  /** Whether console and STS sessions of this user count as MFA-authenticated. */
  mfa: boolean;
}

export interface RoleSession {
  roleName: string;
  roleId: string;
  sessionName: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  expiresAt: Date;
}

/** The principal behind a verified request, as the emulators record it in ActionTrail events. */
export interface Caller extends ActingPrincipal {
  /** Set for assumed-role callers. */
  roleName?: string;
  /** Set for assumed-role callers: the RoleSessionName the session was created with. */
  sessionName?: string;
  /** Set for RAM users. */
  ramUser?: RamUser;
}

export type KeyLookup =
  | { kind: 'ok'; caller: Caller; secret: string; securityToken?: string; expiresAt?: Date }
  | { kind: 'unknown' }
  | { kind: 'inactive' };

export type TokenCheck = 'ok' | 'missing' | 'invalid' | 'expired';

const newKeyId = (prefix: string): string => `${prefix}${randomBytes(9).toString('hex').toUpperCase()}`;
const newSecret = (): string => randomBytes(22).toString('base64url');
const newAccessKey = (prefix: string): AccessKey => ({
  accessKeyId: newKeyId(prefix),
  accessKeySecret: newSecret(),
  status: 'Active',
  createDate: new Date().toISOString(),
});
const numericId = (): string =>
  `2${Array.from(randomBytes(8), (b) => (b % 10).toString()).join('')}${Date.now() % 1e8}`;

/** The local cloud's first account: the one every single-account test and `ossguard local` act in. */
export const DEFAULT_ACCOUNT_ID = '1234567890123456';

export class IdentityStore {
  readonly accountId: string;
  readonly rootKey: AccessKey;
  /**
   * Every root AccessKey that still exists: `rootKey` plus those the root account created for itself through
   * IMS CreateAccessKey. A key deleted through IMS leaves this list, so it stops signing anywhere.
   */
  readonly rootKeys: AccessKey[];
  readonly users = new Map<string, RamUser>();
  readonly roles = new Map<string, { roleName: string; roleId: string }>();
  private readonly sessions = new Map<string, RoleSession>();
  /**
   * The stores of every account of the local cloud, this one first, shared by all of them once linked: a key
   * of any account authenticates at every endpoint, and the request then acts in that key's account.
   */
  private directory: IdentityStore[] = [this];

  constructor(accountId = DEFAULT_ACCOUNT_ID) {
    this.accountId = accountId;
    this.rootKey = newAccessKey('LTAIroot');
    this.rootKeys = [this.rootKey];
  }

  /** Joins `other` (an account of the same local cloud) to this store's directory. */
  link(other: IdentityStore): void {
    if (this.directory.includes(other)) return;
    for (const store of other.directory) if (!this.directory.includes(store)) this.directory.push(store);
    for (const store of this.directory) store.directory = this.directory;
  }

  /** Every linked account's store, in the order they were linked. */
  get accounts(): readonly IdentityStore[] {
    return this.directory;
  }

  /** The linked store of an account, if the local cloud has that account. */
  storeOf(accountId: string): IdentityStore | undefined {
    return this.directory.find((store) => store.accountId === accountId);
  }

  rootCaller(): Caller {
    return {
      kind: 'root-account',
      accountId: this.accountId,
      principalId: this.accountId,
      userName: 'root',
      accessKeyId: this.rootKey.accessKeyId,
      mfa: false,
    };
  }

  createUser(userName: string, options: { mfa?: boolean; displayName?: string } = {}): RamUser {
    const existing = this.users.get(userName);
    if (existing) return existing;
    const user: RamUser = {
      userId: numericId(),
      userName,
      displayName: options.displayName ?? userName,
      createDate: new Date().toISOString(),
      accessKeys: [],
      tags: {},
      mfa: options.mfa ?? false,
    };
    this.users.set(userName, user);
    return user;
  }

  createAccessKey(userName: string): AccessKey {
    const user = this.users.get(userName);
    if (!user) throw new Error(`no RAM user ${userName}`);
    const key = newAccessKey('LTAI');
    user.accessKeys.push(key);
    return key;
  }

  /** What IMS CreateAccessKey without a UserPrincipalName does when the root account calls it. */
  createRootAccessKey(): AccessKey {
    const key = newAccessKey('LTAIroot');
    this.rootKeys.push(key);
    return key;
  }

  /** A RAM user with one active key: the usual test actor. */
  userWithKey(userName: string, options: { mfa?: boolean } = {}): { user: RamUser; key: AccessKey } {
    const user = this.createUser(userName, options);
    const key = user.accessKeys.find((k) => k.status === 'Active') ?? this.createAccessKey(userName);
    return { user, key };
  }

  createRole(roleName: string): { roleName: string; roleId: string } {
    const existing = this.roles.get(roleName);
    if (existing) return existing;
    const role = { roleName, roleId: numericId() };
    this.roles.set(roleName, role);
    return role;
  }

  /** What STS AssumeRole would hand out; FC passes exactly this to the function as `context.credentials`. */
  assumeRole(roleName: string, sessionName: string, ttlMs = 3600_000): RoleSession {
    const role = this.createRole(roleName);
    const session: RoleSession = {
      roleName,
      roleId: role.roleId,
      sessionName,
      accessKeyId: newKeyId('STS.'),
      accessKeySecret: newSecret(),
      securityToken: `CAIS${randomBytes(48).toString('base64url')}`,
      expiresAt: new Date(Date.now() + ttlMs),
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /** The key's owner among every linked account, and the principal it stands for. */
  lookup(accessKeyId: string): KeyLookup {
    for (const store of this.directory) {
      const found = store.lookupOwn(accessKeyId);
      if (found.kind !== 'unknown') return found;
    }
    return { kind: 'unknown' };
  }

  private lookupOwn(accessKeyId: string): KeyLookup {
    const rootKey = this.rootKeys.find((k) => k.accessKeyId === accessKeyId);
    if (rootKey) {
      if (rootKey.status !== 'Active') return { kind: 'inactive' };
      rootKey.lastUsedDate = new Date().toISOString();
      return { kind: 'ok', caller: { ...this.rootCaller(), accessKeyId }, secret: rootKey.accessKeySecret };
    }
    const session = this.sessions.get(accessKeyId);
    if (session) {
      return {
        kind: 'ok',
        caller: {
          kind: 'assumed-role',
          accountId: this.accountId,
          principalId: `${session.roleId}:${session.sessionName}`,
          userName: `${session.roleName}:${session.sessionName}`,
          accessKeyId,
          mfa: false,
          roleName: session.roleName,
          sessionName: session.sessionName,
        },
        secret: session.accessKeySecret,
        securityToken: session.securityToken,
        expiresAt: session.expiresAt,
      };
    }
    for (const user of this.users.values()) {
      const key = user.accessKeys.find((k) => k.accessKeyId === accessKeyId);
      if (!key) continue;
      if (key.status !== 'Active') return { kind: 'inactive' };
      key.lastUsedDate = new Date().toISOString();
      return {
        kind: 'ok',
        caller: {
          kind: 'ram-user',
          accountId: this.accountId,
          principalId: user.userId,
          userName: user.userName,
          accessKeyId,
          mfa: user.mfa,
          ramUser: user,
        },
        secret: key.accessKeySecret,
      };
    }
    return { kind: 'unknown' };
  }

  /** STS keys are only valid together with their token, and only until they expire. */
  checkToken(
    found: Extract<KeyLookup, { kind: 'ok' }>,
    presented: string | undefined,
    now = new Date(),
  ): TokenCheck {
    if (found.securityToken === undefined) return presented ? 'invalid' : 'ok';
    if (!presented) return 'missing';
    if (presented !== found.securityToken) return 'invalid';
    if (found.expiresAt && found.expiresAt.getTime() <= now.getTime()) return 'expired';
    return 'ok';
  }
}

export const newRequestId = (): string => randomUUID().replaceAll('-', '').slice(0, 24).toUpperCase();
