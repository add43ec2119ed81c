// The emulator: N switches joined to one controller, one network behind them (cbench or fabric),
// one echo tick for all of them, and the counters a driver reads. Runs in its own process
// (main.ts) so that its CPU is not the controller's.
import { performance } from 'node:perf_hooks';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import { CbenchNetwork, type TrafficMode } from './cbench.ts';
import { FabricNetwork, type LoadTarget } from './fabric.ts';
import { summarize, type EmuConfig, type EmuStats } from './protocol.ts';
import { EmuOfSwitch, type SwitchHooks } from './switch.ts';
import { cbenchWiring, fatTreeWiring, type Wiring } from './wiring.ts';

/** Echoes go out in this many slices of the interval, so 1,280 switches do not probe at once. */
const ECHO_SLICES = 10;

export class Emulator {
  readonly wiring: Wiring;
  readonly switches: EmuOfSwitch[];
  private readonly cbench: CbenchNetwork | undefined;
  private readonly fabric: FabricNetwork | undefined;
  private stopEcho: Cancel | undefined;
  private stopExpiry: Cancel | undefined;
  private windowStart = performance.now();
  private cpuMark = process.cpuUsage();

  constructor(
    private readonly config: EmuConfig,
    private readonly clock: Clock = systemClock,
  ) {
    let hooks: SwitchHooks;
    if (config.mode === 'cbench') {
      this.wiring = cbenchWiring(config);
      this.cbench = new CbenchNetwork(config);
      this.cbench.lostAfterMs = config.lostAfterMs;
      hooks = this.cbench;
    } else {
      this.wiring = fatTreeWiring(config.k);
      this.fabric = new FabricNetwork(this.wiring, { deliverAll: config.deliverAll, hostDelayMs: config.hostDelayMs, clock });
      hooks = this.fabric;
    }
    const opts = { host: config.host, port: config.port, clock, reconnectMs: config.reconnectMs };
    this.switches = this.wiring.switches.map((s, i) => new EmuOfSwitch(i, s.dpid, s.nPorts, hooks, opts));
    this.cbench?.attach(this.switches);
    this.fabric?.attach(this.switches);
  }

  /** Connects every switch, a few at a time (a burst of SYNs overflows the listen backlog). */
  async start(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.switches.length) await this.switches[next++]!.start();
    };
    await Promise.all(Array.from({ length: Math.max(1, this.config.connectConcurrency) }, worker));
    if (this.cbench) {
      const cb = this.cbench;
      this.stopExpiry = this.clock.setInterval(() => cb.expire(), 100);
    }
    if (this.config.echoIntervalMs > 0) {
      let slice = 0;
      this.stopEcho = this.clock.setInterval(() => {
        for (let i = slice; i < this.switches.length; i += ECHO_SLICES) this.switches[i]!.probeEcho();
        slice = (slice + 1) % ECHO_SLICES;
      }, this.config.echoIntervalMs / ECHO_SLICES);
    }
  }

  stop(): void {
    this.stopEcho?.();
    this.stopExpiry?.();
    this.cbench?.setMode('off');
    for (const s of this.switches) s.stop();
  }

  announce(): number {
    return this.cbench?.announceDestinations() ?? this.fabric?.announceHosts() ?? 0;
  }

  traffic(mode: TrafficMode, cap?: number): void {
    if (this.cbench === undefined) throw new Error('traffic needs cbench mode');
    this.cbench.setMode(mode, cap);
  }

  storm(switchIndex: number, durationMs: number): Promise<number> {
    if (this.cbench === undefined) throw new Error('storm needs cbench mode');
    return this.cbench.storm(switchIndex, durationMs);
  }

  setLoad(target: LoadTarget, bps: number): string[] {
    if (this.fabric === undefined) throw new Error('loads need fabric mode');
    return this.fabric.setLoad(target, bps);
  }

  cable(linkId: string, up: boolean): void {
    if (this.fabric === undefined) throw new Error('cables need fabric mode');
    this.fabric.setCable(linkId, up);
  }

  /** Reads the counters and starts a new window. */
  stats(): EmuStats {
    const now = performance.now();
    const windowMs = now - this.windowStart;
    this.windowStart = now;
    const cpu = process.cpuUsage(this.cpuMark);
    this.cpuMark = process.cpuUsage();
    const totals = { flowMods: 0, groupMods: 0, meterMods: 0, packetOuts: 0, barriers: 0, portStatsRequests: 0 };
    const echoRtts: number[] = [];
    let echoSent = 0;
    let echoAnswered = 0;
    let echoLate = 0;
    let maxWait = 0;
    let connected = 0;
    let featured = 0;
    let closes = 0;
    let connects = 0;
    for (const s of this.switches) {
      const c = s.counters;
      totals.flowMods += c.flowMods;
      totals.groupMods += c.groupMods;
      totals.meterMods += c.meterMods;
      totals.packetOuts += c.packetOuts;
      totals.barriers += c.barriers;
      totals.portStatsRequests += c.portStatsRequests;
      closes += c.closes;
      connects += c.connects;
      if (s.connected) connected++;
      if (s.featured) featured++;
      const e = s.echo;
      echoSent += e.sent;
      echoAnswered += e.answered;
      echoLate += e.late;
      maxWait = Math.max(maxWait, e.maxWaitMs);
      for (const r of e.rttsMs) echoRtts.push(r);
      e.sent = 0;
      e.answered = 0;
      e.late = 0;
      e.rttsMs = [];
      e.maxWaitMs = 0;
    }
    const w = this.cbench?.takeWindow();
    return {
      windowMs,
      switches: this.switches.length,
      connected,
      featured,
      closes,
      connects,
      ...(w && this.cbench
        ? { cbench: { sent: w.sent, answered: w.answered, lost: w.lost, answeredByFlowMod: w.answeredByFlowMod, outstanding: this.cbench.outstandingCount(), rttMs: summarize(w.rttsMs) } }
        : {}),
      echo: { sent: echoSent, answered: echoAnswered, late: echoLate, rttMs: summarize(echoRtts), maxWaitMs: maxWait },
      totals: {
        ...totals,
        delivered: this.fabric?.delivered ?? 0,
        hostAnnouncements: this.fabric?.hostAnnouncements ?? 0,
        stormSent: this.cbench?.stormSent ?? 0,
      },
      emulatorCpuPct: windowMs > 0 ? ((cpu.user + cpu.system) / 1000 / windowMs) * 100 : 0,
    };
  }
}
