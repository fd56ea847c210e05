import type { RuleCases } from '../types';
import { type LeakSubject, leakedAccessKey } from './leaked-access-key';

const leak: LeakSubject = {
  accessKeyId: 'LTAI5tLeakedKey00000001',
  findingId: '389357',
  url: 'https://github.com/example/app/blob/0e466d2/config.py',
  owner: 'deployer',
  isRootKey: false,
  whitelisted: false,
};

export const cases: RuleCases<LeakSubject> = {
  rule: leakedAccessKey,
  fires: [
    { name: 'a RAM user’s key found in a public commit', subject: leak },
    {
      name: 'the account’s own key',
      subject: { ...leak, owner: undefined, isRootKey: true },
    },
    { name: 'a key reported by hand', subject: { ...leak, findingId: 'manual', url: '' } },
    {
      name: 'a finding that names no key of this account (alerted, never disabled)',
      subject: { ...leak, owner: undefined, mismatch: 'RAM/IMS know no AccessKey of a RAM user' },
    },
  ],
  silent: [
    { name: 'a finding someone whitelisted in Security Center', subject: { ...leak, whitelisted: true } },
  ],
};
