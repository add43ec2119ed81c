// The controller's voice: what the monitor and discovery find becomes hints, each stamped once and
// sent to every reader at the same time: the MQTT bus, the WebSocket stream, the event log, /metrics.
// It also keeps the controller's retained status true: re-sent when the bus comes back, and put
// back when someone overwrites it.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { HintPublisher } from '../bus/publisher.ts';
import type { EventLog } from '../bus/eventlog/index.ts';
import { costColumns, type Hint, type HintBody } from '../bus/hints.ts';
import type { Controller } from './controller.ts';
import type { Discovery } from './topology/discovery.ts';
import type { Link, LinkDownReason } from './topology/types.ts';
import type { Monitor } from './monitor/monitor.ts';
import type { Assessment, LevelChange, LinkLoad } from './monitor/assess.ts';
import type { CostMapChange } from './monitor/costmap.ts';
import { RowGate, type RowGateOptions } from './monitor/rowgate.ts';
import type { StreamHub } from './api/stream.ts';
import type { ControllerMetrics } from './api/metrics.ts';
import type { SwitchSession } from './session.ts';
import { switchView } from './api/switches.ts';
import { linkView } from './api/links.ts';
import { systemClock, type Clock } from '../bus/clock.ts';
import { topics } from '../bus/topics.ts';
import { BusWatch, HintRejections, registerBusMetrics } from '../bus/watch.ts';

/** What the controller says about itself on meshflow/v1/controllers/<id>/status. */
export interface StatusAnnouncement {
  readonly controllerId: string;
  readonly apiUrl?: string;
}

/** A controller status put back at most this often: two controllers sharing an id must not flood. */
const STATUS_RESTORE_MS = 1000;

export interface AnnouncerOptions {
  readonly publisher: HintPublisher;
  readonly hub?: StreamHub;
  readonly metrics?: ControllerMetrics;
  readonly eventLog?: EventLog;
  /** A link state is sent again at least this often, so it never goes stale while true (cost rows: costRows.refreshMs). */
  readonly refreshMs?: number;
  /** A change in utilization smaller than this is not worth a new link state or cost row. */
  readonly utilizationDelta?: number;
  /** Cost rows: the per-row rate limit and refresh (see RowGate). */
  readonly costRows?: Omit<RowGateOptions, 'delta'>;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

interface Sent<T> {
  readonly value: T;
  readonly at: number;
}

export class Announcer {
  private readonly links = new Map<string, Sent<LinkLoad>>();
  private readonly rows: RowGate;
  private readonly refreshMs: number;
  private readonly delta: number;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly off: (() => void)[] = [];
  private watch: BusWatch | undefined;
  /** Hints the controller consumes and refused (the relay of sidecar weights and status). */
  readonly rejections: HintRejections;
  private status: { readonly body: StatusAnnouncement; payload: string | undefined; restoredAt: number; pending: (() => void) | undefined } | undefined;

  constructor(
    private readonly controller: Controller,
    private readonly discovery: Discovery,
    private readonly monitor: Monitor,
    private readonly opts: AnnouncerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.refreshMs = opts.refreshMs ?? 3000;
    this.delta = opts.utilizationDelta ?? 0.05;
    this.rows = new RowGate({ delta: this.delta, ...opts.costRows });
    this.rejections = new HintRejections({ name: 'controller', ...(this.log ? { log: this.log } : {}), clock: this.clock });
    // meshflow_bus_connected, meshflow_bus_disconnects_total, meshflow_bus_reconnects_total, meshflow_hints_refused_total{code}
    if (opts.metrics) registerBusMetrics(opts.metrics.registry, 'meshflow', () => ({ ...(this.watch ? { health: this.watch } : {}), rejections: this.rejections }));
  }

  /** The bus connection's health, once attached. */
  get busHealth(): BusWatch | undefined {
    return this.watch;
  }

  /**
   * Announces this controller online on `client` and keeps it so: on every reconnect the status
   * and the latest link states and cost rows are sent again (a broker that restarted may have lost
   * them), and a status someone else put on our topic is replaced by ours.
   */
  async attachBus(client: MqttClient, status: StatusAnnouncement): Promise<void> {
    this.status = { body: status, payload: undefined, restoredAt: -Infinity, pending: undefined };
    this.watch = new BusWatch(client, {
      name: 'controller',
      clock: this.clock,
      ...(this.log ? { log: this.log } : {}),
      onReconnect: ({ sessionPresent }) => {
        void this.announceStatus();
        // A clean session lost the subscription; sent after the status, so the copy we get back is ours.
        if (!sessionPresent) void watchOwn();
        this.resendRetained();
      },
    });
    const topic = topics.controller(status.controllerId);
    // Without it the controller still runs; it just cannot notice its status being overwritten.
    const watchOwn = () => client.subscribeAsync(topic, { qos: 1 }).catch((err: Error) => this.log?.warn({ err: err.message, topic }, 'controller: cannot watch its own status topic'));
    const restore = (): void => {
      const st = this.status;
      if (st === undefined) return;
      st.pending = undefined;
      st.restoredAt = this.clock.now();
      this.log?.warn({ topic }, 'controller: our retained status was replaced by another publisher; announcing it again');
      void this.announceStatus();
    };
    const onMessage = (t: string, payload: Buffer): void => {
      const st = this.status;
      if (t !== topic || st === undefined || st.pending !== undefined || payload.toString('utf8') === st.payload) return;
      // At most one restore per interval; one arriving sooner is put off, never dropped, so the
      // last word on the topic is ours.
      const wait = st.restoredAt + STATUS_RESTORE_MS - this.clock.now();
      if (wait <= 0) restore();
      else st.pending = this.clock.setTimeout(restore, wait);
    };
    client.on('message', onMessage);
    this.off.push(() => {
      client.off('message', onMessage);
      this.status?.pending?.();
      this.watch?.stop();
      this.rejections.flush();
    });
    await this.announceStatus();
    // Subscribed after our own status is in place, so the retained copy we are sent back is ours.
    await watchOwn();
  }

  /** Sends the online status; resolves on PUBACK (never rejects: a broker away gets it on reconnect). */
  announceStatus(): Promise<void> {
    const st = this.status;
    if (st === undefined) return Promise.resolve();
    const out = this.sendQuiet({ kind: 'controller_status', controllerId: st.body.controllerId, state: 'online', ...(st.body.apiUrl === undefined ? {} : { apiUrl: st.body.apiUrl }) });
    if (out === undefined) return Promise.resolve();
    st.payload = JSON.stringify(out.hint);
    return out.acked.catch((err: Error) => this.log?.warn({ err: err.message }, 'controller: status not acknowledged by the broker'));
  }

  /** The latest link state of every link and every cost row, sent again now. */
  resendRetained(): void {
    for (const sent of [...this.links.values()]) this.sendLink(sent.value, this.clock.now());
    this.sendRows(this.monitor.costMap.pids());
  }

  start(): void {
    const on = <E extends object>(emitter: { on(e: string, f: never): E; off(e: string, f: never): E }, event: string, f: (...a: never[]) => void): void => {
      emitter.on(event, f as never);
      this.off.push(() => emitter.off(event, f as never));
    };
    on(this.monitor, 'assessed', (a: Assessment) => this.onAssessed(a));
    on(this.monitor, 'level_change', (c: LevelChange) => this.onLevelChange(c));
    on(this.monitor, 'costs', (c: CostMapChange) => this.onCosts(c));
    // Details carry what a dashboard needs to draw the change without asking the API.
    on(this.discovery, 'link_up', (l: Link) => this.event({ kind: 'event', event: 'link_up', linkId: l.id, detail: { link: linkView(l) } }));
    on(this.discovery, 'link_down', (l: Link, reason: LinkDownReason) =>
      this.event({ kind: 'event', event: 'link_down', linkId: l.id, level: 'down', detail: { link: linkView(l), reason } }),
    );
    on(this.controller, 'switch_up', (s: SwitchSession) =>
      this.event({ kind: 'event', event: 'switch_up', dpid: s.dpid, detail: { switch: switchView(s) } }),
    );
    on(this.controller, 'switch_down', (s: SwitchSession, reason: string) =>
      this.event({ kind: 'event', event: 'switch_down', dpid: s.dpid, detail: { reason } }),
    );
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** A path chosen for an intent changed (moved, lost, restored): one more event, stamped like the rest. */
  pathChange(detail: Record<string, unknown>): void {
    this.event({ kind: 'event', event: 'path_change', detail });
  }

  private onLevelChange({ load, from }: LevelChange): void {
    if (load.level === 'congested') {
      this.event({ kind: 'event', event: 'congestion_onset', linkId: load.linkId, level: load.level, utilization: load.utilization });
    } else if (from === 'congested' && load.level !== 'down') {
      this.event({ kind: 'event', event: 'congestion_clear', linkId: load.linkId, level: load.level, utilization: load.utilization });
    }
  }

  private onAssessed(a: Assessment): void {
    const now = this.clock.now();
    for (const load of a.loads.values()) {
      this.opts.metrics?.setLink(load.linkId, load.utilization, load.level);
      const prev = this.links.get(load.linkId);
      if (
        prev &&
        prev.value.level === load.level &&
        Math.abs(prev.value.utilization - load.utilization) <= this.delta &&
        // A queue that moved by more than a millisecond is news too.
        Math.abs((prev.value.queueDelayMs ?? 0) - (load.queueDelayMs ?? 0)) <= 1 &&
        now - prev.at < this.refreshMs
      ) {
        continue;
      }
      this.sendLink(load, now);
    }
    // Rows held back by the rate limit, and rows due for their refresh.
    this.sendRows(this.rows.due(now, (pid) => this.monitor.costMap.row(pid)));
  }

  private sendLink(load: LinkLoad, now: number): void {
    this.links.set(load.linkId, { value: load, at: now });
    this.send({
      kind: 'link_state',
      linkId: load.linkId,
      src: load.src,
      dst: load.dst,
      capacityBps: load.capacityBps,
      capacitySource: load.capacitySource,
      rateBps: Math.round(load.rateBps),
      utilization: Math.round(load.utilization * 1000) / 1000,
      drops: Math.round(load.drops * 10) / 10,
      level: load.level,
      // Delay figures to 0.01 ms, when the probes have them.
      ...(load.delayMs === undefined
        ? {}
        : { delayMs: round2(load.delayMs), baseDelayMs: round2(load.baseDelayMs ?? 0), queueDelayMs: round2(load.queueDelayMs ?? 0) }),
    });
  }

  private onCosts(change: CostMapChange): void {
    const map = this.monitor.costMap;
    if (change.structural.size > 0) this.rows.keepOnly(map.pids());
    this.sendRows(this.rows.changed(change, (pid) => map.row(pid), this.clock.now()));
  }

  private sendRows(pids: Iterable<string>): void {
    const map = this.monitor.costMap;
    const now = this.clock.now();
    for (const srcPid of pids) {
      const row = map.row(srcPid);
      if (row === undefined) continue;
      this.rows.sent(srcPid, row, now);
      this.send({ kind: 'cost_row', srcPid, costs: costColumns(row) });
    }
  }

  private event(body: HintBody & { kind: 'event' }): void {
    const hint = this.send(body);
    if (hint && this.opts.eventLog) {
      this.opts.eventLog.append(hint).catch((err: Error) => this.log?.error({ err: err.message }, 'event log append failed'));
    }
  }

  /** Stamps and sends a hint that stream readers need not see (the controller's own status). */
  private sendQuiet(body: HintBody): { hint: Hint; acked: Promise<void> } | undefined {
    try {
      return this.opts.publisher.send(body);
    } catch (err) {
      this.log?.error({ err: (err as Error).message, kind: body.kind }, 'hint refused by its schema');
      return undefined;
    }
  }

  /** Stamps a hint once; the bus, the stream and the log all see the same seq and ts. */
  private send(body: HintBody): Hint | undefined {
    try {
      const out = this.opts.publisher.send(body);
      if (!out) return undefined;
      out.acked.catch((err: Error) => this.log?.warn({ err: err.message, kind: body.kind }, 'hint not acknowledged by the broker'));
      this.opts.hub?.publish(out.hint);
      return out.hint;
    } catch (err) {
      this.log?.error({ err: (err as Error).message, kind: body.kind }, 'hint refused by its schema');
      return undefined;
    }
  }
}

const round2 = (ms: number): number => Math.round(ms * 100) / 100;
