import { parseEvents } from '../events/parse-actiontrail-events';
import { type ChangeSource, InvocationFailedError } from './handler';
import type { InvocationResult } from './invocation';
import { runGuard } from './run';
import type { Guard } from './types';

/**
 * The source of an event guard: an EventBridge body of CloudEvents, or a LookupEvents page (replay), parsed
 * into changes; the events the guard does not handle are recorded as ignored. Changes left unfinished fail
 * the invocation so that EventBridge redelivers.
 */
export function eventBridgeSource<State>(guard: Guard<State>): ChangeSource<InvocationResult> {
  return {
    name: guard.name,
    async run(event, _context, { deps }) {
      const result = await runGuard(guard, parseEvents(event, { accept: new Set(guard.events) }), deps);
      if (result.retryableFailures.length > 0) throw new InvocationFailedError(result.retryableFailures);
      return result;
    },
  };
}
