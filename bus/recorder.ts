// Recording: every hint heard on the given topics goes into an event log, in arrival order.
import type { MqttClient } from 'mqtt';
import type { EventLog } from './eventlog/types.ts';
import { subscribeHints, type HintSubscription } from './subscriber.ts';
import { patterns } from './topics.ts';

export async function recordHints(
  client: MqttClient | string,
  log: EventLog,
  topicPatterns: readonly string[] = [patterns.events],
): Promise<HintSubscription> {
  // Replayed hints are not recorded again, or a replay into a recording bus would double the log.
  return subscribeHints(client, topicPatterns, (hint) => (hint.replayed === true ? undefined : log.append(hint)));
}
