import type { RuleCases } from '../types';
import { accountBpaDisabled } from './account-bpa-disabled';
import type { AclSubject } from './subject';

export const cases: RuleCases<AclSubject> = {
  rule: accountBpaDisabled,
  fires: [
    { name: 'account Block Public Access off', subject: { kind: 'account-bpa', blockPublicAccess: false } },
  ],
  silent: [
    { name: 'account Block Public Access on', subject: { kind: 'account-bpa', blockPublicAccess: true } },
    {
      name: 'bucket Block Public Access off (its own rule)',
      subject: { kind: 'bucket-bpa', bucket: 'b', blockPublicAccess: false },
    },
  ],
};
