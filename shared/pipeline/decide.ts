import type { UnsignedAuditRecord } from '../audit/record';
import type { OssGateway } from '../clients/oss';
import type { ChangeRecord } from '../events/types';
import { act } from './act';
import type { InvocationDeps } from './invocation';
import { plan } from './plan';
import { type InvocationMarks, type MarkBook, markDecision } from './remediated';
import { type ChangeLedger, type IntentPlacement, writeIntent } from './resolve';
import type { ChangeScope, Decision, Guard, RemediationBudget } from './types';

/** What every change of one invocation shares. */
export interface Invocation<State> {
  guard: Guard<State>;
  deps: InvocationDeps;
  auditGateway: OssGateway;
  budget: RemediationBudget;
  now: () => Date;
  marks: InvocationMarks;
}

/** A change whose live state was read, with what its record and its marks are made of. */
export interface Judging {
  change: ChangeRecord;
  ledger: ChangeLedger;
  record: UnsignedAuditRecord;
  scope: ChangeScope;
  book: MarkBook;
}

/**
 * evaluate (pure: configuration and the clock, no gateway) → plan → intent → act → marks. `capped` when the
 * blast-radius budget is spent: the change waits for a follow-up invocation.
 */
export async function decideAndAct<State>(
  { guard, deps, budget, now, marks }: Invocation<State>,
  state: State,
  { change, ledger, record, scope, book }: Judging,
): Promise<{ decision: Decision; intent: IntentPlacement['kind']; ledger: ChangeLedger } | 'capped'> {
  const { config } = deps.runtime;
  const evaluation = guard.evaluate(change, state, { config, now: scope.now, log: deps.log });
  const planned = plan(evaluation, config, budget);
  if (planned.capped) return 'capped';
  // The intent may have gone to the next attempt's keys, past an object planted at this one's: so does the record.
  const intent = planned.fix
    ? await writeIntent(ledger, record, planned.decision, scope.calls, deps.log)
    : { intent: 'free' as const, ledger };
  const started = now();
  const acted = await act(planned.decision, planned.fix, evaluation.bookkeeping ?? [], scope);
  const decision = await markDecision(book, change, acted, {
    recordKey: intent.ledger.recordKey,
    started,
    now,
    overwrites: guard.overwritesLaterChanges ?? [],
    marks,
    liveSnapshot: async () => {
      const live = await guard.observe(change, scope);
      if (live.kind !== 'present') return undefined;
      return guard.evaluate(change, live.state, { config, now: scope.now, log: deps.log }).before;
    },
  });
  return { decision, intent: intent.intent, ledger: intent.ledger };
}
