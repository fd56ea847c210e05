export { ACL_GUARD_EVENTS, KEY_GUARD_EVENTS, OBJECT_ACL_EVENTS, POLICY_GUARD_EVENTS } from './names';
export {
  cloudEventDedupeKey,
  MAX_EVENT_BODY_BYTES,
  type ParseOptions,
  parseEvents,
} from './parse-actiontrail-events';
export type { Actor, ActorType, ChangeRecord, ChangeResources, EventOrigin, ParsedItem } from './types';
