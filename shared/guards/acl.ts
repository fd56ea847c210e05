import { isNotFound } from '../clients/oss';
import type { OssguardConfig } from '../config/schema';
import { EventParseError } from '../errors';
import { ACL_GUARD_EVENTS, OBJECT_ACL_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { Evaluation, Guard, Observation } from '../pipeline/types';
import { type ExceptionOutcome, evaluateExceptions, narrowException } from '../rule-exceptions';
import { type AclSubject, aclRules } from '../rules';

interface AclState {
  subject: AclSubject;
  /** Tags of the bucket, for tag exceptions; account-level changes have none. */
  tags: Record<string, string>;
}

const ACCOUNT_BPA_EVENTS = new Set(['PutPublicAccessBlock', 'DeletePublicAccessBlock']);
const BUCKET_BPA_EVENTS = new Set(['PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock']);
/** The event name of a public object the sweep's object pass found (shared/sweep/objects.ts): no API call. */
export const SWEEP_OBJECT_EVENT = 'OssguardSweepObject';
const OBJECT_EVENTS: ReadonlySet<string> = new Set([...OBJECT_ACL_EVENTS, SWEEP_OBJECT_EVENT]);

/**
 * oss-acl-guard: public bucket and object ACLs, and Block Public Access switched off. The event only says
 * which resource changed; the state comes from GetBucketAcl / GetObjectAcl / Get*PublicAccessBlock.
 */
export const aclGuard: Guard<AclState> = {
  name: 'oss-acl-guard',
  // Object changes arrive from the trail's logstore (trail-guard), and on EventBridge too should PutObjectAcl
  // turn out to be a management event (F-ACTIONTRAIL-OSS-DATA-EVENTS).
  events: [...ACL_GUARD_EVENTS, ...OBJECT_ACL_EVENTS],
  // The state `observe` reads for the change: a bucket's ACL and its Block Public Access are two.
  stateOf: (change) =>
    ACCOUNT_BPA_EVENTS.has(change.eventName)
      ? 'account-bpa'
      : BUCKET_BPA_EVENTS.has(change.eventName)
        ? 'bucket-bpa'
        : OBJECT_EVENTS.has(change.eventName)
          ? 'object'
          : 'bucket',
  // A part carries no ACL: the upload's Initiate or Complete sets it.
  rereadOnly: ['UploadPart'],

  async observe(change, { oss }): Promise<Observation<AclState>> {
    if (ACCOUNT_BPA_EVENTS.has(change.eventName)) {
      const on = await oss.getAccountPublicAccessBlock();
      return {
        kind: 'present',
        state: { subject: { kind: 'account-bpa', blockPublicAccess: on }, tags: {} },
      };
    }
    const bucket = change.resources.bucket;
    if (!bucket)
      throw new EventParseError(`${change.eventName} event names no bucket`, { eventId: change.eventId });
    try {
      const tags = oss.getBucketTags(bucket);
      if (BUCKET_BPA_EVENTS.has(change.eventName)) {
        const [on, t] = await Promise.all([oss.getBucketPublicAccessBlock(bucket), tags]);
        return {
          kind: 'present',
          state: { subject: { kind: 'bucket-bpa', bucket, blockPublicAccess: on }, tags: t },
        };
      }
      if (OBJECT_EVENTS.has(change.eventName)) {
        const key = change.resources.objectKey;
        if (!key)
          throw new EventParseError(`${change.eventName} event names no object key`, {
            eventId: change.eventId,
          });
        const [acl, t] = await Promise.all([oss.getObjectAcl(bucket, key), tags]);
        return { kind: 'present', state: { subject: { kind: 'object', bucket, key, acl }, tags: t } };
      }
      const [acl, t] = await Promise.all([oss.getBucketAcl(bucket), tags]);
      return { kind: 'present', state: { subject: { kind: 'bucket', bucket, acl }, tags: t } };
    } catch (error) {
      if (isNotFound(error)) return { kind: 'gone', reason: `${describeSubject(change)} no longer exists` };
      throw error;
    }
  },

  evaluate(change, { subject, tags }, { config, now }): Evaluation {
    const exceptions: ExceptionOutcome =
      subject.kind === 'account-bpa'
        ? { ignored: [] }
        : evaluateExceptions(
            subject.bucket,
            config.exceptions.buckets.map((e) => ({ pattern: e.bucket, ...e })),
            tags,
            config.exceptions,
            now,
            change.accountId,
          );
    const findings = evaluateRules(aclRules, subject, config);
    return {
      findings,
      exceptions: narrowException(
        exceptions,
        findings.map((f) => f.ruleId),
      ),
      ...fixFor(subject, config),
    };
  },
};

function fixFor(
  subject: AclSubject,
  config: OssguardConfig,
): Pick<Evaluation, 'before' | 'fix' | 'compliantReason'> {
  switch (subject.kind) {
    case 'bucket':
      return {
        before: { acl: subject.acl },
        compliantReason: `bucket ACL is ${subject.acl}`,
        fix: {
          description: 'set the bucket ACL to private',
          actions: [{ kind: 'put-bucket-acl', bucket: subject.bucket, acl: 'private' }],
          after: { acl: 'private' },
        },
      };
    case 'object':
      return {
        before: { acl: subject.acl },
        compliantReason: `object ACL is ${subject.acl}`,
        fix: {
          description: `set the object ACL to ${config.objectAclTarget}`,
          actions: [
            { kind: 'put-object-acl', bucket: subject.bucket, key: subject.key, acl: config.objectAclTarget },
          ],
          after: { acl: config.objectAclTarget },
        },
      };
    case 'bucket-bpa':
      return {
        before: { blockPublicAccess: subject.blockPublicAccess },
        compliantReason: 'Block Public Access is on for the bucket',
        fix: {
          description: 'switch Block Public Access back on for the bucket',
          actions: [{ kind: 'put-bucket-public-access-block', bucket: subject.bucket }],
          after: { blockPublicAccess: true },
        },
      };
    case 'account-bpa':
      return {
        before: { blockPublicAccess: subject.blockPublicAccess },
        compliantReason: 'Block Public Access is on for the account',
        fix: {
          description: 'switch account-level Block Public Access back on',
          actions: [{ kind: 'put-account-public-access-block' }],
          after: { blockPublicAccess: true },
        },
      };
  }
}

function describeSubject(change: ChangeRecord): string {
  const { bucket, objectKey } = change.resources;
  return objectKey && OBJECT_EVENTS.has(change.eventName)
    ? `object ${objectKey} in bucket ${bucket}`
    : `bucket ${bucket}`;
}
