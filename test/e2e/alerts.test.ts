import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { decisionsFor, startCloud, userClient, watchSecrets } from './local-cloud';

/** `- **Label:** value` lines of a DingTalk alert, with the markdown escapes taken off. */
function dingTalkFacts(markdown: string): Map<string, string> {
  const plain = (text: string) => text.replace(/\\(.)/g, '$1');
  return new Map(
    [...markdown.matchAll(/^- \*\*(.+?):\*\* (.*)$/gm)].map(([, label = '', value = '']) => [
      plain(label),
      plain(value),
    ]),
  );
}

describe('alerts of oss-acl-guard, through the bundled function', () => {
  let cloud: LocalCloud;
  let secrets: ReturnType<typeof watchSecrets>;

  beforeAll(async () => {
    cloud = await startCloud();
    secrets = watchSecrets(cloud);
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('sends one email and one DingTalk message with the same facts for one revert', async () => {
    const alice = userClient(cloud, 'alice');
    await alice.putBucket('mailed-bucket');
    await cloud.settle();
    await alice.putBucketACL('mailed-bucket', 'public-read');
    await cloud.settle();

    const [record] = await decisionsFor(cloud, 'PutBucketAcl', 'mailed-bucket');
    expect(record?.decision).toBe('remediated');
    const messages = cloud.dingtalk.messages();
    const emails = cloud.smtp.messages();
    expect(messages).toHaveLength(1);
    expect(emails).toHaveLength(1);

    const [message, email] = [messages[0], emails[0]];
    if (!message || !email) throw new Error('no alert arrived');
    const facts = dingTalkFacts((message.body.markdown as { text: string }).text);
    expect(Object.fromEntries(facts)).toMatchObject({
      Resource: 'bucket mailed-bucket',
      Actor: 'alice (ram-user)',
      Decision: 'remediated',
      'Rule bucket-acl-public-read (high, enforce)':
        'bucket mailed-bucket is readable by anyone (ACL public-read)',
    });
    const emailLines = new Set(email.mail.text?.split('\n'));
    for (const [label, value] of facts) expect(emailLines).toContain(`${label}: ${value}`);
    expect(email.mail.subject).toBe('[HIGH] [ossguard] bucket mailed-bucket reverted');
  });

  it('puts no secret of the function or the robot in logs, audit records, alerts or results', async () => {
    expect(await secrets.leaks()).toEqual([]);
  });
});
