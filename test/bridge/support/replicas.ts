// Tiny HTTP replicas for bridge tests: each answers with its own id and echoes the
// headers the mesh is meant to carry, so a test can count splits and check propagation.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface TestReplica {
  readonly id: string;
  readonly port: number;
  /** Headers of every request seen, in order. */
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startReplica(id: string, port = 0): Promise<TestReplica> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ replica: id, path: req.url, body: Buffer.concat(chunks).toString() }));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    id,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const r = await startReplica('dead');
  await r.close();
  return r.port;
}
