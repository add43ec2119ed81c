// The monitor: polls port statistics of every switch, turns them into per-direction link load and
// congestion levels, and computes the cost map. It publishes nothing itself; it emits what it found.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { Discovery } from '../topology/discovery.ts';
import { graphOf } from '../topology/snapshot.ts';
import { endpointKey } from '../topology/types.ts';
import { systemClock, type Cancel, type Clock } from '../../bus/clock.ts';
import { RateTracker, type PortRate } from './rates.ts';
import { defaultLevelSettings, validateLevelSettings, type LevelSettings } from './levels.ts';
import { assess, emptyAssessment, type Assessment, type LevelChange, type LinkLoad } from './assess.ts';
import { costRow, type CostEntry } from './costmap.ts';

export interface MonitorOptions {
  /** Port statistics period (ms), 100 at the least. */
  readonly pollIntervalMs?: number;
  readonly levels?: Partial<LevelSettings>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface MonitorEvents {
  /** After every poll: the load of every link direction. */
  assessed: [Assessment];
  level_change: [LevelChange];
}

export class Monitor extends EventEmitter<MonitorEvents> {
  readonly pollIntervalMs: number;
  readonly settings: LevelSettings;
  private readonly rates = new RateTracker();
  private last: Assessment = emptyAssessment;
  private polling = false;
  private stopTimer: Cancel | undefined;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly onSwitchUp = (s: { dpid: string }): void => this.rates.forgetSwitch(s.dpid);

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
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
  }

  start(): void {
    this.controller.on('switch_up', this.onSwitchUp);
    this.stopTimer = this.clock.setInterval(() => void this.poll(), this.pollIntervalMs);
  }

  stop(): void {
    this.stopTimer?.();
    this.controller.off('switch_up', this.onSwitchUp);
  }

  /** The latest load of every known link direction. */
  loads(): LinkLoad[] {
    return [...this.last.loads.values()].sort((a, b) => (a.linkId < b.linkId ? -1 : 1));
  }

  /** Switches with hosts attached: the cost map's attachment points. */
  attachmentPoints(): string[] {
    return [...new Set([...this.discovery.hosts.values()].map((h) => h.at.dpid))].sort();
  }

  costRows(): Map<string, CostEntry[]> {
    const g = graphOf(this.discovery.snapshot());
    const pids = this.attachmentPoints();
    return new Map(pids.map((src) => [src, costRow(g, src, pids, this.last.loads)]));
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
      this.last = assess(this.discovery.links.values(), fresh, this.last, this.settings);
      this.emit('assessed', this.last);
      for (const c of this.last.changes) this.emit('level_change', c);
      return this.last;
    } finally {
      this.polling = false;
    }
  }
}
