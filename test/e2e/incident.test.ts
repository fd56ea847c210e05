import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { LocalCloud } from '../../local/cloud';
import type { IncidentReport } from '../../shared/incident/report';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { FAST_LOOKUP_PER_SECOND, publicAccessBlock, startCloud } from './local-cloud';

const CHROMIUM = '/usr/bin/chromium';

describe('ossguard incident <key>', () => {
  let cloud: LocalCloud;
  let dir: string;
  let accessKeyId: string;

  beforeAll(async () => {
    cloud = await startCloud({}, { lookupCallsPerSecond: FAST_LOOKUP_PER_SECOND });
    dir = mkdtempSync(join(tmpdir(), 'ossguard-incident-'));
    useLocalState(cloud, dir);
    const admin = cloud.adminClient();
    for (const bucket of ['incident-photos', 'incident-ledger', 'incident-locked'])
      await admin.putBucket(bucket);
    await cloud.adminClient('incident-photos').put('cat.jpg', Buffer.from('meow'));
    await cloud.adminClient('incident-ledger').put('2026/q4.csv', Buffer.from('1,2,3'));
    await publicAccessBlock(cloud.adminClient(), 'incident-locked', 'PUT', true);

    // What the leaked key does: reads two buckets, makes one public, and is refused on the third.
    const { key } = cloud.identities.userWithKey('leaky-ci');
    accessKeyId = key.accessKeyId;
    const thief = cloud.ossClient(key);
    await thief.useBucket('incident-photos');
    await thief.get('cat.jpg');
    thief.useBucket('incident-ledger');
    await thief.get('2026/q4.csv');
    await thief.putBucketACL('incident-photos', 'public-read');
    await expect(thief.putBucketACL('incident-locked', 'public-read')).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    await cloud.settle();
  });
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('shows the two buckets read, the one ACL changed and the refused call, as JSON', async () => {
    const { code, stdout, stderr } = await runCli('incident', accessKeyId, '--local', '--json');
    expect(stderr).toContain("from the trail's logstore");
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as IncidentReport;
    expect(report.source).toBe('logstore');
    expect(report.calls).toBe(4);
    expect(report.buckets).toEqual([
      { bucket: 'incident-ledger', reads: 1, writes: 0 },
      { bucket: 'incident-photos', reads: 1, writes: 0 },
    ]);
    expect(report.objects).toEqual([
      { bucket: 'incident-ledger', key: '2026/q4.csv', access: 'read', calls: 1 },
      { bucket: 'incident-photos', key: 'cat.jpg', access: 'read', calls: 1 },
    ]);
    expect(report.changes.map((c) => [c.eventName, c.bucket])).toEqual([['PutBucketAcl', 'incident-photos']]);
    expect(report.failed.map((c) => [c.eventName, c.bucket, c.errorCode])).toEqual([
      ['PutBucketAcl', 'incident-locked', 'AccessDenied'],
    ]);
    expect(report.sourceIps).toEqual([{ ip: '127.0.0.1', calls: 4 }]);
    expect(report.firstUse).toBe(report.timeline[0]?.time);
    expect(report.lastUse).toBe(report.timeline[3]?.time);
    expect(report.key).toMatchObject({ owner: 'leaky-ci', status: 'Active', otherKeys: [] });
    expect(report.key.stillInUse).toContain('still active');
  });

  it('falls back on LookupEvents, management events only, when the trail has no logstore', async () => {
    const config = parseYaml(readFileSync(cloud.configFile, 'utf8')) as Record<string, unknown>;
    const elsewhere = join(dir, 'no-logstore.yaml');
    writeFileSync(elsewhere, toYaml({ ...config, trail: { project: 'no-such-trail-project' } }));

    const { code, stdout, stderr } = await runCli(
      'incident',
      accessKeyId,
      '--local',
      '--json',
      '--config',
      elsewhere,
    );
    expect(code).toBe(0);
    expect(stderr).toContain('from ActionTrail LookupEvents');
    const report = JSON.parse(stdout) as IncidentReport;
    expect(report.sourceNote).toContain('ProjectNotExist');
    expect(report.buckets).toEqual([]);
    expect(report.changes.map((c) => [c.eventName, c.bucket])).toEqual([['PutBucketAcl', 'incident-photos']]);
    expect(report.failed.map((c) => [c.eventName, c.errorCode])).toEqual([['PutBucketAcl', 'AccessDenied']]);
  });

  it('prints the same in the terminal and, in the same run, writes the JSON and an HTML page that Chromium renders with its timeline', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
    const out = join(dir, 'incident.html');
    const jsonOut = join(dir, 'incident.json');
    const { code, stdout } = await runCli(
      'incident',
      accessKeyId,
      '--local',
      '--json',
      jsonOut,
      '--html',
      out,
    );
    expect(code).toBe(0);
    const written = JSON.parse(readFileSync(jsonOut, 'utf8')) as IncidentReport;
    expect(written.calls).toBe(4);
    expect(written.changes.map((c) => c.eventName)).toEqual(['PutBucketAcl']);
    expect(stdout).toContain(`Incident report for AccessKey ${accessKeyId}`);
    expect(stdout).toMatch(/incident-photos\s+1\s+0/);
    expect(stdout).toMatch(/incident-ledger\s+1\s+0/);
    expect(stdout).toMatch(/Changes[^\n]*\n[^\n]*\n[^\n]*Oss PutBucketAcl\s+incident-photos/);
    expect(stdout).toMatch(
      /Refused calls[^\n]*\n[^\n]*\n[^\n]*incident-locked\s+127\.0\.0\.1\s+AccessDenied/,
    );

    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      await page.goto(`file://${out}`);
      const timeline = page.locator('#timeline svg.timeline');
      await expect.poll(() => timeline.isVisible()).toBe(true);
      expect(await timeline.locator('g.call').count()).toBe(4);
      expect(await timeline.locator('g.call.read').count()).toBe(2);
      expect(await timeline.locator('g.call.change').count()).toBe(1);
      expect(await timeline.locator('g.call.refused').count()).toBe(1);
      expect((await timeline.boundingBox())?.height).toBeGreaterThan(100);
      const rows = async (id: string) =>
        page.locator(`#${id} tbody tr`).evaluateAll((trs) => trs.map((tr) => tr.textContent ?? ''));
      expect(await rows('changes')).toEqual([expect.stringContaining('incident-photos')]);
      expect(await rows('refused')).toEqual([expect.stringContaining('AccessDenied')]);
      expect(await rows('objects')).toHaveLength(2);
      expect(await rows('by-bucket')).toEqual([
        expect.stringContaining('incident-ledger'),
        expect.stringContaining('incident-photos'),
      ]);
      mkdirSync(resolve('test-artifacts'), { recursive: true });
      await page.screenshot({ path: resolve('test-artifacts/incident-report.png'), fullPage: true });
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('asks SLS again for a page it answers as incomplete, and then reads every call', async () => {
    cloud.sls.answerIncomplete(2);
    const { code, stdout } = await runCli('incident', accessKeyId, '--local', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as IncidentReport;
    expect(report.calls).toBe(4);
    expect(report.trailIncomplete).toBeUndefined();
  });

  it('says the calls may be incomplete, in the terminal, the JSON and the HTML, when SLS keeps answering incomplete', async () => {
    cloud.sls.answerIncomplete(1_000);
    try {
      const [jsonOut, htmlOut] = [join(dir, 'partial.json'), join(dir, 'partial.html')];
      const { code, stdout } = await runCli(
        'incident',
        accessKeyId,
        '--local',
        '--json',
        jsonOut,
        '--html',
        htmlOut,
      );
      expect(code).toBe(0);
      expect(stdout).toMatch(/INCOMPLETE: SLS answered 1 page\(s\) of the trail as incomplete/);
      const report = JSON.parse(readFileSync(jsonOut, 'utf8')) as IncidentReport;
      expect(report.trailIncomplete).toMatchObject({ pages: 1 });
      expect(report.calls).toBeLessThan(4);
      expect(readFileSync(htmlOut, 'utf8')).toMatch(
        /<p class="incomplete"[^>]*>INCOMPLETE: SLS answered 1 page/,
      );
    } finally {
      cloud.sls.answerIncomplete(0);
    }
  });

  it('--disable disables the key, alerts once as critical, and the report then says it cannot know of refused tries', async () => {
    const { code, stderr } = await runCli('incident', accessKeyId, '--disable', '--local', '--json');
    expect(stderr).toContain('remediated');
    expect(code).toBe(0);
    const key = cloud.identities.users.get('leaky-ci')?.accessKeys.find((k) => k.accessKeyId === accessKeyId);
    expect(key?.status).toBe('Inactive');
    const alerts = cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(accessKeyId));
    expect(alerts.map((m) => JSON.stringify(m.body))).toEqual([expect.stringContaining('critical')]);

    // The thief tries again: OSS refuses the disabled key before it knows who is calling.
    await expect(
      cloud.ossClient(key ?? { accessKeyId, accessKeySecret: '' }).listBuckets({}),
    ).rejects.toMatchObject({ code: 'InvalidAccessKeyId' });
    const { stdout } = await runCli('incident', accessKeyId, '--local', '--json');
    const report = JSON.parse(stdout) as IncidentReport;
    expect(report.key.status).toBe('Inactive');
    expect(report.key.disabledAt).toBeDefined();
    expect(report.key.triedAfterDisable).toEqual([]);
    expect(report.key.stillInUse).toContain('cannot show that nobody tried');
  });
});
