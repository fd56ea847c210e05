import { describe, expect, it } from 'vitest';
import {
  compilePattern,
  InvalidPatternError,
  matchesPattern,
  validatePattern,
} from '../../shared/events/eventbridge-pattern';

const event = {
  id: 'e-1',
  source: 'acs.oss',
  type: 'oss:ActionTrail:ApiCall',
  subject: 'acs:oss:cn-hangzhou:1234567890123456:photos/2024/cat.jpg',
  aliyunregionid: 'cn-hangzhou',
  data: {
    eventName: 'PutBucketAcl',
    eventVersion: 1,
    isGlobal: false,
    errorCode: null,
    sourceIpAddress: '10.0.0.17',
    apiVersion: '',
    count: 5,
    tags: ['prod', 'finance'],
    userIdentity: { type: 'ram-user', userName: 'alice' },
    resources: [
      { kind: 'bucket', name: 'photos' },
      { kind: 'object', name: 'cat.jpg' },
    ],
  },
};

const matching: Array<[string, unknown]> = [
  ['an exact string', { source: ['acs.oss'] }],
  ['one of several alternatives', { source: ['acs.ram', 'acs.oss'] }],
  ['a nested field', { data: { userIdentity: { type: ['ram-user'] } } }],
  ['several fields at once (AND)', { source: ['acs.oss'], data: { eventName: ['PutBucketAcl'] } }],
  ['an exact number', { data: { eventVersion: [1] } }],
  ['an exact boolean', { data: { isGlobal: [false] } }],
  ['a null value', { data: { errorCode: [null] } }],
  ['an empty string', { data: { apiVersion: [''] } }],
  ['a prefix', { source: [{ prefix: 'acs.' }] }],
  ['a suffix', { type: [{ suffix: ':ActionTrail:ApiCall' }] }],
  ['a substring', { subject: [{ contains: ':photos/' }] }],
  ['anything but a string', { data: { eventName: [{ 'anything-but': 'PutBucket' }] } }],
  ['anything but a number', { data: { eventVersion: [{ 'anything-but': 2 }] } }],
  ['anything but a list', { data: { eventName: [{ 'anything-but': ['PutBucket', 'DeleteBucket'] }] } }],
  ['anything but a prefix', { data: { eventName: [{ 'anything-but': { prefix: 'Get' } }] } }],
  ['a present field', { data: { errorCode: [{ exists: true }] } }],
  ['an absent field', { data: { errorMessage: [{ exists: false }] } }],
  ['a field absent because its parent is', { requestParameters: { acl: [{ exists: false }] } }],
  ['an IPv4 address in a CIDR block', { data: { sourceIpAddress: [{ cidr: '10.0.0.0/24' }] } }],
  ['an address in a /0 block', { data: { sourceIpAddress: [{ cidr: '0.0.0.0/0' }] } }],
  ['a numeric range', { data: { count: [{ numeric: ['>', 0, '<=', 5] }] } }],
  ['a numeric range written upper bound first', { data: { count: [{ numeric: ['<', 10, '>=', 5] }] } }],
  ['a numeric equality', { data: { count: [{ numeric: ['=', 5] }] } }],
  ['an element of an array-valued field', { data: { tags: ['finance'] } }],
  ['a condition on an element of an array-valued field', { data: { tags: [{ prefix: 'pro' }] } }],
  ['a nested field of an object inside an array', { data: { resources: { kind: ['object'] } } }],
  ['a mix of an exact value and a condition', { source: ['acs.ram', { prefix: 'acs.o' }] }],
];

const notMatching: Array<[string, unknown]> = [
  ['a different string', { source: ['acs.ram'] }],
  ['a value that differs only in case', { source: ['ACS.OSS'] }],
  ['one field of two', { source: ['acs.oss'], data: { eventName: ['PutBucketPolicy'] } }],
  ['a missing field', { data: { missing: ['x'] } }],
  ['a number written as a string', { data: { eventVersion: ['1'] } }],
  ['null against an empty string', { data: { errorCode: [''] } }],
  ['an empty string against null', { data: { apiVersion: [null] } }],
  ['a prefix that is not there', { source: [{ prefix: 'acs.r' }] }],
  ['a prefix against a number', { data: { count: [{ prefix: '5' }] } }],
  ['a suffix that is not there', { type: [{ suffix: ':ConsoleOperation' }] }],
  ['a substring that is not there', { subject: [{ contains: ':videos/' }] }],
  ['anything but the actual value', { data: { eventName: [{ 'anything-but': 'PutBucketAcl' }] } }],
  [
    'anything but a list holding the value',
    { data: { eventName: [{ 'anything-but': ['PutBucketAcl', 'X'] }] } },
  ],
  ['anything but the actual prefix', { data: { eventName: [{ 'anything-but': { prefix: 'Put' } }] } }],
  ['anything but, on a missing field', { data: { missing: [{ 'anything-but': 'x' }] } }],
  ['exists on a missing field', { data: { missing: [{ exists: true }] } }],
  ['not-exists on a present field', { data: { eventName: [{ exists: false }] } }],
  ['an address outside the CIDR block', { data: { sourceIpAddress: [{ cidr: '10.0.1.0/24' }] } }],
  ['a CIDR block against a non-address', { source: [{ cidr: '10.0.0.0/8' }] }],
  ['a value above the numeric range', { data: { count: [{ numeric: ['>', 0, '<', 5] }] } }],
  ['a numeric range against a string', { data: { eventName: [{ numeric: ['>', 0] }] } }],
  ['an element absent from an array-valued field', { data: { tags: ['dev'] } }],
  ['a nested field no object in the array has', { data: { resources: { kind: ['policy'] } } }],
  ['a nested pattern against a scalar', { source: { inner: ['x'] } }],
];

describe('matchesPattern', () => {
  it.each(matching)('matches %s', (_case, pattern) => {
    expect(matchesPattern(pattern, event)).toBe(true);
  });

  it.each(notMatching)('does not match %s', (_case, pattern) => {
    expect(matchesPattern(pattern, event)).toBe(false);
  });

  it.each([
    ['the /32 block of the address itself', '10.0.0.17/32', true],
    ['the /31 block around it', '10.0.0.16/31', true],
    ['a /8 block', '10.0.0.0/8', true],
    ['a neighbouring /32 block', '10.0.0.18/32', false],
    ['a block on the other half of the address space', '192.168.0.0/16', false],
  ])('places 10.0.0.17 in %s: %s', (_case, block, expected) => {
    expect(matchesPattern({ ip: [{ cidr: block }] }, { ip: '10.0.0.17' })).toBe(expected);
  });

  it.each([
    ['>', 5, false],
    ['>=', 5, true],
    ['<', 5, false],
    ['<=', 5, true],
    ['=', 5, true],
  ])('compares 5 %s %d as %s', (op, bound, expected) => {
    expect(matchesPattern({ n: [{ numeric: [op, bound] }] }, { n: 5 })).toBe(expected);
  });

  it('matches the ActionTrail filter of the reference s.yaml against an OSS ApiCall event', () => {
    const filter = JSON.parse(
      '{"type":["oss:ActionTrail:ApiCall","oss:ActionTrail:ConsoleOperation"],"data":{"eventName":["PutBucketAcl"]}}',
    );
    expect(matchesPattern(filter, event)).toBe(true);
    expect(matchesPattern(filter, { ...event, data: { ...event.data, eventName: 'GetBucketAcl' } })).toBe(
      false,
    );
  });

  it('compiles once and matches many events', () => {
    const isAclChange = compilePattern({ data: { eventName: [{ suffix: 'Acl' }] } });
    const names = ['PutBucketAcl', 'PutObjectAcl', 'PutBucket'];
    expect(names.map((eventName) => isAclChange({ data: { eventName } }))).toEqual([true, true, false]);
  });
});

const invalid: Array<[string, unknown, string]> = [
  ['a JSON string that was not parsed', '{"source":["acs.oss"]}', 'JSON.parse'],
  ['an array as the pattern', [{ source: ['acs.oss'] }], 'a pattern is a JSON object'],
  ['an empty pattern', {}, 'empty object'],
  ['an empty nested object', { data: {} }, 'at data: an empty object'],
  ['a bare value instead of a list', { source: 'acs.oss' }, 'at source: expected a list'],
  ['an empty list of alternatives', { source: [] }, 'at source: an empty list'],
  ['a list inside a list', { source: [['acs.oss']] }, 'at source[0]'],
  ['an unknown operator', { source: [{ wildcard: 'acs.*' }] }, 'unknown operator "wildcard"'],
  ['two operators in one condition', { source: [{ prefix: 'a', suffix: 'b' }] }, 'exactly one operator'],
  [
    'a prefix that is not a string',
    { source: [{ prefix: 1 }] },
    'at source[0].prefix: prefix needs a string',
  ],
  ['a suffix that is not a string', { source: [{ suffix: null }] }, 'suffix needs a string'],
  ['a contains that is not a string', { source: [{ contains: ['a'] }] }, 'contains needs a string'],
  ['exists that is not a boolean', { source: [{ exists: 'true' }] }, 'exists takes true or false'],
  ['an empty anything-but list', { source: [{ 'anything-but': [] }] }, 'at least one value'],
  ['anything-but with a boolean', { source: [{ 'anything-but': [true] }] }, 'at source[0].anything-but[0]'],
  ['anything-but with a suffix', { source: [{ 'anything-but': { suffix: '.x' } }] }, '{"prefix": "..."}'],
  ['numeric with an odd number of items', { n: [{ numeric: ['>', 0, '<'] }] }, 'numeric takes'],
  ['numeric with an unknown operator', { n: [{ numeric: ['!=', 0] }] }, 'one of = < <= > >='],
  ['numeric with a string bound', { n: [{ numeric: ['>', '0'] }] }, 'bound must be a number'],
  ['numeric with two lower bounds', { n: [{ numeric: ['>', 0, '>=', 1] }] }, 'one lower bound'],
  ['numeric equality in a range', { n: [{ numeric: ['=', 0, '<', 1] }] }, 'one lower bound'],
  ['cidr without a prefix length', { ip: [{ cidr: '10.0.0.1' }] }, 'IPv4 block like'],
  ['cidr with a prefix length over 32', { ip: [{ cidr: '10.0.0.0/33' }] }, 'IPv4 block like'],
  ['cidr with an octet over 255', { ip: [{ cidr: '10.0.0.256/32' }] }, 'IPv4 block like'],
  ['an IPv6 cidr block', { ip: [{ cidr: '2001:db8::/32' }] }, 'IPv4 blocks only'],
];

describe('validatePattern', () => {
  it.each(invalid)('rejects %s', (_case, pattern, message) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidPatternError);
    expect(() => validatePattern(pattern)).toThrow(message);
  });

  it('names the path of the offending element', () => {
    const error = (() => {
      try {
        validatePattern({ data: { userIdentity: { type: [{ prefix: 'ram-' }, { prefx: 'x' }] } } });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect((error as InvalidPatternError).path).toBe('data.userIdentity.type[1]');
  });

  it('makes matchesPattern throw rather than quietly match nothing', () => {
    expect(() => matchesPattern({ source: 'acs.oss' }, event)).toThrow(InvalidPatternError);
  });

  it.each(matching)('accepts the pattern for %s', (_case, pattern) => {
    expect(() => validatePattern(pattern)).not.toThrow();
  });
});
