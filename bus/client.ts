// Connecting to a broker: one URL or several (a cluster: tried in order, the next on failure,
// round and back), credentials (in the URL, in options, or from a users file), TLS with a CA
// file, an optional persistent session, a last will, and reconnect with exponential backoff
// (mqtt.js only knows a fixed period, which hammers a broker that is down).
import { readFileSync } from 'node:fs';
import { connect, Store, type IClientOptions, type MqttClient } from 'mqtt';
import type { Hint } from './hints.ts';
import { routeOf } from './topics.ts';
import { credentialsFrom } from './auth/accounts.ts';

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly factor?: number;
}

export interface PersistentSession {
  /** Fixed across restarts: the broker keeps the session (subscriptions, queued QoS 1) under it. */
  readonly clientId: string;
  /** MQTT 5 only: how long the broker keeps the session after a disconnect (default 1 h). */
  readonly expirySec?: number;
}

export interface BusConnectOptions {
  readonly clientId?: string;
  /** Override credentials given in the URL. */
  readonly username?: string;
  readonly password?: string;
  /** A users file (bus/auth/accounts.ts) to take the password of `username` (or the URL's user) from. */
  readonly credentialsFile?: string;
  /** PEM text of the CA that signed the broker's certificate (mqtts://), or a file holding it. */
  readonly ca?: string | Buffer;
  readonly caFile?: string;
  /**
   * A persistent session: clean start off, a fixed client id (and session expiry on MQTT 5). The
   * broker sends the messages it kept right after CONNACK, so attach the message handler first:
   * connect with waitForConnect: false, then subscribeHints(client, ...).
   */
  readonly session?: PersistentSession;
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

const SCHEMES = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);

/** `a,b` or a list: the broker URLs, in the order to try them. */
export function brokerUrls(url: string | readonly string[]): string[] {
  const list = (typeof url === 'string' ? [url] : [...url]).flatMap((u) => u.split(',')).map((u) => u.trim()).filter((u) => u.length > 0);
  if (list.length === 0) throw new RangeError('no broker URL given');
  for (const u of list) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new RangeError(`not a broker URL: ${JSON.stringify(u)} (expected mqtt://host:port or mqtts://host:port)`);
    }
    if (!SCHEMES.has(parsed.protocol)) throw new RangeError(`not an MQTT URL: ${JSON.stringify(splitCredentials(u).url)} (expected mqtt:// or mqtts://)`);
  }
  return list;
}

type ServerEntry = NonNullable<IClientOptions['servers']>[number];

function serverOf(url: string): ServerEntry {
  const u = new URL(url);
  const protocol = u.protocol.slice(0, -1) as NonNullable<ServerEntry['protocol']>;
  const secure = protocol === 'mqtts' || protocol === 'ssl' || protocol === 'wss';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? (secure ? 8883 : 1883) : Number(u.port), protocol };
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
  const ca = options.ca ?? (options.caFile === undefined ? undefined : readFileSync(options.caFile));
  if (ca !== undefined) o.ca = ca;
  if (options.session !== undefined) {
    o.clientId = options.session.clientId;
    o.clean = false;
    if (o.protocolVersion === 5) o.properties = { sessionExpiryInterval: options.session.expirySec ?? 3600 };
  }
  if (options.will !== undefined) {
    const { topic, retain } = routeOf(options.will);
    o.will = { topic, payload: Buffer.from(JSON.stringify(options.will)), qos: 1, retain };
  }
  return o;
}

/** Credentials: options over the users file over the URL. */
function credentialsFor(urls: readonly string[], options: BusConnectOptions): { username?: string; password?: string } {
  const fromUrl = urls.map(splitCredentials).find((c) => c.username !== undefined);
  const username = options.username ?? fromUrl?.username;
  let password = options.password;
  if (password === undefined && options.credentialsFile !== undefined) {
    if (username === undefined) throw new RangeError(`a bus credentials file (${options.credentialsFile}) needs an account name to read`);
    password = credentialsFrom(options.credentialsFile, username).password;
  }
  password ??= fromUrl?.password;
  return { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
}

/** A CONNACK refusal (bad credentials, not authorized) carries a numeric code: retrying won't help. */
function isRefusal(err: Error): boolean {
  return typeof (err as { code?: unknown }).code === 'number';
}

/**
 * Connects to `url` (mqtt://user:pass@host:port; several as a list or comma-separated) and keeps
 * reconnecting with backoff until end(). The first connect fails on a refusal, or once every
 * broker has been tried.
 */
export async function connectBus(url: string | readonly string[], options: BusConnectOptions = {}): Promise<MqttClient> {
  const urls = brokerUrls(url);
  const servers = urls.map(serverOf);
  const first = splitCredentials(urls[0] as string);
  const o = mqttOptions({ ...options, ...credentialsFor(urls, options) });
  if (servers.length > 1) o.servers = servers;
  const client = connect(first.url, o);
  attachBackoff(client, options.backoff, servers.length);
  if (options.waitForConnect === false) return client;
  await new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    let failed = 0;
    const done = (err?: Error) => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
      if (err === undefined) return resolve();
      client.end(true);
      reject(err);
    };
    const onConnect = () => done();
    const onError = (err: Error) => {
      // Bad credentials and the like will not fix themselves: give up instead of retrying forever.
      if (isRefusal(err)) done(err);
      else lastError = err;
    };
    const onClose = () => {
      if (++failed >= servers.length) done(lastError ?? new Error(`no broker answered: ${urls.map((u) => splitCredentials(u).url).join(', ')}`));
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
  return client;
}

/**
 * Reconnects after a close. With several brokers the next one is tried at once (mqtt.js rotates
 * through `servers` on every connect); the backoff grows per round through the list.
 */
function attachBackoff(client: MqttClient, backoff: BackoffOptions | undefined, brokers = 1): void {
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  client.on('connect', () => {
    attempt = 0;
  });
  client.on('close', () => {
    if (client.disconnecting || client.disconnected || timer !== undefined) return;
    const n = attempt++;
    const endOfRound = n % brokers === brokers - 1;
    const delay = endOfRound ? backoffDelay(Math.floor(n / brokers), backoff) : 0;
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
