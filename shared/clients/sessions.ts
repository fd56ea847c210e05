import type { CloudCredentials } from './oss';

/**
 * Assumed-role sessions, kept apart from the STS client (shared/clients/sts.ts) so that code deciding which
 * role to use does not bundle openapi-core.
 */

/** Credentials of an assumed role, and when they expire. */
export interface SessionCredentials extends Required<CloudCredentials> {
  expiresAt: number;
}

/** An account-wide role: `acs:ram::<account>:role/<name>`, as AssumeRole takes it (F-STS-ASSUMEROLE). */
export const roleArn = (accountId: string, roleName: string): string =>
  `acs:ram::${accountId}:role/${roleName}`;

/**
 * Credentials are taken anew this long before they expire: a change is read and reverted within a minute
 * (the event guards' timeout), so none starts with credentials that lapse midway.
 */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Assumed-role credentials per role, shared by every change of an instance until shortly before they expire:
 * STS limits how many tokens an account may take (F-STS-ASSUMEROLE), and a busy trail names the same member
 * thousands of times an hour. Concurrent changes for one role wait on one AssumeRole.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<SessionCredentials>>();

  constructor(
    private readonly assume: (arn: string) => Promise<SessionCredentials>,
    private readonly now: () => number = Date.now,
  ) {}

  async get(arn: string): Promise<SessionCredentials> {
    const held = this.sessions.get(arn);
    if (held) {
      const session = await held.catch(() => undefined);
      if (session && session.expiresAt - this.now() > RENEW_BEFORE_MS) return session;
      if (this.sessions.get(arn) !== held) return this.get(arn);
    }
    const taking = this.assume(arn);
    this.sessions.set(arn, taking);
    try {
      return await taking;
    } catch (error) {
      // A refusal is not kept: the role may be created (bootstrap) before the next change.
      if (this.sessions.get(arn) === taking) this.sessions.delete(arn);
      throw error;
    }
  }
}
