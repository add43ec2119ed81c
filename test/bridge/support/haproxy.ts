// A real HAProxy for tests: own config in a temp dir, foreground (-db), stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeCommand } from '../../../bridge/adapters/haproxy-socket.ts';
import { costColumns, type HintBody } from '../../../bus/hints.ts';
import { RegistryStore } from '../../../bridge/registry-store.ts';
import { parseRegistry } from '../../../bridge/registry.ts';
import { onePath } from './episode.ts';
import { waitFor } from '../../support/wait.ts';

export interface TestHaproxy {
  readonly pid: number;
  readonly socket: string;
  readonly frontendPort: number;
  stop(): Promise<void>;
}

export async function startHaproxy(opts: {
  backend: string;
  servers: readonly { name: string; port: number }[];
  frontendPort: number;
  /** Each server gets an agent-check on this port (the meshflow HAProxy agent), the server's name as agent-send. */
  agentPort?: number;
}): Promise<TestHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(
    cfg,
    [
      'global',
      `  stats socket ${socket} level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend fe',
      `  bind 127.0.0.1:${opts.frontendPort}`,
      `  default_backend ${opts.backend}`,
      `backend ${opts.backend}`,
      '  balance roundrobin',
      ...opts.servers.map(
        (s) =>
          `  server ${s.name} 127.0.0.1:${s.port} weight 100` +
          (opts.agentPort !== undefined ? ` agent-check agent-addr 127.0.0.1 agent-port ${opts.agentPort} agent-inter 200ms agent-send "${s.name}\\n"` : ''),
      ),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const pid = child.pid;
  if (pid === undefined) throw new Error('haproxy did not start');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('haproxy stats socket', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${stderr}`);
      return (await runtimeCommand(socket, 'show info')).includes('Pid:');
    }, { timeoutMs: 10_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid, socket, frontendPort: opts.frontendPort, stop };
}

const P2 = '0000000000000002';
const P3 = '0000000000000003';
const P4 = '0000000000000004';

/** The bridge's registry for one HAProxy sidecar: web-2 on h3 calls inventory, replicas a on h2 and b on h4. */
export function inventoryRegistry(socket: string): RegistryStore {
  return new RegistryStore(
    parseRegistry({
      services: [{ name: 'inventory', port: 9090 }],
      replicas: [
        { id: 'inventory-a', service: 'inventory', host: 'h2', port: 9090 },
        { id: 'inventory-b', service: 'inventory', host: 'h4', port: 9090 },
      ],
      sidecars: [{ id: 'web-2', host: 'h3', calls: ['inventory'], kind: 'haproxy', haproxy: { socket, backend: 'inventory' } }],
      attachments: { h2: P2, h3: P3, h4: P4 },
    }),
  );
}

/** web-2's cost row with inventory-b's path congested (0.9) and inventory-a's idle (0.1). */
export const inventoryCongestedRow: Extract<HintBody, { kind: 'cost_row' }> = { kind: 'cost_row', srcPid: P3, costs: costColumns([onePath(P2, 0.1), onePath(P4, 0.9)]) };
