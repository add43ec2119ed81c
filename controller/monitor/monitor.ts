// The monitor: polls port statistics of every switch, turns them into per-direction link load and
// congestion levels, and keeps the cost map. It publishes nothing itself; it emits what it found.
// The cost map's structure is rebuilt when links or attachment points change (once per burst of
// topology events), its figures after each poll, only where a link's load moved.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { Discovery } from '../topology/discovery.ts';
import { endpointKey, type Endpoint, type Host, type Link } from '../topology/types.ts';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import { RateTracker, type PortRate } from './rates.ts';
import { defaultDelayLevelSettings, defaultLevelSettings, validateLevelSettings, type LevelSettings } from './levels.ts';
import { Prober } from './probes.ts';
import { assess, emptyAssessment, type Assessment, type LevelChange, type LinkLoad } from './assess.ts';
import { CostMap, type CostMapChange, type CostMapView } from './costmap.ts';

export interface MonitorOptions {
  /** Port statistics period (ms), 100 at the least. */
  readonly pollIntervalMs?: number;
  readonly levels?: Partial<LevelSettings>;
  /** Delay probes (probes.ts): one per link direction per this many ms; absent or 0: none. */
  readonly probeIntervalMs?: number;
  /** The probes' baseline window (ms; default 120 s). */
  readonly probeBaselineWindowMs?: number;
  /** Queueing-delay level thresholds, in ms above the baseline. */
  readonly delayLevels?: Partial<LevelSettings>;
  /**
   * Links coming up and attachment points changing are gathered for this long (ms) into one cost
   * map rebuild: discovery brings them in thousands at data-center scale. Default 250, or twice
   * the last rebuild's time if that is longer. Links going down rebuild at once.
   */
  readonly costRebuildDelayMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface MonitorEvents {
  /** After every poll: the load of every link direction. */
  assessed: [Assessment];
  level_change: [LevelChange];
  /** The cost map changed: after a poll (figures) or a topology change (structure). */
  costs: [CostMapChange];
}

export class Monitor extends EventEmitter<MonitorEvents> {
  readonly pollIntervalMs: number;
  readonly settings: LevelSettings;
  readonly delaySettings: LevelSettings;
  /** The delay prober, when probing. */
  readonly prober: Prober | undefined;
  private readonly rates = new RateTracker();
  private last: Assessment = emptyAssessment;
  private polling = false;
  private stopTimer: Cancel | undefined;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly onSwitchUp = (s: { dpid: string }): void => this.rates.forgetSwitch(s.dpid);
  private readonly onReleased = (dpid: string): void => this.rates.forgetSwitch(dpid);
  private readonly costs: CostMap;
  /** Hosts per switch, kept from discovery's events so the attachment points cost O(1) per event. */
  private readonly hostsAt = new Map<string, number>();
  private rebuildQueued = false;
  private rebuildTimer: Cancel | undefined;
  private readonly rebuildDelayMs: number;
  /** How long the last rebuild took (ms): growth waits at least twice that, so rebuilds take at most a third of the time. */
  private lastRebuildMs = 0;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly controller: Controller,
    private readonly discovery: Discovery,
    opts: MonitorOptions = {},
  ) {
    super();
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    if (!Number.isInteger(this.pollIntervalMs) || this.pollIntervalMs < 100) {
      throw new Error(`poll interval must be a whole number of ms, 100 or more; got ${opts.pollIntervalMs}`);
    }
    this.settings = { ...defaultLevelSettings, ...opts.levels };
    validateLevelSettings(this.settings);
    this.delaySettings = { ...defaultDelayLevelSettings, ...opts.delayLevels };
    validateLevelSettings(this.delaySettings, 'delay level settings');
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.prober =
      opts.probeIntervalMs === undefined || opts.probeIntervalMs === 0
        ? undefined
        : new Prober(controller, discovery, { intervalMs: opts.probeIntervalMs, baselineWindowMs: opts.probeBaselineWindowMs, clock: opts.clock, logger: opts.logger });
    this.costs = new CostMap({ queueDelay: this.prober !== undefined });
    this.rebuildDelayMs = opts.costRebuildDelayMs ?? 250;
  }

  start(): void {
    this.controller.on('switch_up', this.onSwitchUp);
    this.controller.on('dpid_released', this.onReleased);
    const d = this.discovery;
    const cut = (): void => this.queueRebuild();
    const grown = (): void => this.rebuildLater();
    const added = (h: Host): void => this.countHost(h.at, 1);
    const moved = (h: Host, from: Endpoint): void => {
      this.countHost(from, -1);
      this.countHost(h.at, 1);
    };
    const removed = (h: Host): void => this.countHost(h.at, -1);
    d.on('link_up', grown);
    d.on('link_down', cut);
    d.on('host_added', added);
    d.on('host_moved', moved);
    d.on('host_removed', removed);
    this.unsubscribe.push(
      () => d.off('link_up', grown),
      () => d.off('link_down', cut),
      () => d.off('host_added', added),
      () => d.off('host_moved', moved),
      () => d.off('host_removed', removed),
    );
    this.hostsAt.clear();
    for (const h of d.hosts.values()) this.countHost(h.at, 1, false);
    this.rebuild();
    this.prober?.start();
    this.stopTimer = this.clock.setInterval(() => void this.poll(), this.pollIntervalMs);
  }

  stop(): void {
    this.stopTimer?.();
    this.prober?.stop();
    this.rebuildTimer?.();
    this.rebuildTimer = undefined;
    this.controller.off('switch_up', this.onSwitchUp);
    this.controller.off('dpid_released', this.onReleased);
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** The cost map: rows per attachment point, entries per destination, paths on request. */
  get costMap(): CostMapView {
    return this.costs;
  }

  /** The latest load of every known link direction. */
  loads(): LinkLoad[] {
    return [...this.last.loads.values()].sort((a, b) => (a.linkId < b.linkId ? -1 : 1));
  }

  /** Switches with hosts attached: the cost map's attachment points, sorted. */
  attachmentPoints(): string[] {
    return [...this.costs.pids()];
  }

  private countHost(at: Endpoint, by: 1 | -1, rebuild = true): void {
    const n = (this.hostsAt.get(at.dpid) ?? 0) + by;
    if (n > 0) this.hostsAt.set(at.dpid, n);
    else this.hostsAt.delete(at.dpid);
    // Only a switch gaining its first host or losing its last changes the attachment points.
    if (rebuild && (n === 0 || (n === 1 && by === 1))) this.rebuildLater();
  }

  /**
   * A cut: rebuild as soon as the current burst of events is over (a switch going down takes all
   * its links in one step), so readers hear of it at once.
   */
  private queueRebuild(): void {
    if (this.rebuildQueued) return;
    this.rebuildQueued = true;
    queueMicrotask(() => {
      if (!this.rebuildQueued) return;
      this.rebuild();
    });
  }

  /** Growth (links up, hosts at new switches) comes in long bursts during discovery: gather it. */
  private rebuildLater(): void {
    if (this.rebuildTimer !== undefined) return;
    this.rebuildTimer = this.clock.setTimeout(
      () => {
        this.rebuildTimer = undefined;
        this.rebuild();
      },
      Math.max(this.rebuildDelayMs, 2 * this.lastRebuildMs),
    );
  }

  private rebuild(): void {
    this.rebuildQueued = false;
    this.rebuildTimer?.();
    this.rebuildTimer = undefined;
    const started = this.clock.now();
    const live: Link[] = [];
    for (const l of this.discovery.links.values()) if (l.state === 'up') live.push(l);
    const change = this.costs.setStructure(live, this.hostsAt.keys());
    // Figures of live links the last poll measured, so a rebuilt map is priced at once; a link that
    // was down at that poll and is back now is priced by the next poll, not as down.
    const measured: LinkLoad[] = [];
    for (const load of this.last.loads.values()) if (load.level !== 'down') measured.push(load);
    const priced = this.costs.updateLoads(measured);
    this.lastRebuildMs = this.clock.now() - started;
    const rows = new Set([...change.rows, ...priced.rows]);
    if (rows.size > 0) this.emit('costs', { rows, structural: new Set([...change.structural, ...priced.structural]) });
  }

  /** One round: statistics from every switch at once, then one assessment. */
  async poll(): Promise<Assessment | undefined> {
    // A round that outlasts the period is not stacked on: the next tick finds it still running.
    if (this.polling) return undefined;
    this.polling = true;
    try {
      const fresh = new Map<string, PortRate>();
      await Promise.all(
        [...this.controller.switches.values()].map(async (s) => {
          try {
            const stats = await s.portStats();
            const now = this.clock.now();
            for (const st of stats) {
              const r = this.rates.update(s.dpid, st.portNo, st, now);
              if (r) fresh.set(endpointKey({ dpid: s.dpid, port: st.portNo }), r);
            }
          } catch (err) {
            this.log?.warn({ dpid: s.dpid, err: (err as Error).message }, 'port statistics request failed');
          }
        }),
      );
      this.last = assess(this.discovery.links.values(), fresh, this.last, this.settings, this.prober?.take(), this.delaySettings);
      const costs = this.costs.updateLoads(this.last.loads.values());
      this.emit('assessed', this.last);
      for (const c of this.last.changes) this.emit('level_change', c);
      if (costs.rows.size > 0) this.emit('costs', costs);
      return this.last;
    } finally {
      this.polling = false;
    }
  }
}
