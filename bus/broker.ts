// The embedded broker: aedes on a TCP (or TLS) port, so `meshflow start` needs nothing installed.
// Retained messages live in aedes' in-memory persistence (lost on stop, as with a fresh broker).
// Clients must log in with an account (bus/auth/) and may publish only what their role allows
// (bus/auth/acl.ts); refusals are counted and logged at a bounded rate.
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { once } from 'node:events';
import aedesModule, { type AuthenticateError, type Client } from 'aedes';
import { AccountRegistry } from './auth/registry.ts';
import { defaultAccounts, type BusAccount, type BusRole } from './auth/accounts.ts';
import { mayPublish, maySubscribe, type Principal } from './auth/acl.ts';
import { RefusalCounter, type RefusalLog } from './auth/refusals.ts';
import type { Clock } from './clock.ts';

// aedes is CommonJS: its function doubles as `createBroker`, which both TypeScript and Node see.
type Aedes = ReturnType<typeof aedesModule.createBroker>;

/**
 * Who may connect. Default: fresh random accounts in memory (one controller "controller", "bridge",
 * "reader"; more with `broker.urlFor(name, role)`). 'anonymous' turns every check off: only for
 * tests of other parts and throwaway labs, never for a broker others can reach.
 */
export type BrokerAuth = 'anonymous' | { readonly usersFile: string } | { readonly accounts: readonly BusAccount[] } | AccountRegistry;

export interface BrokerTls {
  /** PEM text of the certificate chain and its key. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface BrokerOptions {
  readonly port?: number;
  readonly host?: string;
  readonly auth?: BrokerAuth;
  /** Serve mqtts:// only; plain MQTT on this port is refused. */
  readonly tls?: BrokerTls;
  /** Where refusals are logged (rate-limited). */
  readonly log?: RefusalLog;
  readonly clock?: Clock;
  /** Seconds between refusal log lines (default 10). */
  readonly refusalLogIntervalMs?: number;
}

export interface EmbeddedBroker {
  /** Without credentials: mqtt:// or mqtts://host:port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** undefined when anonymous. */
  readonly accounts: AccountRegistry | undefined;
  readonly refusals: RefusalCounter;
  /**
   * The URL with one account's credentials in it. With a role, an in-memory registry creates the
   * account if it is missing (labs and tests: `urlFor('s1', 'sidecar')`).
   */
  urlFor(username: string, role?: BusRole): string;
  connectedClients(): number;
  stop(): Promise<void>;
}

/** Where refused publishes go: outside the hint root, so no subscription can match it. */
const REFUSED_SINK = '$meshflow/refused';

export const DEFAULT_BROKER_PORT = 1883;
export const DEFAULT_BROKER_HOST = '127.0.0.1';

function registryFor(auth: BrokerAuth | undefined): AccountRegistry | undefined {
  if (auth === 'anonymous') return undefined;
  if (auth === undefined) return AccountRegistry.inMemory(defaultAccounts());
  if (auth instanceof AccountRegistry) return auth;
  if ('usersFile' in auth) return AccountRegistry.fromFile(auth.usersFile);
  return AccountRegistry.inMemory(auth.accounts);
}

function authError(returnCode: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: returnCode as AuthenticateError['returnCode'] });
}

export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? DEFAULT_BROKER_HOST;
  const accounts = registryFor(options.auth);
  const refusals = new RefusalCounter(options.log, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.refusalLogIntervalMs === undefined ? {} : { intervalMs: options.refusalLogIntervalMs }),
  });
  // Who each connection logged in as; gone with the client object.
  const principals = new WeakMap<Client, Principal>();
  const aedes = aedesModule.createBroker(
    accounts === undefined
      ? {}
      : {
          authenticate(client, username, password, done) {
            let who: ReturnType<AccountRegistry['verify']>;
            try {
              who = accounts.verify(username, password);
            } catch {
              who = 'bad_password';
            }
            if (who === 'anonymous' || who === 'bad_password') {
              refusals.record({ reason: who, clientId: client.id, ...(username ? { username } : {}) });
              done(authError(who === 'anonymous' ? 5 : 4, who === 'anonymous' ? 'credentials required' : 'bad username or password'), false);
              return;
            }
            principals.set(client, who);
            done(null, true);
          },
          authorizePublish(client, packet, done) {
            const who = client ? principals.get(client) : undefined;
            if (who && mayPublish(who, packet.topic)) return done(null);
            refusals.record({ reason: 'publish', topic: packet.topic, ...(who ? { username: who.username } : {}), ...(client ? { clientId: client.id } : {}) });
            if (client === null) return done(new Error(`not allowed to publish on ${packet.topic}`));
            // Dropped and acknowledged, as Mosquitto does. An error would make aedes close the
            // connection, and a client that re-sends on every connect (a status, a queued QoS 1
            // message) would loop. aedes has no "drop": the packet goes to a topic no one may
            // subscribe to (authorizeSubscribe allows only the hint root), never retained.
            packet.topic = REFUSED_SINK;
            packet.retain = false;
            done(null);
          },
          authorizeSubscribe(client, sub, done) {
            const who = principals.get(client);
            if (who && maySubscribe(who, sub.topic)) return done(null, sub);
            refusals.record({ reason: 'subscribe', topic: sub.topic, clientId: client.id, ...(who ? { username: who.username } : {}) });
            // A failed grant (0x80) for this filter; the connection stays.
            done(null, null);
          },
        },
  );
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, (socket) => aedes.handle(socket))
    : createServer((socket) => aedes.handle(socket));
  if (options.tls) server.on('tlsClientError', () => refusals.record({ reason: 'tls_handshake' }));
  server.listen(options.port ?? DEFAULT_BROKER_PORT, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    aedes.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? DEFAULT_BROKER_PORT);
  const scheme = options.tls ? 'mqtts' : 'mqtt';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    aedes,
    accounts,
    refusals,
    urlFor(username: string, role?: BusRole) {
      if (accounts === undefined) return url;
      const account = role === undefined ? accounts.get(username) : accounts.add(role, username);
      if (!account) throw new Error(`the broker has no account ${JSON.stringify(username)}`);
      const u = new URL(url);
      u.username = encodeURIComponent(account.username);
      u.password = encodeURIComponent(account.password);
      return u.toString().replace(/\/$/, '');
    },
    connectedClients: () => aedes.connectedClients,
    stop() {
      // aedes.close() drops every client; then the listening socket can close.
      stopped ??= new Promise<void>((resolve) => aedes.close(() => resolve())).then(
        () => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      return stopped;
    },
  };
}
