import type { RuleCases } from '../types';
import { objectAclPublic } from './object-acl-public';
import type { AclSubject } from './subject';

export const cases: RuleCases<AclSubject> = {
  rule: objectAclPublic,
  fires: [
    { name: 'a public-read object', subject: { kind: 'object', bucket: 'b', key: 'k', acl: 'public-read' } },
    {
      name: 'a public-read-write object',
      subject: { kind: 'object', bucket: 'b', key: 'k', acl: 'public-read-write' },
    },
  ],
  silent: [
    { name: 'a private object', subject: { kind: 'object', bucket: 'b', key: 'k', acl: 'private' } },
    {
      name: 'an object inheriting the bucket ACL',
      subject: { kind: 'object', bucket: 'b', key: 'k', acl: 'default' },
    },
    {
      name: 'a public-read bucket (a bucket rule)',
      subject: { kind: 'bucket', bucket: 'b', acl: 'public-read' },
    },
  ],
};
