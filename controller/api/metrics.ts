// Prometheus metrics for the controller at /metrics. Counters that the controller and its sessions
// already keep are read at scrape time (collect), so the hot paths carry no metrics code; link load and
// level are pushed by the monitor through setLink. Its own Registry: two controllers in one process
// (tests, embedded use) never mix their series, and nothing leaks into prom-client's global registry.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Controller, RefusalCounters } from '../controller.ts';
import type { SwitchSession } from '../session.ts';
import type { Level } from '../monitor/levels.ts';
import type { StreamHub } from './stream.ts';
import type { AdmissionCounters } from '../admission.ts';

/** The counters of a group's roles that /metrics reads (cluster/roles.ts ClusterCounters). */
export interface ClusterCountersView {
  readonly takeovers: number;
  readonly promotions: number;
  readonly demotions: number;
  readonly isSlaveErrors: number;
  readonly claimFailures: number;
}

/** Numeric encoding of a level for the link level gauge: higher is worse, and down is worst. */
export const LEVEL_VALUE: Readonly<Record<Level, number>> = { ok: 0, warning: 1, congested: 2, down: 3 };

export interface ControllerMetricsOptions {
  /** Also count the stream's clients and messages. */
  readonly hub?: StreamHub;
  /** process_* and nodejs_* metrics (CPU, memory, event loop lag); on by default. */
  readonly processMetrics?: boolean;
  /** Packet-ins admitted and dropped by the per-switch admission. */
  readonly admission?: { readonly counters: AdmissionCounters };
}

/** Label value → the listener's refusal counter. */
const REFUSAL_CAUSES = {
  connection_limit: 'connectionLimit',
  unready_evicted: 'unreadyEvicted',
  handshake_timeout: 'handshakeTimeout',
  takeover_refused: 'takeoverRefused',
  tls_failure: 'tlsFailure',
} as const satisfies Record<string, keyof RefusalCounters>;

type SessionTally = { rx: number; tx: number; packetIns: number; flowMods: number; switchErrors: number };

const zero = (): SessionTally => ({ rx: 0, tx: 0, packetIns: 0, flowMods: 0, switchErrors: 0 });

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly linkUtilization: Gauge<'link'>;
  private readonly linkLevel: Gauge<'link'>;
  /**
   * What replaced sessions counted, per dpid, so that a switch's counters do not go backwards when a
   * new connection takes its datapath id over. Kept only while the dpid is connected: a switch that
   * leaves takes its series with it (a returning one starts again from 0, which Prometheus reads as
   * a counter reset), or throwaway datapath ids would grow /metrics without bound.
   */
  private readonly retired = new Map<string, SessionTally>();
  /** Unsolicited OFPT_ERRORs per live session: the session does not count them itself. */
  private readonly switchErrors = new WeakMap<SwitchSession, number>();
  private readonly unwire: () => void;

  constructor(
    private readonly controller: Controller,
    opts: ControllerMetricsOptions = {},
  ) {
    const registers = [this.registry];
    const perSwitch = (field: keyof SessionTally) => this.perSwitch(field);
    const c = controller.counters;

    new Gauge({
      name: 'meshflow_switches_connected',
      help: 'Switches with a completed OpenFlow handshake',
      registers,
      collect() {
        this.set(controller.switches.size);
      },
    });
    totalOf('meshflow_switch_connections_total', 'TCP connections accepted on the OpenFlow port', () => c.connections);
    totalOf('meshflow_handshake_failures_total', 'Connections closed before the OpenFlow handshake completed', () => c.rejected);
    totalOf('meshflow_switches_replaced_total', 'Switch sessions taken over by a new connection with the same datapath id (each also a switch_down with reason "replaced: ...")', () => c.replaced);
    const refused = controller.refused;
    new Counter({
      name: 'meshflow_openflow_refused_total',
      help: 'OpenFlow connections refused or closed by the listener, by cause: connection_limit, unready_evicted, handshake_timeout, takeover_refused, tls_failure',
      labelNames: ['cause'],
      registers,
      collect() {
        this.reset();
        for (const [cause, n] of Object.entries(REFUSAL_CAUSES)) this.inc({ cause }, refused[n]);
      },
    });
    totalOf('meshflow_malformed_messages_total', 'Malformed OpenFlow messages received (each one ends its connection)', () => c.malformed);
    perSwitchCounter('meshflow_openflow_messages_received_total', 'OpenFlow messages received, per switch', 'rx');
    perSwitchCounter('meshflow_openflow_messages_sent_total', 'OpenFlow messages sent, per switch', 'tx');
    perSwitchCounter('meshflow_packet_ins_total', 'PACKET_IN messages received, per switch', 'packetIns');
    perSwitchCounter('meshflow_flow_mods_total', 'FLOW_MOD messages sent, per switch', 'flowMods');
    perSwitchCounter('meshflow_switch_errors_total', 'OFPT_ERROR messages a switch sent that no request was waiting for', 'switchErrors');

    this.linkUtilization = new Gauge({
      name: 'meshflow_link_utilization',
      help: 'Smoothed utilization of one link direction (rate / capacity; may briefly exceed 1)',
      labelNames: ['link'],
      registers,
    });
    this.linkLevel = new Gauge({
      name: 'meshflow_link_level',
      help: 'Congestion level of one link direction: 0 ok, 1 warning, 2 congested, 3 down',
      labelNames: ['link'],
      registers,
    });

    const hub = opts.hub;
    if (hub) {
      new Gauge({ name: 'meshflow_stream_clients', help: 'Connected /api/v1/stream clients', registers, collect() {
        this.set(hub.stats.clients);
      } });
      totalOf('meshflow_stream_messages_total', 'Messages published on /api/v1/stream', () => hub.stats.published);
      totalOf('meshflow_stream_clients_dropped_total', 'Stream clients dropped for reading too slowly', () => hub.stats.dropped);
      totalOf('meshflow_stream_refused_origin_total', 'Stream upgrades refused for their Origin', () => hub.stats.refusedOrigin);
    }
    const admission = opts.admission;
    if (admission) {
      totalOf('meshflow_admission_admitted_total', 'PACKET_IN messages admitted, over every switch', () => admission.counters.admitted);
      totalOf('meshflow_admission_dropped_total', 'PACKET_IN messages dropped over the per-switch rate, over every switch (gone ones included)', () => admission.counters.dropped);
      new Counter({
        name: 'meshflow_packet_ins_dropped_total',
        help: 'PACKET_IN messages dropped over the per-switch rate, per switch; a gone switch loses its series',
        labelNames: ['dpid'],
        registers,
        collect() {
          // Rebuilt per scrape from the switches admission still knows, so gone ones leave no series.
          this.reset();
          for (const [dpid, c] of admission.counters.perSwitch) this.inc({ dpid }, c.dropped);
        },
      });
    }
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    const up = (s: SwitchSession): void => this.watch(s);
    controller.on('switch_up', up);
    for (const s of controller.switches.values()) this.watch(s);
    this.unwire = () => controller.off('switch_up', up);

    function totalOf(name: string, help: string, read: () => number): void {
      new Counter({ name, help, registers, collect() {
        // The source is already a running total; a counter has no set(), so reset and add it.
        this.reset();
        this.inc(read());
      } });
    }
    function perSwitchCounter(name: string, help: string, field: keyof SessionTally): void {
      new Counter({ name, help, labelNames: ['dpid'], registers, collect() {
        this.reset();
        for (const [dpid, v] of perSwitch(field)) this.inc({ dpid }, v);
      } });
    }
  }

  /** Called by the monitor for each link direction it measures. */
  setLink(linkId: string, utilization: number, level: Level): void {
    this.linkUtilization.set({ link: linkId }, utilization);
    this.linkLevel.set({ link: linkId }, LEVEL_VALUE[level]);
  }

  /** Counts a group's takeovers and role changes (cluster/roles.ts), read at scrape time. */
  watchCluster(cluster: { readonly counters: ClusterCountersView; roles(): readonly { readonly dpid: string; readonly role: string }[] }): void {
    const registers = [this.registry];
    const c = cluster.counters;
    const total = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() {
        this.reset();
        this.inc(read());
      } });
    };
    total('meshflow_cluster_takeovers_total', 'Switches this controller became master of after another controller had been', () => c.takeovers);
    total('meshflow_cluster_promotions_total', 'Times this controller became master of a switch', () => c.promotions);
    total('meshflow_cluster_demotions_total', 'Times this controller stopped being master of a switch (lease lost, Redis unreachable, switch gone)', () => c.demotions);
    total('meshflow_cluster_is_slave_errors_total', 'OFPBRC_IS_SLAVE errors switches returned to this controller', () => c.isSlaveErrors);
    total('meshflow_cluster_claim_failures_total', 'Lease claim rounds Redis did not answer', () => c.claimFailures);
    new Gauge({
      name: 'meshflow_cluster_switches',
      help: "Switches by this controller's role: master, slave, pending",
      labelNames: ['role'],
      registers,
      collect() {
        this.reset();
        const n: Record<string, number> = { master: 0, slave: 0, pending: 0 };
        for (const r of cluster.roles()) n[r.role] = (n[r.role] ?? 0) + 1;
        for (const [role, v] of Object.entries(n)) this.set({ role }, v);
      },
    });
  }

  /** Called when a link disappears from the topology, so its series stop rather than freeze. */
  removeLink(linkId: string): void {
    this.linkUtilization.remove({ link: linkId });
    this.linkLevel.remove({ link: linkId });
  }

  /** The exposition text, as /metrics serves it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops listening to the controller (the registry itself needs no cleanup). */
  close(): void {
    this.unwire();
  }

  private watch(s: SwitchSession): void {
    if (this.switchErrors.has(s)) return;
    this.switchErrors.set(s, 0);
    s.on('protocol_error', (e) => {
      // Malformed input is an Error (and counted by the controller); a switch's own OFPT_ERROR is not.
      if (!(e instanceof Error)) this.switchErrors.set(s, (this.switchErrors.get(s) ?? 0) + 1);
    });
    s.once('close', () => {
      // The controller has already let the session go: a dpid still connected is a replacement.
      if (!this.controller.switches.has(s.dpid)) {
        this.retired.delete(s.dpid);
        return;
      }
      const t = this.retired.get(s.dpid) ?? zero();
      const live = this.tally(s);
      for (const k of Object.keys(t) as (keyof SessionTally)[]) t[k] += live[k];
      this.retired.set(s.dpid, t);
    });
  }

  private tally(s: SwitchSession): SessionTally {
    const { rx, tx, packetIns, flowMods } = s.counters;
    return { rx, tx, packetIns, flowMods, switchErrors: this.switchErrors.get(s) ?? 0 };
  }

  private perSwitch(field: keyof SessionTally): Map<string, number> {
    const out = new Map<string, number>();
    for (const [dpid, t] of this.retired) out.set(dpid, t[field]);
    for (const s of this.controller.switches.values()) out.set(s.dpid, (out.get(s.dpid) ?? 0) + this.tally(s)[field]);
    return out;
  }
}

export function metricsRoutes(app: FastifyInstance, metrics: ControllerMetrics): void {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        description: 'Controller, switch, link and stream metrics in the Prometheus text exposition format.',
        tags: ['metrics'],
        response: {
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );
}
