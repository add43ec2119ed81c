// A RabbitMQ node of our own for labs and tests: Debian's rabbitmq-server with its own name, ports
// and data directory, listening on one address (a lab gives the management network's root address,
// so that services on the Mininet hosts reach it; tests give loopback). Started in a process group
// of its own and stopped by that group's PID; Erlang's port mapper (epmd) outlives the node, so when
// this node started it, stop() ends it by its PID.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepts, freePort } from './ports.ts';

export interface RunningRabbitmq {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn to accepting connections (the report says what the hop costs to set up). */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** PIDs of the epmd this node started: it inherits the node's environment, so its name is there. */
async function ourEpmd(nodeName: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const comm = await readFile(`/proc/${d}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'epmd') continue;
    const environ = await readFile(`/proc/${d}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`RABBITMQ_NODENAME=${nodeName}`)) out.push(Number(d));
  }
  return out;
}

/** `name` tells whose node it is in `ps` and epmd (e.g. lab, test). */
export async function startRabbitmq(address: string, dir: string, name: string, readyTimeoutMs = 60_000): Promise<RunningRabbitmq> {
  const port = await freePort();
  const dist = await freePort();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  // guest may log in from the hosts' management addresses (the node listens on nothing else).
  await writeFile(join(dir, 'rabbitmq.conf'), 'loopback_users = none\n');
  const nodeName = `meshflow-${name}-${process.pid}-${port}@localhost`;
  const t0 = Date.now();
  const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      HOME: dir,
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_NODE_IP_ADDRESS: address,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(dist),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'pid'),
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('rabbitmq-server did not start');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const kill = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    if (child.exitCode === null) {
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    for (const e of await ourEpmd(nodeName)) {
      try {
        process.kill(e, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`rabbitmq-server exited with ${child.exitCode}: ${stderr}`);
    }
    if (await accepts(port, address)) return { url: `amqp://${address}:${port}`, port, pid, startMs: Date.now() - t0, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server not accepting on ${address}:${port} after ${readyTimeoutMs} ms: ${stderr}`);
    }
    await sleep(100);
  }
}
