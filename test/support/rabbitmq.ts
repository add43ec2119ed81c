// A real RabbitMQ for tests: Debian's rabbitmq-server as our own node (own name, ports and data
// directory), started in a process group of its own and stopped by that group's PID. Erlang's
// port mapper (epmd) is shared by every Erlang node on the machine and is left running.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '../../labs/ports.ts';
import { type Service } from './services.ts';

const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export async function startRabbitmq(readyTimeoutMs = 60_000): Promise<Service> {
  const port = await freePort();
  const dist = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-rabbitmq-'));
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      HOME: dir,
      RABBITMQ_NODENAME: `meshflow-test-${process.pid}-${port}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(dist),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'pid'),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('rabbitmq-server did not start');
  live.add(pid);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (live.delete(pid)) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, 10_000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`rabbitmq-server exited with ${child.exitCode}: ${stderr}`);
    }
    if (await accepts(port)) return { url: `amqp://127.0.0.1:${port}`, port, pid, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server not accepting on ${port} after ${readyTimeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
