import type { RuleCases } from '../types';
import { bucketBpaDisabled } from './bucket-bpa-disabled';
import type { AclSubject } from './subject';

export const cases: RuleCases<AclSubject> = {
  rule: bucketBpaDisabled,
  fires: [
    {
      name: 'bucket Block Public Access off',
      subject: { kind: 'bucket-bpa', bucket: 'b', blockPublicAccess: false },
    },
  ],
  silent: [
    {
      name: 'bucket Block Public Access on',
      subject: { kind: 'bucket-bpa', bucket: 'b', blockPublicAccess: true },
    },
    {
      name: 'account Block Public Access off (its own rule)',
      subject: { kind: 'account-bpa', blockPublicAccess: false },
    },
  ],
};
