// The controllers a benchmark drives, each a child process on ports of its own: meshflow (its CLI),
// os-ken with the L2 learning app in bench/reference/, and Open vSwitch's ovs-testcontroller.
// Each is stopped by its PID; stop() reports how long SIGTERM took.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../labs/ports.ts';

export interface StopResult {
  /** ms from SIGTERM to exit, or undefined when it had to be killed. */
  readonly termMs: number | undefined;
  readonly killed: boolean;
}

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  readonly ofPort: number;
  readonly logFile: string;
  /** meshflow only. */
  readonly apiUrl?: string;
  readonly brokerUrl?: string;
  exited(): boolean;
  stop(graceMs?: number): Promise<StopResult>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function waitForTcp(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`process listening on ${port} exited`);
    if (performance.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Controllers still running: a benchmark that is interrupted takes them down with it. */
const live = new Set<ChildProcess>();
let guarded = false;

function guardExit(): void {
  if (guarded) return;
  guarded = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

function launch(name: string, cmd: string, args: readonly string[], logFile: string, ofPort: number, extra: Partial<RunningProcess> = {}): RunningProcess {
  guardExit();
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  live.add(child);
  let done = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      done = true;
      live.delete(child);
      r();
    }),
  );
  return {
    name,
    pid,
    ofPort,
    logFile,
    ...extra,
    exited: () => done,
    async stop(graceMs = 10_000) {
      if (done) return { termMs: 0, killed: false };
      const t0 = performance.now();
      child.kill('SIGTERM');
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
      return { termMs: killed ? undefined : performance.now() - t0, killed };
    },
  };
}

/** A fresh directory for one run's logs and event log; removeBenchDir() it when the run went well. */
export function benchDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `meshflow-bench-${tag}-`));
}

export function removeBenchDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface MeshflowOptions {
  readonly dir: string;
  /** Extra CLI flags (e.g. --topology FILE, --echo-interval MS). */
  readonly args?: readonly string[];
  readonly startTimeoutMs?: number;
}

export async function startMeshflow(o: MeshflowOptions): Promise<RunningProcess> {
  const [ofPort, apiPort, brokerPort] = [await freePort(), await freePort(), await freePort()];
  const logFile = join(o.dir, 'meshflow.log');
  const p = launch(
    'meshflow',
    process.execPath,
    [
      'bin/meshflow.js', 'controller',
      '--of-host', '127.0.0.1', '--of-port', String(ofPort),
      '--api-port', String(apiPort),
      '--broker-port', String(brokerPort),
      '--event-log', join(o.dir, 'events.jsonl'),
      '--controller-id', `bench-${process.pid}`,
      // The bench watches the bus from outside: a throwaway broker without accounts.
      '--bus-anonymous',
      ...(o.args ?? []),
    ],
    logFile,
    ofPort,
    { apiUrl: `http://127.0.0.1:${apiPort}`, brokerUrl: `mqtt://127.0.0.1:${brokerPort}` },
  );
  try {
    // The OpenFlow port opens before the API does: an API that answers means both are up.
    await waitForTcp(apiPort, o.startTimeoutMs ?? 30_000, () => !p.exited());
  } catch (err) {
    await p.stop(2000);
    throw new Error(`meshflow did not start (see ${logFile}): ${(err as Error).message}`);
  }
  return p;
}

export async function startOsken(dir: string): Promise<RunningProcess> {
  const ofPort = await freePort();
  const app = join(ROOT, 'bench/reference/osken_l2.py');
  // Debian's os-ken lives in the system Python, not the one first on PATH.
  const p = launch('os-ken', '/usr/bin/python3', ['/usr/bin/osken-manager', '--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(ofPort), app], join(dir, 'osken.log'), ofPort);
  await waitForTcp(ofPort, 30_000, () => !p.exited());
  return p;
}

export async function startOvsTestController(dir: string): Promise<RunningProcess> {
  const ofPort = await freePort();
  // -O OpenFlow13 pins the version (it offers 1.0-1.5 otherwise); ptcp:PORT:IP listens.
  const p = launch('ovs-testcontroller', 'ovs-testcontroller', ['-O', 'OpenFlow13', `ptcp:${ofPort}:127.0.0.1`], join(dir, 'ovs-testcontroller.log'), ofPort);
  await waitForTcp(ofPort, 10_000, () => !p.exited());
  return p;
}

export function referenceAvailable(): { osken: boolean; testcontroller: boolean } {
  return { osken: existsSync('/usr/bin/osken-manager'), testcontroller: existsSync('/usr/bin/ovs-testcontroller') };
}
