import { OBJECT_ACL_EVENTS } from '../../events/names';
import type { Rule } from '../types';
import type { AclSubject } from './subject';

export const objectAclPublic: Rule<AclSubject> = {
  id: 'object-acl-public',
  title: 'Object ACL is public',
  rationale:
    'An object ACL overrides the bucket ACL: one public object in a private bucket is downloadable by anyone ' +
    'who learns its URL, and object ACLs are easy to miss in reviews of bucket settings.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/object-acl',
  severity: 'high',
  firesWhen: 'an object ACL is `public-read` or `public-read-write`',
  severityNote: 'high (critical for public-read-write)',
  guard: 'oss-acl-guard',
  events: OBJECT_ACL_EVENTS,
  order: 30,
  defaultMode: 'enforce',
  readActions: ['oss:GetObjectAcl'],
  remediation: {
    id: 'set-object-acl-target',
    description: 'set the object ACL to the configured target (private by default)',
    actions: ['oss:PutObjectAcl'],
  },
  evaluate: (subject) =>
    subject.kind === 'object' && (subject.acl === 'public-read' || subject.acl === 'public-read-write')
      ? {
          ruleId: 'object-acl-public',
          severity: subject.acl === 'public-read-write' ? 'critical' : 'high',
          message: `object ${subject.key} in bucket ${subject.bucket} is public (ACL ${subject.acl})`,
          evidence: { acl: subject.acl },
        }
      : undefined,
};
