import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config';
import type { ChangeRecord } from '../../shared/events/types';
import { LEAK_EVENT, leakGuard } from '../../shared/incident/leak-guard';
import { createLogger } from '../../shared/log';
import type { LeakSubject } from '../../shared/rules/leaks/leaked-access-key';

const KEY = 'LTAI5tLeaked000001';
const config = parseConfig('audit: {bucket: corp-audit}\nrules: {leaked-access-key: enforce}\n');
const context = { config, now: new Date(), log: createLogger({}, () => undefined) };
const change = {
  eventName: LEAK_EVENT,
  time: '2026-12-06T00:00:00Z',
  requestParameters: {},
} as unknown as ChangeRecord;
const subject: LeakSubject = {
  accessKeyId: KEY,
  findingId: '389357',
  url: 'https://github.com/example/app/blob/0e466d2/config.py',
  owner: 'deployer',
  isRootKey: false,
  whitelisted: false,
};

describe('the leaked-key guard’s judgement', () => {
  it('disables a RAM user’s leaked key in enforce mode, and points the alert at the incident report', () => {
    const e = leakGuard(undefined, []).evaluate(change, { subject }, context);
    expect(e.findings).toMatchObject([
      { ruleId: 'leaked-access-key', severity: 'critical', mode: 'enforce' },
    ]);
    expect(e.fix?.actions).toEqual([{ kind: 'disable-access-key', userName: 'deployer', accessKeyId: KEY }]);
    expect(e.advice?.join('\n')).toContain(`ossguard incident ${KEY}`);
  });

  it('never disables the key ossguard runs with: it alerts with the steps to rotate it', () => {
    const e = leakGuard(undefined, [KEY]).evaluate(change, { subject }, context);
    expect(e.fix).toBeUndefined();
    expect(e.findings.map((f) => f.mode)).toEqual(['alert']);
    expect(e.advice?.join('\n')).toContain('does not disable the key it is itself running with');
  });

  it('only alerts for the account’s own key, with the rotation steps', () => {
    const root = { ...subject, owner: undefined, isRootKey: true };
    const e = leakGuard(undefined, []).evaluate(change, { subject: root }, context);
    expect(e.fix).toBeUndefined();
    expect(e.alertReason).toContain('account owner must rotate it');
  });

  it('only alerts, with what to check, for a finding that does not match a key of this account', () => {
    const mismatch = 'Security Center says the leaked secret of AccessKey X is not valid (TokenValid 2)';
    const e = leakGuard(undefined, []).evaluate(change, { subject: { ...subject, mismatch } }, context);
    expect(e.fix).toBeUndefined();
    expect(e.findings.map((f) => f.mode)).toEqual(['alert']);
    expect(e.alertReason).toBe(mismatch);
    expect(e.advice?.join('\n')).toContain('Open the finding in Security Center');
  });

  it('finds nothing in a whitelisted finding, and says why it leaves it alone', () => {
    const e = leakGuard(undefined, []).evaluate(
      change,
      { subject: { ...subject, whitelisted: true } },
      context,
    );
    expect(e.findings).toEqual([]);
    expect(e.compliantReason).toContain('whitelisted in Security Center');
  });
});
