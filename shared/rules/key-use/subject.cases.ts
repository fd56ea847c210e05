import type { KeyUseSubject } from './subject';

/**
 * A call no key-usage rule objects to, for the rules' case tables to vary one fact at a time: RAM user alice's
 * key, from inside her allowed network, calling OSS PutObject.
 */
export const compliantUse: KeyUseSubject = {
  eventName: 'PutObject',
  eventType: 'ApiCall',
  service: 'Oss',
  actor: {
    type: 'ram-user',
    userName: 'alice',
    accessKeyId: 'LTAI5tCaseAliceKey01',
    sourceIp: '203.0.113.7',
  },
  allowed: { cidrs: ['203.0.113.0/24'], vpcIds: ['vpc-corp'] },
};

export const useWith = (
  overrides: Partial<Omit<KeyUseSubject, 'actor'>> & { actor?: Partial<KeyUseSubject['actor']> },
): KeyUseSubject => ({
  ...compliantUse,
  ...overrides,
  actor: { ...compliantUse.actor, ...overrides.actor },
});
