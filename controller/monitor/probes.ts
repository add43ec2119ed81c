// Delay probes: each link direction's one-way delay, measured with a timestamped frame sent as a
// packet-out at the source port and taken back as a packet-in at the destination switch, less the
// two switches' control-channel delays (half their echo round trips). A baseline (the minimum over a
// sliding window) is the link's delay with empty queues; what lies above it is queueing delay, which
// shows congestion where the link's capacity, and so its utilization, is unknown or wrong.
//
// Rate: one probe per link direction per interval, spread over the interval in slots, and one echo
// request per switch per interval; past a budget of probes per second for the whole network, each
// round probes the next share of the link directions in turn, so a large fabric stretches the
// interval of each direction instead of the controller's load. Work per round is O(live links);
// per probe O(1).
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { Discovery } from '../topology/discovery.ts';
import type { SwitchSession } from '../session.ts';
import { linkId, type Endpoint, type Link } from '../topology/types.ts';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import { OFP_NO_BUFFER, OFPP_CONTROLLER } from 'openflow-ts';
import { buildEthernet, buildProbe, ETH_TYPE_PROBE, parseProbe, PROBE_MULTICAST, PROBE_PAYLOAD_BYTES, untaggedEthType } from '../packet/index.ts';

/** A probe on the wire: Ethernet header + payload, plus FCS (4), preamble (8) and inter-frame gap (12). */
export const PROBE_WIRE_BYTES = 14 + PROBE_PAYLOAD_BYTES + 4 + 8 + 12;

/** What probing costs one link direction, in bit/s on the wire, at one probe per interval. */
export function probeOverheadBps(intervalMs: number): number {
  return (PROBE_WIRE_BYTES * 8 * 1000) / intervalMs;
}

export interface ProberOptions {
  /** One probe per link direction, and one echo per switch, per this many ms (100 at the least). */
  readonly intervalMs?: number;
  /** The baseline is the least delay seen over this long (ms; default 120 s). */
  readonly baselineWindowMs?: number;
  /** Probes per second for the whole network at the most (default 1000): beyond it directions take turns. */
  readonly maxProbesPerSec?: number;
  /** Timers. */
  readonly clock?: Clock;
  /**
   * Send and receive stamps, ms (fractional): the system clock's Date.now() has whole milliseconds,
   * too coarse for sub-millisecond delays, so the default with the system clock is performance.now().
   */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** One link direction's latest figures, ms. */
export interface DelayFigures {
  /** One-way delay of the latest probe. */
  readonly delayMs: number;
  /** The least delay over the baseline window: the link with empty queues. */
  readonly baseDelayMs: number;
  /** delayMs − baseDelayMs. */
  readonly queueDelayMs: number;
}

interface LinkDelay {
  seq: number;
  latest: DelayFigures | undefined;
  /** Sliding minimum: (time, delay) pairs with increasing delays, oldest first. */
  readonly window: { at: number; d: number }[];
  // Since the last take(): sums for the mean the monitor assesses.
  n: number;
  sumDelay: number;
  sumQueue: number;
}

/** Echo round trips kept per switch; the estimate is their least, so one reply held up by a busy event loop does not count. */
const RTT_SAMPLES = 4;
/** Probes of one round are sent in this many slots spread over the interval. */
const SLOTS = 10;

const hrNow = (): number => performance.timeOrigin + performance.now();

export class Prober {
  readonly intervalMs: number;
  /** Link directions probed per round at the most. */
  readonly perRound: number;
  readonly counters = { sent: 0, received: 0, foreign: 0, malformed: 0, misdelivered: 0, noEcho: 0, echoFailed: 0 };
  private readonly baselineMs: number;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly rtts = new Map<string, number[]>();
  private readonly delays = new Map<string, LinkDelay>();
  private readonly timers = new Set<Cancel>();
  private stopRound: Cancel | undefined;
  /** Where the next round's share starts, when directions take turns. */
  private turn = 0;
  private readonly off: (() => void)[] = [];

  constructor(
    private readonly controller: Controller,
    private readonly discovery: Discovery,
    opts: ProberOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 100) {
      throw new Error(`probe interval must be a whole number of ms, 100 or more; got ${opts.intervalMs}`);
    }
    const budget = opts.maxProbesPerSec ?? 1000;
    if (!(budget > 0)) throw new Error(`probe budget must be above 0 probes per second; got ${opts.maxProbesPerSec}`);
    this.perRound = Math.max(1, Math.floor((budget * this.intervalMs) / 1000));
    this.baselineMs = opts.baselineWindowMs ?? 120_000;
    if (!(this.baselineMs >= this.intervalMs)) throw new Error(`probe baseline window must be at least one probe interval; got ${opts.baselineWindowMs}`);
    this.clock = opts.clock ?? systemClock;
    const clock = this.clock;
    this.now = opts.now ?? (clock === systemClock ? hrNow : () => clock.now());
    this.log = opts.logger;
  }

  start(): void {
    this.off.push(this.discovery.intercept((at, data) => this.onPacketIn(at, data)));
    const down = (l: Link): void => void this.delays.delete(l.id);
    const gone = (s: SwitchSession): void => void this.rtts.delete(s.dpid);
    this.discovery.on('link_down', down);
    this.controller.on('switch_down', gone);
    this.off.push(
      () => this.discovery.off('link_down', down),
      () => this.controller.off('switch_down', gone),
    );
    this.round();
    this.stopRound = this.clock.setInterval(() => this.round(), this.intervalMs);
  }

  stop(): void {
    this.stopRound?.();
    this.stopRound = undefined;
    for (const t of this.timers) t();
    this.timers.clear();
    for (const f of this.off.splice(0)) f();
  }

  /** The latest figures of a link direction, if a probe of it has come back since it came up. */
  figures(id: string): DelayFigures | undefined {
    return this.delays.get(id)?.latest;
  }

  /**
   * The mean figures of each link direction probed since the last call (the monitor calls it once per
   * poll), the baseline as it is now; directions with no probe back since are absent.
   */
  take(): Map<string, DelayFigures> {
    const out = new Map<string, DelayFigures>();
    for (const [id, s] of this.delays) {
      if (s.n === 0 || s.latest === undefined) continue;
      out.set(id, { delayMs: s.sumDelay / s.n, baseDelayMs: s.latest.baseDelayMs, queueDelayMs: s.sumQueue / s.n });
      s.n = 0;
      s.sumDelay = 0;
      s.sumQueue = 0;
    }
    return out;
  }

  /** Half the echo round trip to a switch: its control channel's one-way delay (ms), once measured. */
  controlDelayMs(dpid: string): number | undefined {
    const r = this.rtts.get(dpid);
    return r === undefined || r.length === 0 ? undefined : Math.min(...r) / 2;
  }

  /** One round: an echo to every switch now, then the live links' probes in slots over the interval. */
  private round(): void {
    for (const s of this.controller.switches.values()) void this.echo(s);
    let links: Link[] = [];
    for (const l of this.discovery.links.values()) if (l.state === 'up') links.push(l);
    if (links.length === 0) return;
    if (links.length > this.perRound) links = this.share(links);
    const slots = Math.min(SLOTS, links.length);
    const per = Math.ceil(links.length / slots);
    for (let k = 0; k < slots; k++) {
      const chunk = links.slice(k * per, (k + 1) * per);
      // Half a slot late, so the first probes find this round's echo replies already back.
      this.later(() => this.sendAll(chunk), ((k + 0.5) * this.intervalMs) / slots);
    }
  }

  /** This round's share of the directions, in a stable order (by id), the next share next round. */
  private share(links: Link[]): Link[] {
    links.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    const start = this.turn % links.length;
    const picked = links.slice(start, start + this.perRound);
    if (picked.length < this.perRound) picked.push(...links.slice(0, this.perRound - picked.length));
    this.turn = start + this.perRound;
    return picked;
  }

  private later(fn: () => void, ms: number): void {
    const cancel = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      fn();
    }, ms);
    this.timers.add(cancel);
  }

  private sendAll(links: readonly Link[]): void {
    for (const l of links) {
      // A link gone down since the round began is not probed.
      if (this.discovery.links.get(l.id)?.state === 'up') this.send(l);
    }
  }

  private send(link: Link): void {
    const s = this.controller.switches.get(link.src.dpid);
    const port = s?.ports.get(link.src.port);
    if (s === undefined || port === undefined) return;
    let st = this.delays.get(link.id);
    if (st === undefined) {
      st = { seq: 0, latest: undefined, window: [], n: 0, sumDelay: 0, sumQueue: 0 };
      this.delays.set(link.id, st);
    }
    st.seq = (st.seq + 1) >>> 0;
    const payload = buildProbe({ instance: this.discovery.instance, src: link.src, dst: link.dst, seq: st.seq, sentAt: this.now() });
    const data = buildEthernet({ dst: PROBE_MULTICAST, src: port.hwAddr, ethType: ETH_TYPE_PROBE, payload });
    this.counters.sent++;
    s.send({ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort: OFPP_CONTROLLER, actions: [{ type: 'output', port: link.src.port, maxLen: 0 }], data });
  }

  private async echo(s: SwitchSession): Promise<void> {
    const t0 = this.now();
    try {
      await s.request({ type: 'echo_request', data: Buffer.alloc(0) });
    } catch (err) {
      this.counters.echoFailed++;
      this.log?.debug({ dpid: s.dpid, err: (err as Error).message }, 'echo for the delay probes failed');
      return;
    }
    const rtt = this.now() - t0;
    let r = this.rtts.get(s.dpid);
    if (r === undefined) {
      r = [];
      this.rtts.set(s.dpid, r);
    }
    r.push(rtt);
    if (r.length > RTT_SAMPLES) r.shift();
  }

  /** Discovery's interceptor: true for every probe frame (ours or not), so none is learned from or forwarded. */
  private onPacketIn(at: Endpoint, data: Buffer): boolean {
    if (untaggedEthType(data) !== ETH_TYPE_PROBE) return false;
    const receivedAt = this.now();
    const parsed = parseProbe(data.subarray(14));
    if (!parsed.ok) {
      this.counters.malformed++;
      return true;
    }
    const p = parsed.value;
    if (p.instance !== this.discovery.instance) {
      this.counters.foreign++;
      return true;
    }
    // Arrived elsewhere than the link it was sent for: the cabling changed; discovery will tell.
    if (p.dst.dpid !== at.dpid || p.dst.port !== at.port) {
      this.counters.misdelivered++;
      return true;
    }
    const st = this.delays.get(linkId(p.src, p.dst));
    if (st === undefined) return true;
    const cs = this.controlDelayMs(p.src.dpid);
    const cd = this.controlDelayMs(p.dst.dpid);
    if (cs === undefined || cd === undefined) {
      this.counters.noEcho++;
      return true;
    }
    this.counters.received++;
    const delay = Math.max(0, receivedAt - p.sentAt - cs - cd);
    const base = slidingMin(st.window, receivedAt, delay, this.baselineMs);
    const figures = { delayMs: delay, baseDelayMs: base, queueDelayMs: Math.max(0, delay - base) };
    st.latest = figures;
    st.n++;
    st.sumDelay += figures.delayMs;
    st.sumQueue += figures.queueDelayMs;
    return true;
  }
}

/**
 * Adds (at, d) to a monotonic window and returns its minimum over the last windowMs: amortized O(1).
 * The window holds only samples that could still become the minimum.
 */
export function slidingMin(window: { at: number; d: number }[], at: number, d: number, windowMs: number): number {
  while (window.length > 0 && (window[window.length - 1] as { d: number }).d >= d) window.pop();
  window.push({ at, d });
  while ((window[0] as { at: number }).at < at - windowMs) window.shift();
  return (window[0] as { d: number }).d;
}
