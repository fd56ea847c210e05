import { describe, expect, it } from 'vitest';
import type { Actor } from '../../shared/events/types';
import { findingsOf, type KeySubject, keyRules } from '../../shared/rules';

const alice: Actor = { type: 'ram-user', userName: 'alice', mfaAuthenticated: true, sourceIp: '10.1.2.3' };
const subject = (overrides: Partial<KeySubject> = {}): KeySubject => ({
  accessKeyId: 'LTAI-new',
  owner: 'alice',
  isRootKey: false,
  creator: alice,
  activeKeys: 1,
  consoleLogin: false,
  allowedSourceCidrs: ['10.0.0.0/8'],
  ...overrides,
});

const fired = (s: KeySubject) => keyRules.flatMap((rule) => findingsOf(rule, s)).map((f) => f.ruleId);

describe('AccessKey rules', () => {
  it.each<[string, Partial<KeySubject>, string[]]>([
    ['a user creating her own first key, with MFA, from the office', {}, []],
    [
      'a root key',
      {
        isRootKey: true,
        owner: undefined,
        creator: { type: 'root-account', userName: 'root', mfaAuthenticated: true, sourceIp: '10.0.0.1' },
      },
      ['root-access-key'],
    ],
    ['a key created for someone else', { owner: 'bob' }, ['key-for-other-user']],
    [
      'a key created by a role for a user',
      { creator: { ...alice, type: 'assumed-role', userName: 'ops:s1' } },
      ['key-for-other-user'],
    ],
    ['a key created without MFA', { creator: { ...alice, mfaAuthenticated: false } }, ['no-mfa']],
    [
      'a key created with an AccessKey (no session context)',
      { creator: { type: 'ram-user', userName: 'alice', sourceIp: '10.0.0.9' } },
      ['no-mfa'],
    ],
    [
      'a key created from the internet',
      { creator: { ...alice, sourceIp: '203.0.113.9' } },
      ['untrusted-source'],
    ],
    [
      'a key created from an IPv6 address outside the list',
      { creator: { ...alice, sourceIp: '2001:db8::1' } },
      ['untrusted-source'],
    ],
    ['a key created from an Internal address', { creator: { ...alice, sourceIp: 'Internal' } }, []],
    ['a key created by a service caller', { creator: { ...alice, sourceIp: 'ram.aliyuncs.com' } }, []],
    [
      'a key created when no networks are configured',
      { allowedSourceCidrs: [], creator: { ...alice, sourceIp: '203.0.113.9' } },
      [],
    ],
    ['a second active key', { activeKeys: 2 }, ['multiple-active-keys']],
    ['a key for a console user', { consoleLogin: true }, ['console-user-key']],
  ])('judge %s', (_case, overrides, expected) => {
    expect(fired(subject(overrides))).toEqual(expected);
  });

  it('never reports a secret: evidence holds ids, names and flags only', () => {
    for (const rule of keyRules) {
      const [finding] = findingsOf(
        rule,
        subject({
          isRootKey: true,
          owner: 'bob',
          activeKeys: 3,
          consoleLogin: true,
          creator: { type: 'ram-user' },
        }),
      );
      if (finding)
        expect(Object.values(finding.evidence).every((v) => typeof v !== 'object' || v === null)).toBe(true);
    }
  });
});
