// The running parts of one lab run, started in order and torn down in reverse: the management
// bridge, the embedded broker (on the management address, so sidecars on hosts reach it), the
// controller (in process, capacities and host names from the topology), the Mininet network, the
// hosts' management veths, and every process the lab spawns on a host.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBroker, type EmbeddedBroker } from '../bus/broker.ts';
import { runController, type RunningController } from '../controller/run.ts';
import { networkOptionsFromTopology } from '../controller/routing/network.ts';
import { MininetNetwork } from '../topologies/network.ts';
import type { Topology } from '../topologies/topology.ts';
import { ManagementNet, mgmtBridges } from './mgmt.ts';
import { Teardown } from './teardown.ts';

const run = promisify(execFile);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Per-run marker files: a management bridge whose marker's owner is dead is swept. */
export const MARKER_DIR = '/tmp/meshflow-labs';

export interface HostProcess {
  readonly pid: number;
  readonly logFile: string;
  /** Stops it now (SIGTERM to its process group, SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface EnvOptions {
  readonly topology: Topology;
  readonly runDir: string;
  /** Hosts that get a management interface (those running sidecars, generators, services). */
  readonly mgmtHosts: readonly string[];
  readonly pollIntervalMs?: number;
  /** Port of the controller's API and dashboard (0: any free port). */
  readonly apiPort?: number;
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

/** A run id no live run uses: 4 characters [a-z0-9], as the Mininet builder wants. */
function newRunId(): string {
  for (;;) {
    const id = randomBytes(3).readUIntBE(0, 3).toString(36).padStart(4, '0').slice(-4);
    if (!existsSync(`/tmp/meshflow-mininet/${id}.json`) && !existsSync(`${MARKER_DIR}/${id}.json`)) return id;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes management bridges (and markers) of lab runs whose process is gone. */
export async function sweepStaleLabs(): Promise<string[]> {
  const removed: string[] = [];
  for (const br of await mgmtBridges()) {
    const id = br.slice(3);
    const marker = `${MARKER_DIR}/${id}.json`;
    let owner = 0;
    try {
      owner = (JSON.parse(await readFile(marker, 'utf8')) as { pid: number }).pid;
    } catch {
      owner = 0;
    }
    if (owner === 0 || !pidAlive(owner)) {
      await run('ip', ['link', 'del', br]).catch(() => undefined);
      await rm(marker, { force: true });
      removed.push(br);
    }
  }
  return removed;
}

export class LabEnv {
  readonly teardown = new Teardown();

  private constructor(
    readonly runId: string,
    readonly runDir: string,
    readonly signal: AbortSignal,
    readonly log: (line: string) => void,
    readonly broker: EmbeddedBroker,
    readonly ctl: RunningController,
    readonly net: MininetNetwork,
    readonly mgmt: ManagementNet,
  ) {}

  static async start(o: EnvOptions): Promise<LabEnv> {
    const teardown = new Teardown();
    try {
      await sweepStaleLabs();
      const runId = newRunId();
      await mkdir(MARKER_DIR, { recursive: true });
      const marker = `${MARKER_DIR}/${runId}.json`;
      await writeFile(marker, JSON.stringify({ pid: process.pid, runDir: o.runDir }));
      teardown.push('marker', () => rm(marker, { force: true }));
      // The bridge comes first: the broker binds its address, and the broker must be up
      // before the controller (which publishes on it) and the network (which needs the controller).
      const mgmt = await ManagementNet.create(runId);
      teardown.push('management network', () => mgmt.remove());
      o.log(`run ${runId}: management bridge ${mgmt.bridge} at ${mgmt.rootAddress}/24`);
      const broker = await startBroker({ host: mgmt.rootAddress, port: 0 });
      teardown.push('broker', () => broker.stop());
      const ctl = await runController({
        ofPort: 0,
        apiPort: o.apiPort ?? 0,
        mqttUrl: broker.urlFor('controller'),
        pollIntervalMs: o.pollIntervalMs ?? 250,
        ...networkOptionsFromTopology(o.topology),
      });
      teardown.push('controller', () => ctl.stop());
      o.log(`run ${runId}: controller OpenFlow :${ctl.ofPort}, API ${ctl.apiUrl}`);
      abortable(o.signal);
      const net = await MininetNetwork.start(o.topology, { controller: { host: '127.0.0.1', port: ctl.ofPort }, runId });
      // Veths go before the network stops (the namespaces would take them along, but by name is sure).
      teardown.push('mininet', () => net.stop());
      await mgmt.attach(o.mgmtHosts.map((name) => ({ name, netns: net.hostInfo(name).netns })));
      const env = new LabEnv(runId, o.runDir, o.signal, o.log, broker, ctl, net, mgmt);
      // Hand the steps over: from here the env's own teardown owns them.
      env.teardown.push('setup', () => teardown.run());
      return env;
    } catch (err) {
      const failures = await teardown.run();
      if (failures.length) o.log(`teardown after failed start: ${failures.join('; ')}`);
      throw err;
    }
  }

  /** Waits until the controller knows every switch, every fabric link and the given hosts. */
  async waitForNetwork(hosts: readonly string[], timeoutMs = 30_000): Promise<void> {
    const topo = this.net.topology;
    const fabric = topo.links.filter((l) => l.aPort !== null && l.bPort !== null).length * 2;
    const deadline = Date.now() + timeoutMs;
    while (this.ctl.controller.switches.size < topo.switches.length || this.ctl.network.discovery.links.size < fabric) {
      if (Date.now() > deadline) throw new Error(`network not discovered in ${timeoutMs} ms (${this.ctl.controller.switches.size} switches, ${this.ctl.network.discovery.links.size}/${fabric} links)`);
      await sleep(250, undefined, { signal: this.signal });
    }
    // Hosts become known when they speak: every host pings the first one, which answers.
    const [first, ...rest] = hosts;
    if (first === undefined) return;
    const ip0 = this.ipOf(first);
    for (const h of rest) {
      const r = await this.net.cmd(h, `ping -c 3 -i 0.2 -W 2 ${ip0}`, { timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`${h} cannot reach ${first} (${ip0}) over the data plane:\n${r.output}`);
    }
  }

  /** Data-plane address of a host (without prefix length). */
  ipOf(host: string): string {
    return this.net.hostInfo(host).ip.split('/')[0] as string;
  }

  /** Starts a shell command on a host with its output in the run's logs/; stopped at teardown at the latest. */
  async spawn(host: string, name: string, command: string): Promise<HostProcess> {
    const logFile = join(this.runDir, 'logs', `${name}.log`);
    await mkdir(dirname(logFile), { recursive: true });
    const pid = await this.net.spawn(host, command, { logFile });
    const stop = this.teardown.push(`process ${name} (pid ${pid})`, () => this.net.kill(pid).catch(() => undefined));
    return { pid, logFile, stop };
  }

  /** A TypeScript program of this repository, run with node and tsx on a host. */
  node(host: string, name: string, script: string, args: readonly string[]): Promise<HostProcess> {
    const argv = [process.execPath, '--import', 'tsx', script, ...args].map(shellQuote).join(' ');
    return this.spawn(host, name, `cd ${shellQuote(ROOT)} && exec ${argv}`);
  }

  /** Polls an HTTP URL (over the management network) until it answers 2xx. */
  async waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        if (r.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await sleep(250, undefined, { signal: this.signal });
    }
  }

  /** Tears everything down and checks that none of the run's bridges is left. */
  async stop(): Promise<string[]> {
    const failures = await this.teardown.run();
    const left = await leftovers(this.runId);
    if (left.length) failures.push(`left behind: ${left.join(', ')}`);
    return failures;
  }
}

/** OVS and management bridges of a run that still exist. */
export async function leftovers(runId: string): Promise<string[]> {
  const { stdout } = await run('ovs-vsctl', ['list-br']).catch(() => ({ stdout: '' }));
  const ovs = stdout.split('\n').filter((b) => b.startsWith(`mf${runId}`));
  const mg = (await mgmtBridges()).filter((b) => b === `mfm${runId}`);
  return [...ovs, ...mg];
}

function abortable(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('lab interrupted');
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
