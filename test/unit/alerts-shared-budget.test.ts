import { describe, expect, it } from 'vitest';
import { countSlots, slotNames, windowDirectory } from '../../shared/alerts/shared-budget';
import type { AuditKey } from '../../shared/audit/record';

// Fake keys only.
const key: AuditKey = { id: 'kms:ossguard-audit-key@v2', secret: Buffer.from('fake-audit-key-v2') };
const previous: AuditKey = { id: 'kms:ossguard-audit-key@v1', secret: Buffer.from('fake-audit-key-v1') };
const PREFIX = 'ossguard/audit/';
const ROBOT = '0123456789abcdef';
const START = Date.UTC(2026, 11, 7, 4, 0, 0);

describe('the directory of a window of the shared DingTalk budget', () => {
  it('is the same for every instance holding the same audit key, and differs for each window and robot', () => {
    const dir = windowDirectory(PREFIX, ROBOT, START, key);
    expect(windowDirectory(PREFIX, ROBOT, START, { ...key })).toBe(dir);
    expect(windowDirectory(PREFIX, ROBOT, START + 60_000, key)).not.toBe(dir);
    expect(windowDirectory(PREFIX, 'fedcba9876543210', START, key)).not.toBe(dir);
    expect(dir).toMatch(/^ossguard\/audit\/alert-budget\/0123456789abcdef\/[0-9a-f]{32}\/$/);
  });

  it('does not name the window start with an audit key, so a writer without the key cannot tell a future one', () => {
    expect(windowDirectory(PREFIX, ROBOT, START, key)).not.toContain(String(START));
    expect(windowDirectory(PREFIX, ROBOT, START, key)).not.toBe(
      windowDirectory(PREFIX, ROBOT, START, undefined),
    );
  });

  it('differs between the versions of a rotated key, so instances on either version each have a budget of their own', () => {
    expect(windowDirectory(PREFIX, ROBOT, START, key)).not.toBe(
      windowDirectory(PREFIX, ROBOT, START, previous),
    );
  });

  it('is the window start without an audit key, as before keys named it', () => {
    expect(windowDirectory(PREFIX, ROBOT, START, undefined)).toBe(
      `ossguard/audit/alert-budget/0123456789abcdef/${START}/`,
    );
  });
});

describe('the names of the slots of a window', () => {
  const dir = windowDirectory(PREFIX, ROBOT, START, key);

  it('are the slot numbers without an audit key, as before keys named them', () => {
    expect(slotNames(dir, 3, undefined)).toEqual(['000', '001', '002']);
  });

  it('are the slot number and a MAC with an audit key, so a writer who sees one cannot name the next', () => {
    const names = slotNames(dir, 10, key);
    expect(names).toHaveLength(10);
    for (const [slot, name] of names.entries())
      expect(name).toMatch(new RegExp(`^${String(slot).padStart(3, '0')}-[0-9a-f]{32}$`));
    expect(new Set(names.map((name) => name.slice(4))).size).toBe(10);
  });

  it('are the same for every instance holding the same key, and differ for each window and key version', () => {
    const names = slotNames(dir, 10, key);
    expect(slotNames(dir, 10, { ...key })).toEqual(names);
    expect(slotNames(windowDirectory(PREFIX, ROBOT, START + 60_000, key), 10, key)[0]).not.toBe(names[0]);
    expect(slotNames(dir, 10, previous)[0]).not.toBe(names[0]);
  });
});

describe('counting the taken slots of a window', () => {
  const dir = windowDirectory(PREFIX, ROBOT, START, key);
  const names = slotNames(dir, 10, key);

  it('counts every slot name of the window', () => {
    expect(
      countSlots(
        [0, 1, 2, 9].map((slot) => `${dir}${names[slot]}`),
        dir,
        names,
      ),
    ).toBe(4);
  });

  it('does not count the slot names of another window, another key version, or before slots were keyed', () => {
    const others = [
      ...slotNames(windowDirectory(PREFIX, ROBOT, START + 60_000, key), 10, key),
      ...slotNames(dir, 10, previous),
      ...slotNames(dir, 10, undefined),
      `001${names[0]?.slice(3)}`,
    ];
    expect(countSlots([...others.map((name) => `${dir}${name}`), `${dir}${names[3]}`], dir, names)).toBe(1);
  });

  it('does not count objects that are no slot, whatever their name', () => {
    const unkeyed = slotNames(dir, 10, undefined);
    const junk = ['00', '0000', '000.tmp', '000/', '000/001', 'junk', '-01', ' 01', '١٢٣', '', '010'];
    expect(countSlots([...junk.map((name) => `${dir}${name}`), `${dir}003`], dir, unkeyed)).toBe(1);
  });

  it('does not count keys outside the directory', () => {
    expect(
      countSlots([`${PREFIX}alert-budget/${ROBOT}/${START}/000`], dir, slotNames(dir, 10, undefined)),
    ).toBe(0);
  });
});
