import { DEFAULT_ACCOUNT_ID } from '../../local/identity';

/** The local cloud's account, whose RAM users put the bucket policies below. */
export const OWNER = DEFAULT_ACCOUNT_ID;

export const policy = (...statements: object[]) => ({ Version: '1', Statement: statements });

/** Reads of one prefix by the owner account over HTTPS: no finding at all. */
export const ownerReads = (bucket: string) => ({
  Effect: 'Allow',
  Principal: [OWNER],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${OWNER}:${bucket}/reports/*`],
  Condition: { Bool: { 'acs:SecureTransport': ['true'] } },
});

/** The classic leak: anyone, anonymous callers included, may read every object (under `prefix`). */
export const anyoneReads = (bucket: string, prefix = '') => ({
  Effect: 'Allow',
  Principal: ['*'],
  Action: ['oss:GetObject'],
  Resource: [`acs:oss:*:${OWNER}:${bucket}/${prefix}*`],
});
