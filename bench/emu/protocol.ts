// The messages between the driver and the emulator process (Node IPC, JSON). Each request has an
// id; the emulator answers every request once, with its result or an error message.
import type { LoadTarget } from './fabric.ts';
import type { TrafficMode } from './cbench.ts';

export interface CommonConfig {
  readonly host: string;
  readonly port: number;
  /** The emulator's own echo requests, per switch (0: none). */
  readonly echoIntervalMs: number;
  /** Wait before a closed session reconnects. */
  readonly reconnectMs: number;
  /** Simultaneous TCP connects while the switches join. */
  readonly connectConcurrency: number;
}

export interface CbenchConfig extends CommonConfig {
  readonly mode: 'cbench';
  readonly switches: number;
  readonly macs: number;
  readonly dests: number;
  /** An unanswered packet-in is given up on after this long. */
  readonly lostAfterMs: number;
}

export interface FabricConfig extends CommonConfig {
  readonly mode: 'fabric';
  readonly k: number;
  readonly deliverAll: boolean;
  readonly hostDelayMs: number;
}

export type EmuConfig = CbenchConfig | FabricConfig;

export type EmuRequest =
  | { readonly cmd: 'start'; readonly config: EmuConfig }
  | { readonly cmd: 'announce' }
  | { readonly cmd: 'traffic'; readonly mode: TrafficMode; readonly cap?: number }
  | { readonly cmd: 'storm'; readonly switchIndex: number; readonly durationMs: number }
  | { readonly cmd: 'stats' }
  | { readonly cmd: 'setLoad'; readonly target: LoadTarget; readonly bps: number }
  | { readonly cmd: 'cable'; readonly linkId: string; readonly up: boolean }
  | { readonly cmd: 'stop' };

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Counters over the window since the previous stats request, and totals since start. */
export interface EmuStats {
  readonly windowMs: number;
  readonly switches: number;
  readonly connected: number;
  /** Switches the controller has asked for features on their current connection. */
  readonly featured: number;
  /** Sessions closed by the far end, since start. */
  readonly closes: number;
  readonly connects: number;
  readonly cbench?: {
    readonly sent: number;
    readonly answered: number;
    /** Unanswered after lostAfterMs: given up on, so that the switch sends its next one. */
    readonly lost: number;
    readonly answeredByFlowMod: number;
    readonly outstanding: number;
    readonly rttMs: Summary;
  };
  readonly echo: { readonly sent: number; readonly answered: number; readonly late: number; readonly rttMs: Summary; readonly maxWaitMs: number };
  readonly totals: {
    readonly flowMods: number;
    readonly groupMods: number;
    readonly meterMods: number;
    readonly packetOuts: number;
    readonly barriers: number;
    readonly portStatsRequests: number;
    readonly delivered: number;
    readonly hostAnnouncements: number;
    readonly stormSent: number;
  };
  /** The emulator's own CPU over the window, in % of one core: above ~90 it is the bottleneck. */
  readonly emulatorCpuPct: number;
}

export type EmuResponse = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

export function summarize(values: number[]): Summary {
  if (values.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const v = Float64Array.from(values).sort();
  const q = (p: number): number => v[Math.min(v.length - 1, Math.floor(p * v.length))]!;
  return { n: v.length, p50: q(0.5), p99: q(0.99), max: v[v.length - 1]! };
}
