import { actionsIn, DATA_READS, isWriteAction } from '../../policy/actions';
import { grantsAnyone, list, rewrite, statementIsPublic, unique } from '../../policy/statement';
import { policyRule } from './rule';

export const publicWrite = policyRule({
  id: 'public-write',
  order: 20,
  title: 'Bucket policy lets anyone write',
  rationale:
    'Whoever may write can overwrite or delete data, plant content for others to download, and run up ' +
    'storage and traffic bills that the bucket owner pays.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access',
  severity: 'critical',
  firesWhen: 'anyone may write, delete or reconfigure',
  severityNote: 'critical (high when the callers are pinned)',
  check: (s) => {
    if (s.effect !== 'Allow' || !grantsAnyone(s)) return undefined;
    const writes = s.actions.filter(isWriteAction);
    if (writes.length === 0) return undefined;
    const pinned = !statementIsPublic(s);
    const reads = unique(s.actions.flatMap((a) => (isWriteAction(a) ? actionsIn(a, DATA_READS) : [a])));
    return {
      severity: pinned ? 'high' : 'critical',
      message:
        `anyone${pinned ? ' on the pinned network or AccessKey' : ', including anonymous callers,'} may ` +
        `write with ${list(writes)} on ${list(s.resources) || 'no resource'}: they can overwrite or delete ` +
        'data, or upload content the owner pays to store and serve',
      fix:
        reads.length > 0
          ? `keep only reads for "*": ${rewrite(s, { Action: reads })}; grant writes to named RAM users or through STS`
          : 'remove this statement; grant writes to named RAM users or through STS tokens instead',
    };
  },
});
