import type { RuleCases } from '../types';
import { keyUsedOutsideNetwork } from './key-used-outside-network';
import type { KeyUseSubject } from './subject';
import { compliantUse, useWith } from './subject.cases';

export const cases: RuleCases<KeyUseSubject> = {
  rule: keyUsedOutsideNetwork,
  fires: [
    {
      name: 'a call from an address outside the allowed networks',
      subject: useWith({ actor: { sourceIp: '198.51.100.9' } }),
    },
    {
      name: 'a call from another VPC and an outside address',
      subject: useWith({ actor: { sourceIp: '198.51.100.9', vpcId: 'vpc-elsewhere' } }),
    },
    {
      name: 'a root key from outside (alert only: the guard never disables it)',
      subject: useWith({
        actor: {
          type: 'root-account',
          userName: 'root',
          accessKeyId: 'LTAIrootCaseKey0001',
          sourceIp: '198.51.100.9',
        },
      }),
    },
  ],
  silent: [
    { name: 'a call from inside the allowed networks', subject: compliantUse },
    {
      name: 'a call from an allowed VPC',
      subject: useWith({ actor: { sourceIp: '172.16.0.5', vpcId: 'vpc-corp' } }),
    },
    { name: 'ActionTrail’s Internal', subject: useWith({ actor: { sourceIp: 'Internal' } }) },
    { name: 'a service caller', subject: useWith({ actor: { sourceIp: 'oss.aliyuncs.com' } }) },
    { name: 'an unrecorded address', subject: useWith({ actor: { sourceIp: undefined } }) },
    {
      name: 'no networks configured for the key',
      subject: useWith({ actor: { sourceIp: '198.51.100.9' }, allowed: { cidrs: [], vpcIds: [] } }),
    },
    {
      name: 'an STS token (a role session)',
      subject: useWith({
        actor: {
          type: 'assumed-role',
          userName: 'app:s1',
          accessKeyId: 'STS.NTkey',
          sourceIp: '198.51.100.9',
        },
      }),
    },
    {
      name: 'a console session',
      subject: useWith({ eventType: 'ConsoleOperation', actor: { sourceIp: '198.51.100.9' } }),
    },
  ],
};
