import type { CloudEvent } from '../shared/events/actiontrail-event';

/** Where emulators publish events; the local event bus implements it. */
export interface EventSink {
  publish(event: CloudEvent): void;
}
