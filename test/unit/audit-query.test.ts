import { describe, expect, it } from 'vitest';
import {
  type AuditFilter,
  matchesFilter,
  parseDecisions,
  parseTimeBound,
  planListing,
  recordKeyDay,
} from '../../shared/audit/query';
import { type AuditRecord, auditKey, canonicalJson, sign } from '../../shared/audit/record';
import { mapLimited } from '../../shared/audit/store';
import { auditRecordOf } from '../helpers/audit-record';

const now = new Date('2026-11-28T12:00:00Z');
const prefix = 'ossguard/audit/';

const record: AuditRecord = sign(auditRecordOf());

describe('time bounds', () => {
  it.each([
    ['24h', '2026-11-27T12:00:00.000Z'],
    ['7d', '2026-11-21T12:00:00.000Z'],
    ['30m', '2026-11-28T11:30:00.000Z'],
    ['2w', '2026-11-14T12:00:00.000Z'],
    ['2026-11-01', '2026-11-01T00:00:00.000Z'],
    ['2026-11-01T08:30:00+08:00', '2026-11-01T00:30:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseTimeBound(text, now).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '24', '3 days', '2026-13-45', 'Nov 1 2026'])('refuses %j', (text) => {
    expect(() => parseTimeBound(text, now)).toThrow(/neither a duration/);
  });
});

describe('decision lists', () => {
  it('accepts comma-separated decisions and names the unknown ones', () => {
    expect(parseDecisions('failed, alerted')).toEqual(['failed', 'alerted']);
    expect(() => parseDecisions('failed,fixed')).toThrow(/unknown decision fixed/);
  });
});

describe('record filters', () => {
  it.each<[string, AuditFilter, boolean]>([
    ['no filter', {}, true],
    ['a since before the event', { since: new Date('2026-11-28T09:00:00Z') }, true],
    ['a since after the event', { since: new Date('2026-11-28T11:00:00Z') }, false],
    ['an until before the event', { until: new Date('2026-11-28T09:00:00Z') }, false],
    ['a bucket glob', { buckets: ['site-*'] }, true],
    ['another bucket', { buckets: ['data-*', 'logs'] }, false],
    ['a rule that fired', { rules: ['bucket-acl-public-read'] }, true],
    ['a rule that did not', { rules: ['object-acl-public'] }, false],
    ['its decision', { decisions: ['failed', 'remediated'] }, true],
    ['another decision', { decisions: ['failed'] }, false],
    ['part of the user name in another case', { actor: 'alice' }, true],
    ['part of the principal id', { actor: '0000001' }, true],
    ['another actor', { actor: 'bob' }, false],
  ])('%s → %s', (_case, filter, expected) => {
    expect(matchesFilter(record, filter)).toBe(expected);
  });
});

describe('listing plans', () => {
  it('recognises only keys that auditKey writes, and their day', () => {
    const key = auditKey(prefix, 'actiontrail:e-1', '2026-11-28T10:00:00Z');
    expect(recordKeyDay(prefix, key)).toBe('2026-11-28');
    expect(recordKeyDay(prefix, `${prefix}checkpoints/20261128T120000.000Z-ab.json`)).toBeUndefined();
    expect(recordKeyDay(prefix, 'elsewhere/2026/11/28/x.json')).toBeUndefined();
  });

  it('lists one prefix per day for a short range', () => {
    const plan = planListing(prefix, new Date('2026-11-26T18:00:00Z'), new Date('2026-11-28T01:00:00Z'), now);
    expect(plan.prefixes).toEqual([`${prefix}2026/11/26/`, `${prefix}2026/11/27/`, `${prefix}2026/11/28/`]);
  });

  it('lists months, then years, when days would be too many', () => {
    expect(planListing(prefix, new Date('2026-06-15T00:00:00Z'), undefined, now).prefixes).toEqual(
      ['06', '07', '08', '09', '10', '11'].map((m) => `${prefix}2026/${m}/`),
    );
    expect(planListing(prefix, new Date('2019-03-01T00:00:00Z'), undefined, now).prefixes).toHaveLength(8);
  });

  it('drops keys whose day lies outside the range before anything is read', () => {
    const plan = planListing(prefix, new Date('2026-06-15T00:00:00Z'), new Date('2026-07-02T00:00:00Z'), now);
    expect(plan.inRange(auditKey(prefix, 'x', '2026-06-14T23:59:59Z'))).toBe(false);
    expect(plan.inRange(auditKey(prefix, 'x', '2026-06-15T00:00:00Z'))).toBe(true);
    expect(plan.inRange(auditKey(prefix, 'x', '2026-07-03T00:00:00Z'))).toBe(false);
  });

  it('lists the whole prefix when the range has no start', () => {
    expect(planListing(prefix, undefined, undefined, now).prefixes).toEqual([prefix]);
  });

  it('keeps records dated a little ahead of our clock in an open-ended range', () => {
    const plan = planListing(prefix, new Date('2026-11-28T00:00:00Z'), undefined, now);
    expect(plan.inRange(auditKey(prefix, 'x', '2026-11-29T00:10:00Z'))).toBe(true);
  });
});

describe('bounded concurrency', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimited([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });
});

describe('canonicalJson, the form audit digests are taken over', () => {
  it.each([
    [
      'sorts keys at every level, by code unit',
      { b: 1, a: { z: [2, { y: 1, x: 0 }], Z: 'é' } },
      '{"a":{"Z":"é","z":[2,{"x":0,"y":1}]},"b":1}',
    ],
    [
      'drops undefined properties and writes an undefined array item as nothing',
      { a: undefined, b: [1, undefined, 3] },
      '{"b":[1,,3]}',
    ],
    ['escapes keys and values as JSON does', { 'k"\n': 'v\u2028' }, '{"k\\"\\n":"v\u2028"}'],
    ['writes null, numbers and booleans as JSON does', [null, 1.5, true, 'x'], '[null,1.5,true,"x"]'],
  ])('%s', (_case, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
