// Where a link direction's capacity comes from. Several sources may know it and disagree; the
// most deliberate one wins: a value set through the API at run time, then the config file's
// value for that port, the topology file, the shaping rate found on the sending interface (tc),
// the configured default for every link, and last the speed the switch reports for the port.
// A capacity of 0 is "unknown" (source "none"): utilization is then not computed from it.
import { endpointKey, type CapacitySource, type Endpoint } from './types.ts';

export type { CapacitySource };

export interface Capacity {
  readonly bps: number;
  readonly source: CapacitySource;
}

/** What each source says about one sending port; absent or 0 means it says nothing. */
export interface CapacityCandidates {
  readonly api?: number | undefined;
  readonly config?: number | undefined;
  readonly topology?: number | undefined;
  readonly tc?: number | undefined;
  readonly configDefault?: number | undefined;
  readonly port?: number | undefined;
}

const known = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;

/** The precedence, as one pure function: api > config per port > topology > tc > config default > port. */
export function resolveCapacity(c: CapacityCandidates): Capacity {
  if (known(c.api)) return { bps: c.api, source: 'api' };
  if (known(c.config)) return { bps: c.config, source: 'config' };
  if (known(c.topology)) return { bps: c.topology, source: 'topology' };
  if (known(c.tc)) return { bps: c.tc, source: 'tc' };
  if (known(c.configDefault)) return { bps: c.configDefault, source: 'config' };
  if (known(c.port)) return { bps: c.port, source: 'port' };
  return { bps: 0, source: 'none' };
}

const UNITS: Readonly<Record<string, number>> = { '': 1, bit: 1, k: 1e3, kbit: 1e3, m: 1e6, mbit: 1e6, g: 1e9, gbit: 1e9, t: 1e12, tbit: 1e12 };

/**
 * A rate in bit/s from "8mbit", "8Mbit", "800kbit", "1.5gbit", "10m" or a plain number of bit/s,
 * as tc writes rates. tc's "bps" means bytes per second, so it is refused rather than guessed.
 */
export function parseRate(text: string | number): number {
  if (typeof text === 'number') {
    if (!(Number.isFinite(text) && text > 0)) throw new RangeError(`a rate must be a number of bit/s above 0, got ${text}`);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)(?:\/s)?\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const scale = UNITS[unit];
  if (m === null || scale === undefined) throw new RangeError(`"${text}" is not a rate: write it as tc does, e.g. 8mbit, 800kbit, 1gbit, or a number of bit/s`);
  const bps = Number(m[1]) * scale;
  if (!(bps > 0)) throw new RangeError(`a rate must be above 0, got "${text}"`);
  return Math.round(bps);
}

/** "<dpid>:<port>=<rate>" or "<port name>=<rate>", as the config file and the flag give it. */
export function parsePortCapacity(text: string): [port: string, bps: number] {
  const at = text.lastIndexOf('=');
  if (at <= 0) throw new RangeError(`"${text}" is not <port>=<rate> (port: <dpid>:<number> or an interface name such as s1-eth2)`);
  return [text.slice(0, at).trim().toLowerCase(), parseRate(text.slice(at + 1))];
}

export interface CapacitySettings {
  /** Per sending port, by "<dpid>:<port>" (16 hex digits) or by the port's name (s1-eth2): the config file's. */
  readonly perPort?: ReadonlyMap<string, number>;
  /** Per sending port "<dpid>:<port>", from a topology file. */
  readonly topology?: ReadonlyMap<string, number>;
  /** For every link no other source (but the port speed) knows. */
  readonly defaultBps?: number;
}

/**
 * The sources held in one place, each looked up in O(1) per link direction. The API's overrides
 * and the shaping rates found on interfaces change at run time; the rest is fixed at start.
 */
export class CapacityResolver {
  private readonly api = new Map<string, number>();
  private readonly shaping = new Map<string, number>();
  private readonly perPort: ReadonlyMap<string, number>;
  private readonly topology: ReadonlyMap<string, number>;
  private readonly defaultBps: number | undefined;

  constructor(settings: CapacitySettings = {}) {
    const perPort = new Map<string, number>();
    for (const [k, v] of settings.perPort ?? []) perPort.set(k.toLowerCase(), v);
    this.perPort = perPort;
    this.topology = settings.topology ?? new Map();
    this.defaultBps = settings.defaultBps;
  }

  /** The capacity of the direction sent out of `src`, whose port is named `name` and reports `portBps`. */
  resolve(src: Endpoint, name: string | undefined, portBps: number): Capacity {
    const key = endpointKey(src);
    const lname = name?.toLowerCase();
    return resolveCapacity({
      api: this.api.get(key),
      config: this.perPort.get(key) ?? (lname === undefined ? undefined : this.perPort.get(lname)),
      topology: this.topology.get(key),
      tc: name === undefined ? undefined : this.shaping.get(name),
      configDefault: this.defaultBps,
      port: portBps,
    });
  }

  /** Sets (bps > 0) or clears (undefined) the run-time override of one sending port. */
  setOverride(src: Endpoint, bps: number | undefined): void {
    if (bps === undefined) this.api.delete(endpointKey(src));
    else this.api.set(endpointKey(src), bps);
  }

  override(src: Endpoint): number | undefined {
    return this.api.get(endpointKey(src));
  }

  /** The shaping rate found on an interface (undefined: none); returns whether it changed. */
  setShaping(name: string, bps: number | undefined): boolean {
    const before = this.shaping.get(name);
    if (bps === undefined || !(bps > 0)) this.shaping.delete(name);
    else this.shaping.set(name, bps);
    return before !== this.shaping.get(name);
  }
}
