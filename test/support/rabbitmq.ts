// A real RabbitMQ for tests: labs/rabbitmq.ts's node on loopback, its data in a temporary folder
// that goes with it. A test process that dies leaves no node behind (killed by group on exit).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRabbitmq as startNode } from '../../labs/rabbitmq.ts';
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
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-rabbitmq-'));
  const node = await startNode('127.0.0.1', dir, 'test', readyTimeoutMs).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  live.add(node.pid);
  return {
    url: node.url,
    port: node.port,
    pid: node.pid,
    stop: async () => {
      live.delete(node.pid);
      await node.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
