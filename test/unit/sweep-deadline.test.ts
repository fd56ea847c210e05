import { describe, expect, it } from 'vitest';
import { runDeadline } from '../../shared/sweep/handler';

const timer = (payload: string) =>
  JSON.stringify({ triggerTime: '2026-01-01T00:00:00Z', triggerName: 'hourly-sweep', payload });

describe('how long one sweep invocation may take on', () => {
  it.each([
    ['a timer event without payload: a fifth of the timeout short of it', timer(''), 600, 480_000],
    ['a short timeout: at least 10 s short of it', timer(''), 30, 20_000],
    ['the deadline the timer payload asks for', timer('{"deadlineMs":5000}'), 600, 5_000],
    ['never past the timeout, whatever the payload asks', timer('{"deadlineMs":9999999}'), 600, 480_000],
    ['a direct invocation body', '{"deadlineMs":150}', 600, 150],
    ['a body that is not JSON', 'not json', 600, 480_000],
    ['a negative deadline, ignored', '{"deadlineMs":-5}', 600, 480_000],
    ['a deadline that is not a number, ignored', '{"deadlineMs":"soon"}', 600, 480_000],
  ])('%s', (_what, event, timeoutS, expected) => {
    expect(runDeadline(event, timeoutS, 1_000_000)).toBe(1_000_000 + expected);
  });
});
