// subscribeHints: typed, validated (and, given trusted keys, verified) hints for sidecars and
// tools. A bad or unverified payload is counted and skipped; nothing a publisher sends can
// throw inside the subscriber.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { connectBus, type BusConnectOptions } from './client.ts';
import type { Hint } from './hints.ts';
import { parseHint, type HintError } from './parse.ts';
import { topicMatches } from './topics.ts';
import type { HintKind } from './hints.ts';
import type { TrustStore } from './signing.ts';

export interface HintMeta {
  readonly topic: string;
  /** True when the broker delivered a stored (retained) message on subscribe. */
  readonly retained: boolean;
}

export type HintHandler = (hint: Hint, meta: HintMeta) => void | Promise<void>;

export interface SubscribeOptions {
  /** Used only when connecting from a URL. */
  readonly connect?: BusConnectOptions;
  /**
   * Verify every hint's signature against these keys: unsigned, badly signed and untrusted hints
   * are skipped like invalid ones (codes HINT_ERR_UNSIGNED, _SIGNATURE, _UNTRUSTED).
   */
  readonly trust?: TrustStore;
  /** With `trust`: kinds still taken unsigned (their publishers have no keys). */
  readonly unsignedKinds?: readonly HintKind[];
  /** Called for each payload skipped as invalid or unverified. */
  readonly onInvalid?: (error: HintError, topic: string) => void;
  /** Called when the handler throws or rejects (the subscription carries on). */
  readonly onHandlerError?: (err: unknown, hint: Hint) => void;
}

export interface HintSubscription {
  readonly client: MqttClient;
  readonly receivedCount: number;
  readonly invalidCount: number;
  readonly lastError: HintError | undefined;
  readonly handlerErrorCount: number;
  /** Unsubscribes; ends the client too if this subscription opened it. */
  close(): Promise<void>;
}

export async function subscribeHints(
  clientOrUrl: MqttClient | string,
  topicPatterns: readonly string[],
  handler: HintHandler,
  options: SubscribeOptions = {},
): Promise<HintSubscription> {
  const owned = typeof clientOrUrl === 'string';
  const client = owned ? await connectBus(clientOrUrl, options.connect) : clientOrUrl;
  const filters = [...topicPatterns];
  const parseOptions = {
    ...(options.trust === undefined ? {} : { trust: options.trust }),
    ...(options.unsignedKinds === undefined ? {} : { unsignedKinds: new Set(options.unsignedKinds) }),
  };

  const state = {
    client,
    receivedCount: 0,
    invalidCount: 0,
    lastError: undefined as HintError | undefined,
    handlerErrorCount: 0,
    close,
  };

  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    // A shared client may carry other subscriptions: take only ours.
    if (!filters.some((f) => topicMatches(f, topic))) return;
    const parsed = parseHint(payload, { topic, ...parseOptions });
    if (!parsed.ok) {
      state.invalidCount++;
      state.lastError = parsed.error;
      options.onInvalid?.(parsed.error, topic);
      return;
    }
    state.receivedCount++;
    const meta: HintMeta = { topic, retained: packet.retain === true };
    try {
      const r = handler(parsed.hint, meta);
      if (r instanceof Promise) r.catch((err: unknown) => handlerFailed(err, parsed.hint));
    } catch (err) {
      handlerFailed(err, parsed.hint);
    }
  };
  const handlerFailed = (err: unknown, hint: Hint) => {
    state.handlerErrorCount++;
    options.onHandlerError?.(err, hint);
  };

  client.on('message', onMessage);
  try {
    // Persistent sessions would restore these anyway; clean sessions need them on every connect.
    await client.subscribeAsync(filters, { qos: 1 });
  } catch (err) {
    client.off('message', onMessage);
    if (owned) await client.endAsync();
    throw err;
  }
  const resubscribe = (ack: { sessionPresent?: boolean }) => {
    if (ack.sessionPresent !== true) client.subscribe(filters, { qos: 1 });
  };
  client.on('connect', resubscribe);

  async function close(): Promise<void> {
    client.off('message', onMessage);
    client.off('connect', resubscribe);
    if (owned) {
      await client.endAsync();
    } else if (client.connected) {
      await client.unsubscribeAsync(filters);
    }
  }
  return state;
}
