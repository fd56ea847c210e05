import { buildReport, type KeyState } from '../../shared/incident/report';
import type { KeyCall } from '../../shared/incident/trail';

/** The key the incident tests report on. */
export const LEAKED_KEY = 'LTAI5tLeaked000001';

/** The report on the leaked key's calls over five days, read from the logstore. */
export const reportOf = (calls: KeyCall[], key: KeyState = { otherKeys: [] }) =>
  buildReport({
    accessKeyId: LEAKED_KEY,
    calls,
    from: new Date('2026-12-01T00:00:00Z'),
    to: new Date('2026-12-06T00:00:00Z'),
    generatedAt: new Date('2026-12-06T00:00:00Z'),
    source: 'logstore',
    sourceNote: 'test',
    key,
  });
