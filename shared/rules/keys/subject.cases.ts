import type { KeySubject } from './subject';

/**
 * A key no key rule objects to, for the rules' case tables to vary one fact at a time: created by its owner
 * alice, with MFA, from an allowed network, her only active key, and she has no console login.
 */
export const compliantKey: KeySubject = {
  accessKeyId: 'LTAI-case',
  owner: 'alice',
  isRootKey: false,
  creator: { type: 'ram-user', userName: 'alice', mfaAuthenticated: true, sourceIp: '203.0.113.7' },
  activeKeys: 1,
  consoleLogin: false,
  allowedSourceCidrs: ['203.0.113.0/24'],
};

export const keyWith = (overrides: Partial<KeySubject>): KeySubject => ({ ...compliantKey, ...overrides });
