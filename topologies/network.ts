// A running Mininet network built from a Topology: the one way TypeScript code (tests, labs,
// the CLI) gets hosts to run commands on and OVS bridges for the controller to manage.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { BuilderError, BuilderProcess, sweepStaleRuns, type Logger } from './builder-process.ts';
import { hasSwitchCycle, loadTopology, type Topology } from './topology.ts';

export { BuilderError, sweepStaleRuns };

// ---- what the builder reports (checked at the process boundary) ---------------------------------

const SwitchPorts = Type.Object({ name: Type.String(), bridge: Type.String(), dpid: Type.String() });
const LinkPorts = Type.Object({
  a: Type.String(),
  b: Type.String(),
  bw: Type.Number(),
  aPort: Type.Union([Type.Integer(), Type.Null()]),
  bPort: Type.Union([Type.Integer(), Type.Null()]),
  aIntf: Type.String(),
  bIntf: Type.String(),
});
const HostInfo = Type.Object({
  name: Type.String(),
  ip: Type.String(),
  mac: Type.String(),
  intf: Type.String(),
  switch: Type.String(),
  port: Type.Integer(),
  switchIntf: Type.String(),
  netns: Type.String(),
});
const PortMap = Type.Object({
  runId: Type.String(),
  switches: Type.Array(SwitchPorts),
  links: Type.Array(LinkPorts),
  hosts: Type.Array(HostInfo),
});

/** A switch: topology name, OVS bridge name of this run, dpid (16 hex digits). */
export type SwitchPorts = Static<typeof SwitchPorts>;
/** A link: its ends, OpenFlow port numbers (null on a host end), interface names. */
export type LinkPorts = Static<typeof LinkPorts>;
/** A host: address, MAC, interface (inside its namespace), and where it is attached. */
export type HostInfo = Static<typeof HostInfo>;
/** Topology names mapped to what OVS and Linux call them in this run. */
export type PortMap = Static<typeof PortMap>;

const checkPortMap = new Ajv({ strict: true }).compile<PortMap>(PortMap);

export interface CmdResult {
  /** stdout and stderr, interleaved as written. */
  output: string;
  /** Exit code of the command (bash -c). */
  code: number;
}

export interface StartOptions {
  /** Where switches connect. Default 127.0.0.1:6653 with failMode secure, none with standalone; null: none. */
  controller?: { host: string; port: number } | null;
  /** secure (default): only the controller installs flows. standalone: OVS acts as a learning switch. */
  failMode?: 'secure' | 'standalone';
  /** OVS spanning tree, for standalone switches on a topology with loops. */
  stp?: boolean;
  /** 4 characters [a-z0-9]; random by default. Carried by every bridge and interface name. */
  runId?: string;
  /** Receives the builder's progress and error lines (stderr). */
  logger?: Logger;
  /** How long the build may take (default 180 s: fat-tree-4 takes a while on 2 cores). */
  startTimeoutMs?: number;
}

const live = new Set<MininetNetwork>();
let exitHooksInstalled = false;

/**
 * On SIGINT/SIGTERM, stop every live network before the process goes away. (If node dies without
 * a signal handler running, the builder sees its stdin close and cleans up by itself.)
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      void Promise.allSettled([...live].map((n) => n.stop())).finally(() => {
        process.removeListener(sig, handler);
        // Re-raise so the default action (or another handler) still ends the process.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    };
    process.on(sig, handler);
  }
}

export class MininetNetwork {
  private stopping: Promise<void> | null = null;
  private readonly bridges: Map<string, string>;
  private readonly switchesByBridge: Map<string, string>;
  private readonly hosts: Map<string, HostInfo>;

  private constructor(
    readonly topology: Topology,
    readonly runId: string,
    private readonly builder: BuilderProcess,
    private readonly portMap: PortMap,
  ) {
    this.bridges = new Map(portMap.switches.map((s) => [s.name, s.bridge]));
    this.switchesByBridge = new Map(portMap.switches.map((s) => [s.bridge, s.name]));
    this.hosts = new Map(portMap.hosts.map((h) => [h.name, h]));
  }

  /** Build the network (topology value, file path or shipped name) and start its switches. */
  static async start(topology: Topology | string, options: StartOptions = {}): Promise<MininetNetwork> {
    const topo = typeof topology === 'string' ? loadTopology(topology) : topology;
    const failMode = options.failMode ?? 'secure';
    const controller =
      options.controller !== undefined
        ? options.controller
        : failMode === 'secure'
          ? { host: '127.0.0.1', port: 6653 }
          : null;
    if (failMode === 'standalone' && !options.stp && hasSwitchCycle(topo)) {
      throw new Error(
        `${topo.name}: standalone switches on a topology with loops flood broadcasts forever; ` +
          'use failMode secure with a controller, or stp: true',
      );
    }
    installExitHooks();
    // A random id can collide with a live run (the builder refuses it); then draw again.
    for (let attempt = 0; ; attempt++) {
      const runId = options.runId ?? randomBytes(3).readUIntBE(0, 3).toString(36).padStart(4, '0').slice(-4);
      const builder = new BuilderProcess(options.logger);
      try {
        const reply = await builder.request<unknown>(
          'start',
          { topology: topo, runId, failMode, controller, stp: options.stp ?? false },
          options.startTimeoutMs ?? 180_000,
        );
        if (!checkPortMap(reply)) throw new Error(`start: unexpected reply from builder: ${JSON.stringify(reply)}`);
        const net = new MininetNetwork(topo, runId, builder, reply);
        live.add(net);
        return net;
      } catch (err) {
        await shutDown(builder);
        const inUse = err instanceof BuilderError && /already in use/.test(err.message);
        if (!inUse || options.runId !== undefined || attempt >= 3) throw err;
      }
    }
  }

  /** Pid of the builder process (tests kill it to simulate a crash). */
  get builderPid(): number | undefined {
    return this.builder.pid;
  }

  /** Run a command with bash on a host; resolves with its output and exit code. */
  cmd(host: string, command: string, { timeoutMs = 60_000 }: { timeoutMs?: number } = {}): Promise<CmdResult> {
    this.hostInfo(host);
    // The builder enforces the timeout (and kills the command); give it a moment to answer.
    return this.builder.request<CmdResult>('cmd', { host, command, timeoutMs }, timeoutMs + 10_000);
  }

  /** Start a background command on a host; output goes to logFile (default: the run's log dir). */
  async spawn(host: string, command: string, { logFile }: { logFile?: string } = {}): Promise<number> {
    this.hostInfo(host);
    const r = await this.builder.request<{ pid: number; logFile: string }>(
      'spawn',
      { host, command, ...(logFile === undefined ? {} : { logFile }) },
      30_000,
    );
    return r.pid;
  }

  /** Stop a spawned process and its children (SIGTERM, then SIGKILL after 5 s). */
  async kill(pid: number, signal: 'TERM' | 'INT' | 'KILL' | 'HUP' = 'TERM'): Promise<void> {
    await this.builder.request('kill', { pid, signal }, 30_000);
  }

  /** Take the link between two nodes (topology names) down or bring it up, both ends at once. */
  async setLink(a: string, b: string, state: 'up' | 'down'): Promise<void> {
    await this.builder.request('link', { a, b, state }, 30_000);
  }

  /** Topology names mapped to OVS bridges, port numbers and interfaces of this run. */
  ports(): PortMap {
    return this.portMap;
  }

  /** OVS bridge name of a topology switch in this run. */
  bridgeOf(switchName: string): string {
    const bridge = this.bridges.get(switchName);
    if (bridge === undefined) throw new Error(`${this.topology.name}: no switch named ${switchName}`);
    return bridge;
  }

  /** Topology switch name of one of this run's OVS bridges. */
  switchOf(bridge: string): string {
    const name = this.switchesByBridge.get(bridge);
    if (name === undefined) throw new Error(`run ${this.runId}: no bridge named ${bridge}`);
    return name;
  }

  hostInfo(name: string): HostInfo {
    const info = this.hosts.get(name);
    if (info === undefined) throw new Error(`${this.topology.name}: no host named ${name}`);
    return info;
  }

  /** Tear everything down: bridges, interfaces, host processes, namespaces. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      live.delete(this);
      const crashed = !this.builder.running;
      await shutDown(this.builder);
      // A builder that died on its own could not clean up: do it from its state file.
      if (crashed) await sweepStaleRuns();
    })();
    return this.stopping;
  }
}

/** Ask the builder to stop and wait for it to exit; escalate to signals if it does not. */
async function shutDown(builder: BuilderProcess): Promise<void> {
  if (!builder.running) return;
  try {
    const r = await builder.request<{ leftovers: string[] }>('stop', {}, 60_000);
    if (r.leftovers.length) throw new Error(`stop left behind: ${r.leftovers.join(', ')}`);
  } finally {
    if (!(await exitWithin(builder, 10_000))) {
      builder.signal('SIGTERM'); // the builder cleans up on SIGTERM too
      if (!(await exitWithin(builder, 30_000))) builder.signal('SIGKILL');
    }
  }
}

function exitWithin(builder: BuilderProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    builder.exited.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
