import type { Alert } from '../../shared/alerts/types';
import type { Severity } from '../../shared/severity';

/** An alert shaped like `alertFor` builds them, with overridable parts. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'acs.actiontrail/evt-0001',
    severity: 'high',
    title: '[ossguard] bucket shop-assets reverted',
    summary: 'Bucket ACL was public-read; set back to private.',
    facts: [
      { label: 'Resource', value: 'bucket shop-assets' },
      { label: 'Actor', value: 'alice (ram-user)' },
      { label: 'Source IP', value: '203.0.113.7' },
    ],
    actions: ['ossguard: set the bucket ACL to private'],
    rules: ['bucket-acl-public-read'],
    time: '2026-11-28T12:00:00.000Z',
    ...overrides,
  };
}

/** `count` distinct alerts with ids `acs.actiontrail/evt-NNNN`, cycling through the severities. */
export function manyAlerts(count: number): Alert[] {
  const severities: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  return Array.from({ length: count }, (_, i) =>
    makeAlert({
      id: `acs.actiontrail/evt-${String(i).padStart(4, '0')}`,
      severity: severities[i % severities.length]!,
      title: `[ossguard] bucket bucket-${i} reverted`,
    }),
  );
}

/** A clock that only moves when slept on or advanced: rate limits and retries run without waiting. */
export function fakeClock(start = Date.now()) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    sleeps,
    start,
  };
}
