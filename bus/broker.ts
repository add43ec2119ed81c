// The embedded broker: aedes on a TCP port, so `meshflow start` needs nothing installed.
// Retained messages live in aedes' in-memory persistence (lost on stop, as with a fresh broker).
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import aedesModule from 'aedes';

// aedes is CommonJS: its function doubles as `createBroker`, which both TypeScript and Node see.
type Aedes = ReturnType<typeof aedesModule.createBroker>;

export interface BrokerOptions {
  readonly port?: number;
  readonly host?: string;
}

export interface EmbeddedBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  connectedClients(): number;
  stop(): Promise<void>;
}

export const DEFAULT_BROKER_PORT = 1883;
export const DEFAULT_BROKER_HOST = '127.0.0.1';

export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? DEFAULT_BROKER_HOST;
  const aedes = aedesModule.createBroker();
  const server: Server = createServer((socket) => aedes.handle(socket));
  server.listen(options.port ?? DEFAULT_BROKER_PORT, host);
  try {
    await once(server, 'listening');
  } catch (err) {
    aedes.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? DEFAULT_BROKER_PORT);
  let stopped: Promise<void> | undefined;
  return {
    url: `mqtt://${host}:${port}`,
    host,
    port,
    aedes,
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
