import type { CloudEvent } from '../../local/actiontrail';
import type { LocalEventBus } from '../../local/eventbus/bus';

export type Settlement = 'handled' | 'dead-lettered';

/**
 * Follows the bus incrementally: which CloudEvent carries a request id, and whether an event was handled
 * (some delivery succeeded) or dead-lettered. Scans only what is new since the last look.
 */
export class BusTracker {
  private readonly byRequestId = new Map<string, CloudEvent>();
  private readonly handled = new Set<string>();
  private readonly dead = new Set<string>();
  private seenEvents = 0;
  private seenDeliveries = 0;
  private seenDead = 0;

  constructor(private readonly bus: LocalEventBus) {}

  eventFor(requestId: string): CloudEvent | undefined {
    this.refresh();
    return this.byRequestId.get(requestId);
  }

  settlement(eventId: string): Settlement | undefined {
    this.refresh();
    if (this.handled.has(eventId)) return 'handled';
    return this.dead.has(eventId) ? 'dead-lettered' : undefined;
  }

  /** Resolves once the event is handled or dead-lettered; rejects after `timeoutMs`. */
  async settled(eventId: string, timeoutMs: number): Promise<Settlement> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = this.settlement(eventId);
      if (state) return state;
      if (Date.now() > deadline) throw new Error(`event ${eventId} was neither handled nor dead-lettered`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private refresh(): void {
    const events = this.bus.history();
    for (; this.seenEvents < events.length; this.seenEvents++) {
      const event = events[this.seenEvents] as CloudEvent;
      this.byRequestId.set(event.data.requestId, event);
    }
    const deliveries = this.bus.deliveries();
    for (; this.seenDeliveries < deliveries.length; this.seenDeliveries++) {
      const delivery = deliveries[this.seenDeliveries];
      if (delivery?.ok) this.handled.add(delivery.eventId);
    }
    const dead = this.bus.deadLetters();
    for (; this.seenDead < dead.length; this.seenDead++) {
      const letter = dead[this.seenDead];
      if (letter) this.dead.add(letter.event.id);
    }
  }
}
