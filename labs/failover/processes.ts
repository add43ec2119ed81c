// The failover lab's own processes in the root namespace: a Redis for the group's leases and two
// `meshflow controller` processes, each a child of the runner that the lab can SIGKILL. Stopped by
// PID at teardown at the latest.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, type LabEnv } from '../env.ts';
import { accepts, freePort } from '../ports.ts';

export interface Child {
  readonly pid: number;
  readonly logFile: string;
  /** SIGKILL now: no goodbye, no lease handed over. */
  kill(): void;
  stop(): Promise<void>;
}

function child(env: LabEnv, name: string, cmd: string, args: readonly string[], logFile: string): Child {
  const out = createWriteStream(logFile);
  const c: ChildProcess = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout?.pipe(out);
  c.stderr?.pipe(out);
  const pid = c.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  const alive = (): boolean => c.exitCode === null && c.signalCode === null;
  const stop = env.teardown.push(`${name} (pid ${pid})`, async () => {
    if (alive()) {
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => alive() && process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  });
  return {
    pid,
    logFile,
    kill: () => {
      if (alive()) process.kill(pid, 'SIGKILL');
    },
    stop,
  };
}

export async function startRedis(env: LabEnv): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-lab-redis-'));
  env.teardown.push('redis dir', () => rm(dir, { recursive: true, force: true }));
  await mkdir(join(env.runDir, 'logs'), { recursive: true });
  const c = child(env, 'redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], join(env.runDir, 'logs', 'redis.log'));
  for (let i = 0; !(await accepts(port)); i++) {
    if (i > 200) throw new Error('redis-server did not start');
    await sleep(25);
  }
  return { url: `redis://127.0.0.1:${port}`, child: c };
}

export interface ControllerChild extends Child {
  readonly id: string;
  readonly ofPort: number;
  readonly apiUrl: string;
}

export async function startController(
  env: LabEnv,
  o: { id: string; redisUrl: string; leaseMs: number; pollIntervalMs: number; topologyFile: string },
): Promise<ControllerChild> {
  const ofPort = await freePort();
  const apiPort = await freePort();
  const args = [
    '--import', 'tsx', 'bin/meshflow.js', 'controller',
    '--of-host', '127.0.0.1',
    '--of-port', String(ofPort),
    '--api-port', String(apiPort),
    '--mqtt-url', env.broker.urlFor(o.id, 'controller'),
    '--controller-id', o.id,
    '--cluster-redis', o.redisUrl,
    '--cluster-lease', String(o.leaseMs),
    '--poll-interval', String(o.pollIntervalMs),
    // Levels from utilization alone: delay probes read a loaded machine's scheduling as queueing.
    '--probe-interval', '0',
    '--topology', o.topologyFile,
    '--event-log', join(env.runDir, `events-${o.id}.jsonl`),
  ];
  const c = child(env, `controller-${o.id}`, process.execPath, args, join(env.runDir, 'logs', `controller-${o.id}.log`));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await env.waitHttp(`${apiUrl}/api/v1/healthz`, 60_000);
  return { ...c, id: o.id, ofPort, apiUrl };
}
