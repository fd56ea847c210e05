import type { RuleCases } from '../types';
import { type ConsoleUserSubject, consoleUserWithoutMfa } from './console-user-without-mfa';

export const cases: RuleCases<ConsoleUserSubject> = {
  rule: consoleUserWithoutMfa,
  fires: [
    {
      name: 'a console user without a device',
      subject: { userName: 'carol', consoleLogin: true, mfaDevice: false },
    },
  ],
  silent: [
    {
      name: 'a console user with a device',
      subject: { userName: 'dave', consoleLogin: true, mfaDevice: true },
    },
    { name: 'a programmatic user', subject: { userName: 'app', consoleLogin: false, mfaDevice: false } },
  ],
};
