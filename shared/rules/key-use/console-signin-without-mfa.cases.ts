import type { RuleCases } from '../types';
import { consoleSigninWithoutMfa } from './console-signin-without-mfa';
import type { KeyUseSubject } from './subject';
import { useWith } from './subject.cases';

const signin = (actor: Partial<KeyUseSubject['actor']>): KeyUseSubject =>
  useWith({
    eventName: 'ConsoleSignin',
    eventType: 'ConsoleSignin',
    service: 'AasSub',
    actor: { accessKeyId: undefined, ...actor },
  });

export const cases: RuleCases<KeyUseSubject> = {
  rule: consoleSigninWithoutMfa,
  fires: [
    { name: 'a RAM user signs in without MFA', subject: signin({ mfaAuthenticated: false }) },
    {
      name: 'the account owner signs in without MFA',
      subject: signin({ type: 'root-account', userName: 'root', mfaAuthenticated: false }),
    },
  ],
  silent: [
    { name: 'a sign-in with MFA', subject: signin({ mfaAuthenticated: true }) },
    { name: 'a sign-in record that does not say', subject: signin({}) },
    { name: 'an API call', subject: useWith({ actor: { mfaAuthenticated: false } }) },
  ],
};
