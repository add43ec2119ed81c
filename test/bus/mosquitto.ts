// A real Mosquitto with a configuration of the test's choosing (listeners, password and ACL
// files, TLS, bridges): our own child process on free ports, ready when it accepts, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from '../../labs/ports.ts';
import { waitFor } from '../support/wait.ts';

export interface Mosquitto {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** Stops it (SIGTERM, by PID) and keeps its files, so it can be started again. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same files. */
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  stop(): Promise<void>;
}

export interface MosquittoConfig {
  readonly port?: number;
  /** Files written next to the config, by name; `%DIR%` in lines refers to that folder. */
  readonly files?: Readonly<Record<string, string | Buffer>>;
  /** Config lines after the listener line (written with %PORT% and %DIR% substituted). */
  readonly lines: readonly string[];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
});

export async function startMosquittoWith(config: MosquittoConfig): Promise<Mosquitto> {
  const port = config.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-mosq-'));
  // Started as root, mosquitto drops to its own user, which must still read the files.
  await chmod(dir, 0o755);
  for (const [name, content] of Object.entries(config.files ?? {})) {
    await writeFile(join(dir, name), content);
    await chmod(join(dir, name), 0o644);
  }
  const subst = (l: string) => l.replaceAll('%PORT%', String(port)).replaceAll('%DIR%', dir);
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, [`log_dest stderr`, `log_type error`, `persistence false`, ...config.lines.map(subst)].join('\n') + '\n');
  let child: ChildProcess;
  let stderr = '';
  const launch = async () => {
    stderr = '';
    child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    await waitFor(`mosquitto on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited ${child.exitCode}: ${stderr}`);
      return accepts(port);
    });
  };
  const kill = async () => {
    const c = child;
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(c.pid, 'SIGTERM');
      await exited;
    }
    live.delete(c);
  };
  await launch();
  return {
    port,
    get pid() {
      return child.pid ?? -1;
    },
    dir,
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
