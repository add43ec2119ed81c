// connectHints: a sidecar's view of the hint bus. Connects (one broker or several, credentials,
// TLS CA), subscribes to the kinds it has callbacks for, and hands each callback the typed hint
// of its kind. Refused payloads go to `invalid`; nothing a publisher sends throws in here.
// TTL: a hint already stale on arrival is not delivered; when the latest hint of a topic
// reaches its TTL with no fresher one, `expired` fires (the reader falls back to its defaults).
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { decodeHint, type InvalidReason } from './decode.ts';
import { HINT_KINDS, type Hint, type HintKind, type HintOf } from './hints.ts';
import { loadKeys, type TrustedKeys } from './signature.ts';
import { topicFilter, type KeyedKind } from './topics.ts';

/** The time source: the system clock by default; tests pass a virtual one. */
export interface HintClock {
  now(): number;
  /** Returns a cancel function; the timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: HintClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface HintMeta {
  readonly topic: string;
  /** The broker's stored (retained) copy, delivered on subscribe. */
  readonly retained: boolean;
  /** Key id of the verified signature (undefined when signatures are not checked or absent). */
  readonly signer: string | undefined;
}

export type HintCallbacks = { readonly [K in HintKind]?: (hint: HintOf<K>, meta: HintMeta) => void };

export interface InvalidHint {
  readonly topic: string;
  readonly reason: InvalidReason;
  readonly message: string;
}

export interface ExpiredHint {
  readonly topic: string;
  /** The last hint of the topic, now older than its TTL. */
  readonly hint: Hint;
}

export interface HintBusOptions {
  /** mqtt://, mqtts://, ws://, wss:// URLs; with several, reconnects move on to the next. */
  readonly brokers: string | readonly string[];
  /** Override credentials given in the URLs. */
  readonly username?: string;
  readonly password?: string;
  /** CA certificate(s) (PEM) to trust for mqtts:// and wss://. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  readonly clientId?: string;
  /** How long connectHints waits for a first broker to accept it (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** ms between reconnect attempts (default 1000). */
  readonly reconnectPeriodMs?: number;
  /** Callbacks per kind; the kinds named here are the ones subscribed to. */
  readonly on: HintCallbacks;
  /** Narrow a kind to one id (a sidecar's own weights: `{ weights: 'sc-1' }`). */
  readonly only?: { readonly [K in KeyedKind]?: string };
  readonly invalid?: (e: InvalidHint) => void;
  readonly expired?: (e: ExpiredHint) => void;
  /** A hint stale on arrival (not delivered). */
  readonly stale?: (hint: Hint, meta: HintMeta) => void;
  /** A callback threw (the subscription carries on). */
  readonly error?: (err: unknown, hint: Hint) => void;
  /** The broker connection failed (mqtt.js keeps retrying). */
  readonly brokerError?: (err: Error) => void;
  /** Check Ed25519 signatures against these public keys, by key id. */
  readonly trustedKeys?: TrustedKeys;
  /** With trustedKeys: refuse unsigned hints (default true). */
  readonly requireSignature?: boolean;
  readonly clock?: HintClock;
}

export interface HintBusCounts {
  delivered: number;
  invalid: number;
  stale: number;
  expired: number;
}

export interface HintBus {
  readonly client: MqttClient;
  readonly counts: Readonly<HintBusCounts>;
  /** The latest fresh hint of a topic, if any. */
  latest(topic: string): Hint | undefined;
  close(): Promise<void>;
}

interface Held {
  readonly hint: Hint;
  readonly cancel: () => void;
}

/** Connects, subscribes, and resolves once the broker has acknowledged the subscriptions. */
export async function connectHints(options: HintBusOptions): Promise<HintBus> {
  const clock = options.clock ?? systemClock;
  const keys = options.trustedKeys === undefined ? undefined : loadKeys(options.trustedKeys);
  const kinds = HINT_KINDS.filter((k) => options.on[k] !== undefined);
  if (kinds.length === 0) throw new RangeError('no callbacks: name at least one hint kind in `on`');
  const only = (options.only ?? {}) as Partial<Record<HintKind, string>>;
  const filters = kinds.map((k) => topicFilter(k, only[k]));
  const held = new Map<string, Held>();
  const counts: HintBusCounts = { delivered: 0, invalid: 0, stale: 0, expired: 0 };

  const client = connect(clientOptions(options));
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    if (payload.length === 0) return; // a retained hint being cleared
    const d = decodeHint(topic, payload, {
      ...(keys === undefined ? {} : { keys }),
      ...(options.requireSignature === undefined ? {} : { requireSignature: options.requireSignature }),
    });
    if (!d.ok) {
      counts.invalid++;
      options.invalid?.({ topic, reason: d.reason, message: d.message });
      return;
    }
    const { hint } = d;
    const meta: HintMeta = { topic, retained: packet.retain === true, signer: d.signer };
    const now = clock.now();
    if (hint.ts + hint.ttlMs < now) {
      counts.stale++;
      options.stale?.(hint, meta);
      return;
    }
    const callback = options.on[hint.kind] as ((h: Hint, m: HintMeta) => void) | undefined;
    if (callback === undefined) return;
    if (hint.kind !== 'event') {
      // The latest hint per topic expires unless a fresher one replaces it.
      const before = held.get(topic)?.hint;
      if (before !== undefined && superseded(hint, before)) return;
      held.get(topic)?.cancel();
      const cancel = clock.setTimeout(() => {
        held.delete(topic);
        counts.expired++;
        options.expired?.({ topic, hint });
      }, hint.ts + hint.ttlMs + 1 - now);
      held.set(topic, { hint, cancel });
    }
    counts.delivered++;
    try {
      callback(hint, meta);
    } catch (err) {
      options.error?.(err, hint);
    }
  };
  client.on('message', onMessage);
  // mqtt.js reports an unreachable broker as 'error' while it retries: never an uncaught one here.
  client.on('error', (err) => options.brokerError?.(err));

  try {
    await firstConnect(client, options.connectTimeoutMs ?? 30_000);
    // mqtt.js subscribes again after a reconnect that finds no session.
    await client.subscribeAsync(filters, { qos: 1 });
  } catch (err) {
    await client.endAsync(true);
    throw err;
  }

  return {
    client,
    counts,
    latest: (topic) => held.get(topic)?.hint,
    async close() {
      for (const h of held.values()) h.cancel();
      held.clear();
      client.off('message', onMessage);
      await client.endAsync();
    },
  };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** An older copy (a QoS 1 duplicate, a retained copy racing a live one) or a deposed controller's. */
function superseded(hint: Hint, before: Hint): boolean {
  if (hint.epoch !== undefined && before.epoch !== undefined && hint.epoch !== before.epoch) return hint.epoch < before.epoch;
  return hint.source === before.source && hint.seq <= before.seq && hint.ts <= before.ts;
}

/**
 * Resolves on the first CONNACK. An unreachable broker is retried (the next in the list); a
 * refusal (bad credentials, not authorized, a certificate not trusted) will not fix itself and
 * rejects at once.
 */
function firstConnect(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onConnect = () => done();
    const onError = (err: Error & { code?: unknown }) => {
      lastError = err;
      if (!UNREACHABLE.has(String(err.code))) done(err);
    };
    const timer = setTimeout(() => done(new Error(`no broker accepted within ${timeoutMs} ms${lastError === undefined ? '' : `: ${lastError.message}`}`)), timeoutMs);
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

function clientOptions(o: HintBusOptions): IClientOptions {
  const urls = (typeof o.brokers === 'string' ? [o.brokers] : [...o.brokers]).map((u) => new URL(u));
  const first = urls[0];
  if (first === undefined) throw new RangeError('no broker URL');
  const protocols = { 'mqtt:': 'mqtt', 'mqtts:': 'mqtts', 'ws:': 'ws', 'wss:': 'wss', 'tcp:': 'mqtt', 'ssl:': 'mqtts' } as const;
  const servers = urls.map((u) => {
    const protocol = protocols[u.protocol as keyof typeof protocols];
    if (protocol === undefined) throw new RangeError(`not a broker URL: ${u.protocol}//${u.host}`);
    const secure = protocol === 'mqtts' || protocol === 'wss';
    const port = u.port === '' ? (protocol.startsWith('ws') ? (secure ? 443 : 80) : secure ? 8883 : 1883) : Number(u.port);
    return { host: u.hostname, port, protocol };
  });
  const user = o.username ?? (first.username === '' ? undefined : decodeURIComponent(first.username));
  const pass = o.password ?? (first.password === '' ? undefined : decodeURIComponent(first.password));
  const s0 = servers[0] as (typeof servers)[number];
  return {
    ...s0,
    ...(servers.length > 1 ? { servers } : {}),
    ...(s0.protocol.startsWith('ws') ? { path: first.pathname === '' ? '/mqtt' : first.pathname } : {}),
    protocolVersion: 4,
    reconnectPeriod: o.reconnectPeriodMs ?? 1000,
    ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
    ...(user === undefined ? {} : { username: user }),
    ...(pass === undefined ? {} : { password: pass }),
    ...(o.ca === undefined ? {} : { ca: typeof o.ca === 'string' || Buffer.isBuffer(o.ca) ? o.ca : o.ca.map((c) => Buffer.from(c)), rejectUnauthorized: true }),
  };
}
