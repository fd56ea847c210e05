import { parseEvents } from '../events/parse-actiontrail-events';
import type { ParsedItem } from '../events/types';
import { type ChangeSource, InvocationFailedError } from './handler';
import type { InvocationResult } from './invocation';
import { runGuard } from './run';
import { type Guard, RemediationBudget } from './types';

/**
 * The source of an event function: an EventBridge body of CloudEvents, or a LookupEvents page (replay), parsed
 * into changes, each judged by the guard that handles its event name; the events none handles are recorded as
 * ignored by the first guard, which names the function. One function may carry several guards when their events
 * share one EventBridge filter (access-key-guard's RAM events). Changes left unfinished fail the invocation so
 * that EventBridge redelivers.
 */
export function eventBridgeSource<States extends [unknown, ...unknown[]]>(
  ...guards: { [K in keyof States]: Guard<States[K]> }
): ChangeSource<InvocationResult> {
  const first = guards[0];
  const accepted = new Set(guards.flatMap((g) => g.events));
  const guardOf = (item: ParsedItem) =>
    (item.kind === 'change' && guards.find((g) => g.events.includes(item.record.eventName))) || first;
  return {
    name: first.name,
    async run(event, _context, { deps }) {
      const items = parseEvents(event, { accept: accepted });
      // One blast-radius budget for the invocation, whichever guard a change goes to.
      const shared = {
        ...deps,
        route: deps.route ?? first.name,
        budget: deps.budget ?? new RemediationBudget(deps.runtime.config.maxRemediationsPerInvocation),
      };
      const result: InvocationResult = { decisions: [], retryableFailures: [] };
      for (const guard of guards) {
        const own = items.filter((item) => guardOf(item) === guard);
        if (own.length === 0 && guard !== first) continue;
        const part = await runGuard(guard, own, shared);
        result.decisions.push(...part.decisions);
        result.retryableFailures.push(...part.retryableFailures);
      }
      if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
      return result;
    },
  };
}
