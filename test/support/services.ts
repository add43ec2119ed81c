// Real Mosquitto and Redis for tests: each started as our own child process on a free
// 127.0.0.1 port, ready when it accepts connections (polled, never a blind sleep),
// stopped by PID. Pass { port } to restart one on the port it had.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '../../labs/ports.ts';

export interface Service {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  readonly port?: number;
  /** Mosquitto only: require these user → password pairs (no anonymous access). */
  readonly users?: Readonly<Record<string, string>>;
  /** How long to wait for readiness (ms). */
  readonly readyTimeoutMs?: number;
}

export async function startMosquitto(options: ServiceOptions = {}): Promise<Service> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error'];
  const users = Object.entries(options.users ?? {});
  if (users.length === 0) {
    lines.push('allow_anonymous true');
  } else {
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '');
    for (const [user, password] of users) await run('mosquitto_passwd', ['-b', passwd, user, password]);
    // Started as root, mosquitto drops to its own user, which must still read the file.
    await chmod(dir, 0o755);
    await chmod(passwd, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwd}`);
  }
  await writeFile(conf, lines.join('\n') + '\n');
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  return ready(child, port, `mqtt://127.0.0.1:${port}`, dir, options.readyTimeoutMs, 'mosquitto');
}

export async function startRedis(options: ServiceOptions = {}): Promise<Service> {
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return ready(child, port, `redis://127.0.0.1:${port}`, dir, options.readyTimeoutMs, 'redis-server');
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

// Children still alive when the test process exits (a crashed run) are killed by PID.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
});

async function ready(
  child: ChildProcess,
  port: number,
  url: string,
  dir: string,
  timeoutMs = 10_000,
  name: string,
): Promise<Service> {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && process.kill(pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    live.delete(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if (await accepts(port)) return { url, port, pid, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not accepting on ${port} after ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

