import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { isRecordKey } from '../../shared/audit/query';
import type { AuditRecord } from '../../shared/audit/record';
import { type CloudEvent, type EmittedRecord, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { dataEventOf, dedupeKeyOf, recordsFor, startFaultyCloud } from './faulty-cloud';

/**
 * Names an attacker chooses travel from a real change through the real pipeline to every place a person reads
 * them: the DingTalk message, the email, `ossguard audit list/show` on a terminal and the HTML report. There
 * they must stay inert text: no markup, no new line, no mail header, no terminal escape.
 */
const USER = 'eve<img src=x onerror=alert(1)>**boss**\r\nBcc: attacker@evil.example';
const KEY =
  '[click](https://evil.example/phish)<script>alert(1)</script>\r\nX-Injected: 1\u001b[2J\u001b]0;pwned\u0007.txt';
const AGENT = 'curl\u001b[31m RED\u202Etxt.exe | ## heading';
/** The names a forged event can carry for a real bucket. */
const FORGED_USER = 'mallory</td><td>fake cell\n| col |';
const FORGED_IP = '203.0.113.9"><svg onload=alert(1)>';

const ESC = String.fromCharCode(27);
const run = promisify(execFile);
const cli = join(process.cwd(), 'bin', 'ossguard.mjs');

describe('attacker-chosen names in alerts, the audit CLI and the HTML report', () => {
  let cloud: LocalCloud;
  /** The object made public: a data event, which reaches ossguard through the trail's log trigger. */
  let change: EmittedRecord;
  let forged: CloudEvent;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    ({ cloud } = await startFaultyCloud());
    const { key } = cloud.identities.userWithKey(USER);
    await cloud.ossClient(key).putBucket('hostile-names');
    const eve = cloud.ossClient(key, 'hostile-names');
    await eve.put(KEY, Buffer.from('x'));
    change = dataEventOf(cloud, await eve.putACL(KEY, 'public-read'));
    await cloud.settle();

    forged = wrapCloudEvent({
      ...change,
      eventId: 'forged-1',
      eventName: 'PutBucketAcl',
      userAgent: AGENT,
      sourceIpAddress: FORGED_IP,
      userIdentity: { ...change.userIdentity, userName: FORGED_USER },
      requestParameters: { bucketName: 'hostile-names' },
      referencedResources: { 'ACS::OSS::Bucket': ['hostile-names'] },
    });
    cloud.bus.publish(forged);
    await cloud.settle();

    dir = mkdtempSync(join(tmpdir(), 'ossguard-hostile-'));
    writeFileSync(join(dir, 'ready.json'), JSON.stringify(cloud.readyInfo()));
    env = { ...process.env, OSSGUARD_LOCAL_STATE: join(dir, 'ready.json'), COLUMNS: '120' };
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  const audited = (event: CloudEvent | EmittedRecord): AuditRecord => {
    const [record] = recordsFor(cloud, event);
    if (!record) throw new Error(`no audit record for ${dedupeKeyOf(event)}`);
    return record;
  };

  it('reverts the object and keeps the names verbatim in the audit record', () => {
    expect(cloud.oss.object('hostile-names', KEY)?.acl).toBe('private');
    expect(audited(change)).toMatchObject({
      decision: 'remediated',
      actor: { userName: USER },
      resource: { bucket: 'hostile-names', objectKey: KEY },
    });
    expect(audited(forged)).toMatchObject({
      decision: 'skipped',
      actor: { userName: FORGED_USER, sourceIp: FORGED_IP, userAgent: AGENT },
    });
  });

  it('keeps the DingTalk message one fact per line, with the markup escaped', () => {
    const [message] = cloud.dingtalk
      .messages()
      .filter((m) => JSON.stringify(m.body).includes(change.eventId));
    const text = String((message?.body.markdown as { text?: string } | undefined)?.text);
    // Heading, summary, facts, actions, footer: the summary is the only line that is not a list item or marker.
    const lines = text.split('\n');
    expect(lines.filter((line) => !/^(### |- |\*\*What|ossguard alert |$)/.test(line))).toHaveLength(1);
    expect(text).not.toMatch(/(^|[^\\])</m);
    expect(text).not.toContain('](');
    expect(text).not.toContain('\r');
    expect(text).not.toContain(ESC);
    expect(text).toContain('\\<img src=x onerror=alert\\(1\\)\\>');
    expect(text).not.toMatch(/^(Bcc|X-Injected):/m);
  });

  it('adds no mail header and no markup to the email', () => {
    const [mail] = cloud.smtp.messages().filter((m) => (m.mail.text ?? '').includes(change.eventId));
    if (!mail) throw new Error('no mail');
    const header = mail.raw.slice(0, mail.raw.search(/\r?\n\r?\n/));
    expect(header).not.toMatch(/^(bcc|x-injected):/im);
    expect(mail.mail.bcc).toBeUndefined();
    expect(mail.envelope.to).toEqual(['secops@local.test']);
    expect(mail.mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.mail.text).not.toMatch(/^(Bcc|X-Injected):/m);
    expect(mail.mail.html || '').not.toMatch(/<img|<script|onerror=alert\(1\)>/);
  });

  /** Runs the built CLI as a person would, against this local cloud. */
  const ossguard = async (...args: string[]) =>
    (await run(process.execPath, [cli, ...args, '--local'], { env })).stdout;
  /** Control characters other than the line feed, and bidi overrides, anywhere in the output. */
  const terminalUnsafe = (out: string) =>
    Array.from(out).filter(
      (c) => (/\p{Cc}/u.test(c) && c !== '\n') || /[\u202a-\u202e\u2066-\u2069]/.test(c),
    );

  it('lists the records on a terminal with no escape sequence and one line per record', async () => {
    const out = await ossguard('audit', 'list', '--since', '1d');
    expect(terminalUnsafe(out)).toEqual([]);
    const records = (cloud.oss.bucket(cloud.auditBucket)?.objectKeys ?? []).filter((key) =>
      isRecordKey('ossguard/audit/', key),
    ).length;
    expect(out.trimEnd().split('\n')).toHaveLength(records + 3);
  });

  it('shows one record on a terminal with no escape sequence and every line under its label', async () => {
    const out = await ossguard('audit', 'show', audited(change).eventId, '--since', '1d');
    expect(terminalUnsafe(out)).toEqual([]);
    for (const line of out.trimEnd().split('\n')) expect(line).toMatch(/^([A-Z][A-Za-z. ]{0,12}\s|\s{13}|$)/);
  });

  it('writes an HTML report whose markup is only the report own', async () => {
    const file = join(dir, 'report.html');
    await run(process.execPath, [cli, 'audit', 'report', '--since', '1d', '--out', file, '--local'], { env });
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<img|<script|<svg onload|<\/td><td>fake/);
    expect(html).not.toContain(ESC);
    expect(html).toContain('mallory&lt;/td&gt;&lt;td&gt;fake cell');
    const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]?.toLowerCase()));
    for (const tag of tags)
      expect(['img', 'script', 'iframe', 'a', 'b', 'font', 'object', 'embed']).not.toContain(tag);
  });

  // ali-oss refuses such a name before sending anything: a final error, audited as failed, not a network
  // fault retried into the dead-letter list.
  it('audits an event naming a bucket OSS would refuse as failed, instead of retrying it into the dead-letter list', async () => {
    const impossible = wrapCloudEvent({
      ...change,
      eventId: 'forged-2',
      eventName: 'PutBucketAcl',
      requestParameters: { bucketName: 'forged\r\nX-Injected: 1' },
      referencedResources: { 'ACS::OSS::Bucket': ['forged\r\nX-Injected: 1'] },
    });
    cloud.bus.publish(impossible);
    await cloud.settle();
    expect(cloud.bus.deadLetters().map((d) => d.event.id)).not.toContain(impossible.id);
    expect(recordsFor(cloud, impossible)).toEqual([
      expect.objectContaining({
        decision: 'failed',
        error: expect.objectContaining({ code: 'RequestRefusedByClient' }),
      }),
    ]);
  });
});
