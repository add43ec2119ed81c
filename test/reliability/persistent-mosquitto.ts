// A Mosquitto with persistence on, for broker-restart tests: started by the test on a free port,
// stopped by PID (SIGTERM: it writes its sessions and queued messages to disk), and started again
// on the same port from the same directory, so persistent sessions survive the restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '../../labs/ports.ts';

// Brokers still running when the test process exits (a crashed run) are killed by PID.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
});

export class PersistentMosquitto {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async create(): Promise<PersistentMosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'meshflow-mosquitto-persist-'));
    // Started as root, mosquitto drops to its own user, which must write the database here.
    await chmod(dir, 0o777);
    const port = await freePort();
    const conf = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // Queue every message for a client that is away (the default 1000 would do, but say so).
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
    ];
    await writeFile(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n', { mode: 0o644 });
    return new PersistentMosquitto(port, dir);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and resolves once it accepts connections. */
  async start(timeoutMs = 10_000): Promise<void> {
    const child = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    live.add(child);
    child.once('exit', () => live.delete(child));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr}`);
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto not accepting on ${this.port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** SIGTERM by PID, and waits for the exit (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGTERM');
    const t = setTimeout(() => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

