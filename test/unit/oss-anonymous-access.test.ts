import { describe, expect, it } from 'vitest';
import { type AnonymousRequest, anonymousDecision, type PolicyStatement } from '../../local/oss/policy';

const fromNetwork = (block: string): PolicyStatement => ({
  effect: 'Allow',
  principals: ['*'],
  actions: ['oss:GetObject'],
  resources: ['acs:oss:*:*:site/*'],
  conditions: [{ operator: 'IpAddress', key: 'acs:sourceip', values: [block] }],
});

const request = (sourceIp: string): AnonymousRequest => ({
  action: 'oss:GetObject',
  resource: 'acs:oss:*:123:site/index.html',
  sourceIp,
  userAgent: 'test',
  now: new Date('2026-12-01T00:00:00Z'),
});

describe('the local OSS judging an anonymous request by its source network', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.1', 'allow'],
    ['10.0.0.0/8', '::ffff:10.0.0.1', 'allow'],
    ['::ffff:10.0.0.0/104', '10.0.0.1', 'allow'],
    ['10.0.0.0/8', '::ffff:11.0.0.1', 'none'],
    ['2001:db8::/32', '10.0.0.1', 'none'],
  ])('lets a statement for %s decide a request from %s: %s', (block, sourceIp, expected) => {
    expect(anonymousDecision([fromNetwork(block)], request(sourceIp))).toBe(expected);
  });
});
