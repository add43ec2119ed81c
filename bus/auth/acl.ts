// Topic ACLs of the hint bus, as data: the embedded broker checks them, and the same table
// renders a Mosquitto acl_file (mosquitto.ts), so both brokers refuse the same publishes.
import { TOPIC_ROOT, topicMatches } from '../topics.ts';
import type { BusRole } from './accounts.ts';

export interface WriteRule {
  readonly role: BusRole;
  /** An MQTT filter; `%u` stands for the account's username (Mosquitto's own substitution). */
  readonly topic: string;
}

/** What each role may publish (retained or not). Everything else is refused. */
export const WRITE_RULES: readonly WriteRule[] = [
  { role: 'controller', topic: `${TOPIC_ROOT}links/+` },
  { role: 'controller', topic: `${TOPIC_ROOT}costs/+` },
  { role: 'controller', topic: `${TOPIC_ROOT}events` },
  { role: 'controller', topic: `${TOPIC_ROOT}controllers/%u/status` },
  { role: 'bridge', topic: `${TOPIC_ROOT}sidecars/+/weights` },
  // The arbiter's decisions (arbiter_decision events), so the event log and a replay show why.
  { role: 'bridge', topic: `${TOPIC_ROOT}events` },
  { role: 'sidecar', topic: `${TOPIC_ROOT}sidecars/%u/status` },
];

/** Every account reads every hint; nothing outside the hint root. */
export const READ_FILTER = `${TOPIC_ROOT}#`;

export interface Principal {
  readonly username: string;
  readonly role: BusRole;
}

export function mayPublish(who: Principal, topic: string): boolean {
  return WRITE_RULES.some((r) => r.role === who.role && topicMatches(r.topic.replace('%u', who.username), topic));
}

/** A filter is allowed when it can only match hint topics. */
export function maySubscribe(_who: Principal, filter: string): boolean {
  return filter.startsWith(TOPIC_ROOT) || filter === TOPIC_ROOT.slice(0, -1);
}
