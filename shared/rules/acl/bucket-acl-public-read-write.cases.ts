import type { RuleCases } from '../types';
import { bucketAclPublicReadWrite } from './bucket-acl-public-read-write';
import type { AclSubject } from './subject';

export const cases: RuleCases<AclSubject> = {
  rule: bucketAclPublicReadWrite,
  fires: [
    {
      name: 'a public-read-write bucket',
      subject: { kind: 'bucket', bucket: 'b', acl: 'public-read-write' },
    },
  ],
  silent: [
    { name: 'a private bucket', subject: { kind: 'bucket', bucket: 'b', acl: 'private' } },
    {
      name: 'a public-read bucket (its own rule)',
      subject: { kind: 'bucket', bucket: 'b', acl: 'public-read' },
    },
  ],
};
