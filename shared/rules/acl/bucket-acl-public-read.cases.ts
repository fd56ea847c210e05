import type { RuleCases } from '../types';
import { bucketAclPublicRead } from './bucket-acl-public-read';
import type { AclSubject } from './subject';

export const cases: RuleCases<AclSubject> = {
  rule: bucketAclPublicRead,
  fires: [{ name: 'a public-read bucket', subject: { kind: 'bucket', bucket: 'b', acl: 'public-read' } }],
  silent: [
    { name: 'a private bucket', subject: { kind: 'bucket', bucket: 'b', acl: 'private' } },
    {
      name: 'a public-read-write bucket (its own rule)',
      subject: { kind: 'bucket', bucket: 'b', acl: 'public-read-write' },
    },
    { name: 'a public-read object', subject: { kind: 'object', bucket: 'b', key: 'k', acl: 'public-read' } },
  ],
};
