import type { RuleCases } from '../types';
import type { KeySubject } from './subject';
import { compliantKey, keyWith } from './subject.cases';
import { untrustedSource } from './untrusted-source';

const from = (sourceIp: string | undefined): KeySubject =>
  keyWith({
    creator: {
      type: 'ram-user',
      userName: 'alice',
      mfaAuthenticated: true,
      ...(sourceIp ? { sourceIp } : {}),
    },
  });

export const cases: RuleCases<KeySubject> = {
  rule: untrustedSource,
  fires: [
    { name: 'an address outside the allowed networks', subject: from('198.51.100.9') },
    { name: 'no recorded address', subject: from(undefined) },
  ],
  silent: [
    { name: 'an address inside the allowed networks', subject: compliantKey },
    { name: 'ActionTrail’s Internal', subject: from('Internal') },
    { name: 'a service domain', subject: from('ram.aliyuncs.com') },
    {
      name: 'no allowed networks configured',
      subject: keyWith({ ...from('198.51.100.9'), allowedSourceCidrs: [] }),
    },
  ],
};
