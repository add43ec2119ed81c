// Drives the emulator process: starts bench/emu/main.ts as a child with an IPC channel and gives
// benchmarks and tests a typed handle on it. The emulator talks to the controller only over TCP.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrafficMode } from './cbench.ts';
import type { LoadTarget } from './fabric.ts';
import type { CbenchConfig, CommonConfig, EmuConfig, EmuRequest, EmuResponse, EmuStats, FabricConfig } from './protocol.ts';
import { PORT_SPEED_KBPS } from './switch.ts';

export type { EmuStats, LoadTarget, TrafficMode };

/** Every emulated port reports 10 Gb/s: loads are best set as a fraction of this. */
export const PORT_CAPACITY_BPS = PORT_SPEED_KBPS * 1000;

export interface EmuHost {
  readonly mac: string;
  readonly ipv4: string;
  readonly dpid: string;
  readonly port: number;
}

export interface EmuHandle {
  readonly pid: number;
  /** 16 hex digits each, in switch order. */
  readonly dpids: readonly string[];
  /** Every link direction the wiring has, as meshflow names them. */
  readonly links: readonly string[];
  /** Fabric: every host; cbench: the destination hosts. */
  readonly hosts: readonly EmuHost[];
  /** Hosts (fabric) or destinations (cbench) send one gratuitous ARP each; returns how many. */
  announce(): Promise<number>;
  traffic(mode: TrafficMode, cap?: number): Promise<void>;
  /** ARP packet-ins with new source MACs from one switch, as fast as TCP takes them; returns how many. */
  storm(switchIndex: number, durationMs: number): Promise<number>;
  /** Counters since the previous call. */
  stats(): Promise<EmuStats>;
  setLoad(target: LoadTarget, bps: number): Promise<string[]>;
  linkDown(linkId: string): Promise<void>;
  linkUp(linkId: string): Promise<void>;
  stop(): Promise<void>;
}

const commonDefaults = { host: '127.0.0.1', echoIntervalMs: 1000, reconnectMs: 1000, connectConcurrency: 32 };

export type CbenchOptions = Partial<CommonConfig> & Pick<CommonConfig, 'port'> & Partial<Pick<CbenchConfig, 'switches' | 'macs' | 'dests' | 'lostAfterMs'>>;
export type FabricOptions = Partial<CommonConfig> & Pick<CommonConfig, 'port'> & Pick<FabricConfig, 'k'> & Partial<Pick<FabricConfig, 'deliverAll' | 'hostDelayMs'>>;

export function startCbench(o: CbenchOptions): Promise<EmuHandle> {
  return startEmulator({ ...commonDefaults, switches: 16, macs: 1000, dests: 4, lostAfterMs: 2000, ...o, mode: 'cbench' });
}

export function startFabric(o: FabricOptions): Promise<EmuHandle> {
  return startEmulator({ ...commonDefaults, deliverAll: false, hostDelayMs: 1500, ...o, mode: 'fabric' });
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export async function startEmulator(config: EmuConfig): Promise<EmuHandle> {
  const child: ChildProcess = fork(MAIN, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the emulator process did not start');
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`emulator exited (${signal ?? code})`));
      pending.clear();
      resolve();
    }),
  );
  child.on('message', (m: EmuResponse) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`emulator: ${m.error}`));
  });
  const call = <T>(req: EmuRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error('emulator has exited'));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, ...req });
    });
  const stop = async (): Promise<void> => {
    if (exited) return;
    await Promise.race([call({ cmd: 'stop' }).catch(() => undefined), exit]);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exit;
    clearTimeout(timer);
  };
  let wiring: { dpids: string[]; links: string[]; hosts: EmuHost[] };
  try {
    wiring = await call({ cmd: 'start', config });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid,
    ...wiring,
    announce: () => call({ cmd: 'announce' }),
    traffic: (mode, cap) => call({ cmd: 'traffic', mode, ...(cap === undefined ? {} : { cap }) }),
    storm: (switchIndex, durationMs) => call({ cmd: 'storm', switchIndex, durationMs }),
    stats: () => call({ cmd: 'stats' }),
    setLoad: (target, bps) => call({ cmd: 'setLoad', target, bps }),
    linkDown: (linkId) => call({ cmd: 'cable', linkId, up: false }),
    linkUp: (linkId) => call({ cmd: 'cable', linkId, up: true }),
    stop,
  };
}
