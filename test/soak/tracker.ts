import type { LocalCloud, TrailDataEvent } from '../../local/cloud';
import type { LogDelivery } from '../../local/eventbus/log-trigger';
import { positionOf } from '../../local/sls/store';
import type { CloudEvent } from '../../shared/events/actiontrail-event';

export type Settlement = 'handled' | 'dead-lettered';

/**
 * A change's ActionTrail event, on whichever path delivers it: a management event on the bus (its audit
 * records are keyed `<source>/<id>` of the CloudEvent), or a data event in the trail logstore, read by the
 * log trigger (keyed by the record's eventId).
 */
export type TrackedEvent =
  | { via: 'bus'; key: string; id: string; eventName: string; event: CloudEvent }
  | { via: 'trail'; key: string; id: string; eventName: string; data: TrailDataEvent };

/** One invocation that carried an event: a bus delivery of it, or a log-trigger range holding it. */
export interface Attempt {
  ok: boolean;
  errorName?: string;
  errorMessage?: string;
}

export function trackBus(event: CloudEvent): TrackedEvent {
  const { eventName } = event.data;
  return { via: 'bus', key: event.data.eventId, id: event.id, eventName, event };
}

export function trackTrail(data: TrailDataEvent): TrackedEvent {
  const { eventId, eventName } = data.record;
  return { via: 'trail', key: eventId, id: eventId, eventName, data };
}

/** Whether a log-trigger range (begin inclusive, end exclusive) holds the data event. */
export function rangeHolds(delivery: Pick<LogDelivery, 'event'>, data: TrailDataEvent): boolean {
  const { shardId, beginCursor, endCursor } = delivery.event.source;
  const begin = positionOf(beginCursor) ?? 0;
  const end = positionOf(endCursor) ?? 0;
  return shardId === data.shardId && begin <= data.position && data.position < end;
}

/** Every invocation that carried the event, on its path. */
export function attemptsOf(cloud: LocalCloud, tracked: TrackedEvent): Attempt[] {
  const deliveries =
    tracked.via === 'bus'
      ? cloud.bus.deliveries().filter((d) => d.eventId === tracked.id)
      : cloud.logTriggers.deliveries().filter((d) => rangeHolds(d, tracked.data));
  return deliveries.map((d) => ({
    ok: d.ok,
    ...(d.error ? { errorName: d.error.name, errorMessage: d.error.message } : {}),
  }));
}

/**
 * Follows both paths incrementally: which event carries a request id, and whether it was handled (some
 * invocation carrying it succeeded) or dead-lettered. Scans only what is new since the last look.
 */
export class EventTracker {
  private readonly byRequestId = new Map<string, TrackedEvent>();
  /** Management events as the trail delivered them, for those no EventBridge rule carries to ossguard. */
  private readonly inTrail = new Map<string, TrackedEvent>();
  private seenTrail = 0;
  private readonly handled = new Set<string>();
  private readonly dead = new Set<string>();
  private seenEvents = 0;
  private seenData = 0;
  private seenDeliveries = 0;
  private seenDead = 0;

  constructor(private readonly cloud: LocalCloud) {}

  eventFor(requestId: string, via?: 'trail'): TrackedEvent | undefined {
    this.refresh();
    return (via === 'trail' ? this.inTrail : this.byRequestId).get(requestId);
  }

  settlement(tracked: TrackedEvent): Settlement | undefined {
    if (tracked.via === 'trail') {
      const attempts = attemptsOf(this.cloud, tracked);
      if (attempts.some((a) => a.ok)) return 'handled';
      const dead = this.cloud.logTriggers.deadLetters().some((d) => rangeHolds(d, tracked.data));
      return dead ? 'dead-lettered' : undefined;
    }
    this.refresh();
    if (this.handled.has(tracked.id)) return 'handled';
    return this.dead.has(tracked.id) ? 'dead-lettered' : undefined;
  }

  /** Resolves once the event is handled or dead-lettered; rejects after `timeoutMs`. */
  async settled(tracked: TrackedEvent, timeoutMs: number): Promise<Settlement> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.settlement(tracked);
      if (state) return state;
      if (Date.now() > deadline) throw new Error(`event ${tracked.id} was neither handled nor dead-lettered`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private refresh(): void {
    const events = this.cloud.bus.history();
    for (; this.seenEvents < events.length; this.seenEvents++) {
      const event = events[this.seenEvents] as CloudEvent;
      this.byRequestId.set(event.data.requestId, trackBus(event));
    }
    const data = this.cloud.trailDataEvents();
    for (; this.seenData < data.length; this.seenData++) {
      const item = data[this.seenData] as TrailDataEvent;
      // Reads are data events too; only the writes are changes.
      if (item.record.eventRW !== 'Read') this.byRequestId.set(item.record.requestId, trackTrail(item));
    }
    const trail = this.cloud.trailManagementEvents();
    for (; this.seenTrail < trail.length; this.seenTrail++) {
      const item = trail[this.seenTrail] as TrailDataEvent;
      this.inTrail.set(item.record.requestId, trackTrail(item));
    }
    const deliveries = this.cloud.bus.deliveries();
    for (; this.seenDeliveries < deliveries.length; this.seenDeliveries++) {
      const delivery = deliveries[this.seenDeliveries];
      if (delivery?.ok) this.handled.add(delivery.eventId);
    }
    const dead = this.cloud.bus.deadLetters();
    for (; this.seenDead < dead.length; this.seenDead++) {
      const letter = dead[this.seenDead];
      if (letter) this.dead.add(letter.event.id);
    }
  }
}
