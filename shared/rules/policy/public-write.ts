import { policyRule } from './rule';

export const publicWrite = policyRule('public-write', {
  title: 'Bucket policy lets anyone write',
  rationale:
    'Whoever may write can overwrite or delete data, plant content for others to download, and run up ' +
    'storage and traffic bills that the bucket owner pays.',
  firesWhen: 'anyone may write, delete or reconfigure',
  severityNote: 'critical (high when the callers are pinned)',
});
