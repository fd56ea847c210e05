import type { Severity } from '../severity';

/**
 * One alert, as structured data. Every channel renders it itself (DingTalk markdown, email text and HTML),
 * and escaping of user-controlled values (bucket names, object keys, user names) happens in that rendering,
 * never by the code that builds the alert.
 */
export interface Alert {
  /** Stable per decision: channels derive idempotency keys (DingTalk msgUuid, Message-ID) from it. */
  id: string;
  severity: Severity;
  /** One line, plain text, no user-controlled values other than resource names. */
  title: string;
  /** What happened, in one or two plain sentences. */
  summary: string;
  /** Label/value pairs: resource, actor, source IP, console or API, rules, decision. Values are untrusted. */
  facts: Array<{ label: string; value: string }>;
  /** What ossguard did, and what the reader can do next (e.g. how to grant an exception). */
  actions: string[];
  /** Rule ids that fired, for per-rule routing. */
  rules: string[];
  time: string;
}

/** What a channel reports back, so the audit record can say which channel failed and why. */
export interface DeliveryResult {
  channel: string;
  ok: boolean;
  attempts: number;
  /** Sanitised, never containing secrets. */
  error?: string;
  /** The alert went out inside one message listing several alerts, not in a message of its own. */
  digest?: boolean;
}

/**
 * A configured alert destination. `send` takes every alert of one invocation routed to it, so a channel can
 * batch them (DingTalk digests under its rate limit), and resolves to one result per alert, in input order.
 * It never rejects: a failed alert is a result with `ok: false`, because alerting must not block remediation.
 */
export interface AlertChannel {
  readonly name: string;
  send(alerts: readonly Alert[]): Promise<DeliveryResult[]>;
}
