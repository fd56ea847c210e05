import { describe, expect, it } from 'vitest';
import { renderIncidentHtml, renderIncidentText } from '../../cli/incident/render';
import { callOf, type KeyCall } from '../../shared/incident/trail';
import { reportOf } from '../helpers/incident';

const HOSTILE = '<img src=x onerror=alert(1)>\u001b[31m.png';

const call = callOf({
  eventId: 'e1',
  eventTime: '2026-12-02T10:00:00Z',
  eventName: 'GetObject',
  serviceName: 'Oss',
  eventRW: 'Read',
  sourceIpAddress: '203.0.113.9',
  userAgent: '"><script>alert(2)</script>',
  userIdentity: { accessKeyId: 'LTAI5tLeaked000001' },
  requestParameters: { bucketName: 'photos', objectKey: HOSTILE },
}) as KeyCall;

const report = reportOf([call]);

describe('the incident report as a page and as text', () => {
  it('escapes what the trail recorded: object keys and user agents are the caller’s text', () => {
    const html = renderIncidentHtml(report);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('lists the STS sessions minted with the key, in the text and on the page', () => {
    const assumed = callOf({
      eventId: 'e2',
      eventTime: '2026-12-05T23:30:00Z',
      eventName: 'AssumeRole',
      serviceName: 'Sts',
      sourceIpAddress: '198.51.100.7',
      userIdentity: { accessKeyId: 'LTAI5tLeaked000001' },
      requestParameters: { RoleArn: 'acs:ram::1234:role/<b>deployer', RoleSessionName: 'thief' },
      responseElements: { credentials: { accessKeyId: 'STS.thief0001', expiration: '2026-12-06T00:30:00Z' } },
    }) as KeyCall;
    const withSession = reportOf([call, assumed]);
    expect(renderIncidentText(withSession, 200)).toMatch(
      /STS sessions minted[^\n]*\n[^\n]*\n[^\n]*STS\.thief0001/,
    );
    const html = renderIncidentHtml(withSession);
    expect(html).toMatch(
      /<table class="records" id="sessions">.*acs:ram::1234:role\/&lt;b&gt;deployer.*STS\.thief0001/,
    );
  });

  it('prints no escape sequence the trail carried', () => {
    const text = renderIncidentText(report, 200);
    expect(text).not.toContain('\u001b');
    expect(text).toContain('<img src=x onerror=alert(1)>');
  });
});
