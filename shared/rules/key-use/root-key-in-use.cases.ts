import type { RuleCases } from '../types';
import { rootKeyInUse } from './root-key-in-use';
import type { KeyUseSubject } from './subject';
import { compliantUse, useWith } from './subject.cases';

const root = { type: 'root-account', userName: 'root', accessKeyId: 'LTAIrootCaseKey0001' } as const;

export const cases: RuleCases<KeyUseSubject> = {
  rule: rootKeyInUse,
  fires: [
    { name: 'a root key uploads an object', subject: useWith({ actor: root }) },
    {
      name: 'a root key calls another service, from an allowed network',
      subject: useWith({ service: 'Ecs', eventName: 'DescribeInstances', actor: root }),
    },
  ],
  silent: [
    { name: 'a RAM user’s key', subject: compliantUse },
    {
      name: 'the account owner working in the console',
      subject: useWith({ eventType: 'ConsoleOperation', actor: root }),
    },
    {
      name: 'a root record without a key id',
      subject: useWith({ actor: { type: 'root-account', userName: 'root', accessKeyId: undefined } }),
    },
  ],
};
