// Connecting to a broker: URL (credentials may ride in it), last will, and reconnect with
// exponential backoff (mqtt.js only knows a fixed period, which hammers a broker that is down).
import { connect, Store, type IClientOptions, type MqttClient } from 'mqtt';
import type { Hint } from './hints.ts';
import { routeOf } from './topics.ts';

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
}

export interface BusConnectOptions {
  readonly clientId?: string;
  /** Override credentials given in the URL. */
  readonly username?: string;
  readonly password?: string;
  /** A hint the broker publishes (retained per its kind) if this client vanishes without DISCONNECT. */
  readonly will?: Hint;
  readonly backoff?: BackoffOptions;
  readonly keepaliveSec?: number;
  /** 4 = MQTT 3.1.1 (default: every broker speaks it, aedes only that), 5 = MQTT 5. */
  readonly protocolVersion?: 4 | 5;
  readonly connectTimeoutMs?: number;
  /** Wait for the first CONNACK before resolving (default true). */
  readonly waitForConnect?: boolean;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 250, maxMs: 10_000, factor: 2 };

/** The delay before reconnect attempt `attempt` (0-based): initial × factor^attempt, capped. */
export function backoffDelay(attempt: number, b: BackoffOptions = {}): number {
  const { initialMs, maxMs, factor } = { ...DEFAULT_BACKOFF, ...b };
  return Math.min(maxMs, initialMs * factor ** attempt);
}

/**
 * Splits user:password off a broker URL, so options can override them (mqtt.js would let the
 * URL win) and the URL can be logged without its secret.
 */
export function splitCredentials(url: string): { url: string; username?: string; password?: string } {
  const u = new URL(url);
  const username = u.username === '' ? undefined : decodeURIComponent(u.username);
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return {
    url: u.toString(),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

export function mqttOptions(options: BusConnectOptions): IClientOptions {
  const o: IClientOptions = {
    protocolVersion: options.protocolVersion ?? 4,
    // We reconnect ourselves, with backoff (see attachBackoff).
    reconnectPeriod: 0,
    keepalive: options.keepaliveSec ?? 30,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    // Our own stores, so QoS 1 messages queued while offline survive client.reconnect().
    incomingStore: new Store(),
    outgoingStore: new Store(),
  };
  if (options.clientId !== undefined) o.clientId = options.clientId;
  if (options.username !== undefined) o.username = options.username;
  if (options.password !== undefined) o.password = options.password;
  if (options.will !== undefined) {
    const { topic, retain } = routeOf(options.will);
    o.will = { topic, payload: Buffer.from(JSON.stringify(options.will)), qos: 1, retain };
  }
  return o;
}

/** Connects to `url` (mqtt://user:pass@host:port) and keeps reconnecting with backoff until end(). */
export async function connectBus(url: string, options: BusConnectOptions = {}): Promise<MqttClient> {
  const creds = splitCredentials(url);
  const client = connect(
    creds.url,
    mqttOptions({
      ...(creds.username === undefined ? {} : { username: creds.username }),
      ...(creds.password === undefined ? {} : { password: creds.password }),
      ...options,
    }),
  );
  attachBackoff(client, options.backoff);
  if (options.waitForConnect === false) return client;
  await new Promise<void>((resolve, reject) => {
    const onConnect = () => {
      client.off('error', onError);
      resolve();
    };
    const onError = (err: Error) => {
      // Bad credentials and the like will not fix themselves: give up instead of retrying forever.
      client.off('connect', onConnect);
      client.end(true);
      reject(err);
    };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
  return client;
}

function attachBackoff(client: MqttClient, backoff: BackoffOptions | undefined): void {
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  client.on('connect', () => {
    attempt = 0;
  });
  client.on('close', () => {
    if (client.disconnecting || client.disconnected || timer !== undefined) return;
    const delay = backoffDelay(attempt++, backoff);
    timer = setTimeout(() => {
      timer = undefined;
      if (client.disconnecting || client.disconnected) return;
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
    timer.unref();
  });
  client.on('end', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  });
}
