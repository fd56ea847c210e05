import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACL_GUARD_EVENTS,
  KEY_GUARD_EVENTS,
  OBJECT_ACL_EVENTS,
  POLICY_GUARD_EVENTS,
} from '../../shared/events/names';

/**
 * The records Alibaba Cloud publishes (test/fixtures/published/SOURCES.md), loaded once for the parser tests
 * and the end-to-end ones: a bare record, a CloudEvent, or a trail log, each with the record inside it.
 */
const DIR = join(__dirname, '..', 'fixtures', 'published');
const SOURCES = readFileSync(join(DIR, 'SOURCES.md'), 'utf8');

export type Json = Record<string, unknown>;

/**
 * The events each guard a published record may reach handles, as the functions pass them to `parseEvents`
 * (oss-sweeper takes timer events, trail-guard log-trigger events).
 */
export const GUARD_EVENTS = {
  'oss-acl-guard': new Set<string>([...ACL_GUARD_EVENTS, ...OBJECT_ACL_EVENTS]),
  'oss-policy-guard': new Set<string>(POLICY_GUARD_EVENTS),
  'access-key-guard': new Set<string>(KEY_GUARD_EVENTS),
} as const;

export interface PublishedFixture {
  name: string;
  kind: 'record' | 'cloudevent' | 'trail-log';
  value: Json;
  /** The ActionTrail record inside the fixture. */
  record: Json;
  /** SOURCES.md's table row for the file says it is malformed. */
  malformed: boolean;
}

/** The file's row of the SOURCES.md table, which says where it comes from and whether it is malformed. */
export function sourceRow(name: string): string | undefined {
  return SOURCES.split('\n').find((line) => line.startsWith('|') && line.split('|')[1]?.trim() === name);
}

export function publishedFixtures(): PublishedFixture[] {
  return readdirSync(DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const value = JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Json;
      const malformed = /\bmalformed\b/i.test(sourceRow(name) ?? '');
      if ('specversion' in value)
        return { name, kind: 'cloudevent', value, record: value.data as Json, malformed };
      if ('__topic__' in value) {
        return { name, kind: 'trail-log', value, record: JSON.parse(String(value.event)) as Json, malformed };
      }
      return { name, kind: 'record', value, record: value, malformed };
    });
}
