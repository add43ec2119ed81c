// Prometheus metrics for the bridge, scraped at its REST API's /metrics. What the bridge holds
// (current weights, active intents) is read at scrape time, so it can never disagree with
// /api/v1/weights; what happens (publications, hints, errors) is counted as it happens. Its own
// Registry, like the controller's: two bridges in one process never mix their series.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBusMetrics, type BusHealth, type HintRejections, type ServiceWeights } from './hints.ts';

/** What the gauges read; the Bridge is one. */
export interface BridgeState {
  readonly currentWeights: Readonly<Record<string, ServiceWeights>>;
  readonly currentIntents: readonly unknown[];
  /** The bus connection, once there is one. */
  readonly busHealth?: BusHealth | undefined;
  /** Hints refused: unsigned, forged, untrusted, invalid. */
  readonly rejections?: HintRejections;
}

export interface BridgeMetricsOptions {
  /** process_* and nodejs_* metrics (CPU, memory, event loop lag); on by default. */
  readonly processMetrics?: boolean;
}

export class BridgeMetrics {
  readonly registry = new Registry();
  private state: BridgeState | undefined;
  private readonly publications: Counter<'sidecar' | 'kind'>;
  private readonly adapterErrors: Counter<'sidecar' | 'kind'>;
  private readonly hints: Counter<'kind'>;
  private readonly invalidHints: Counter<'code'>;
  private readonly intentsPosted: Counter;
  private readonly intentsDeleted: Counter;
  private readonly intentErrors: Counter<'op'>;

  constructor(opts: BridgeMetricsOptions = {}) {
    const registers = [this.registry];
    // Arrow functions below keep `this` the BridgeMetrics; prom-client calls collect with the metric as `this`.
    const read = (): BridgeState | undefined => this.state;
    new Gauge({
      name: 'meshflow_bridge_weight',
      help: 'Current weight (0..1000) the bridge computed, per sidecar, service and replica',
      labelNames: ['sidecar', 'service', 'replica'] as const,
      registers,
      collect() {
        // Reset first: a replica or sidecar that left the registry must leave the scrape too.
        this.reset();
        for (const [sidecar, services] of Object.entries(read()?.currentWeights ?? {})) {
          for (const [service, replicas] of Object.entries(services)) {
            for (const [replica, weight] of Object.entries(replicas)) this.set({ sidecar, service, replica }, weight);
          }
        }
      },
    });
    new Gauge({
      name: 'meshflow_bridge_intents_active',
      help: 'Intents the bridge holds at the controller',
      registers,
      collect() {
        this.set(read()?.currentIntents.length ?? 0);
      },
    });
    this.publications = new Counter({
      name: 'meshflow_bridge_weights_publications_total',
      help: 'Weights put into effect for a sidecar (an MQTT publication or an HAProxy update), per sidecar',
      labelNames: ['sidecar', 'kind'] as const,
      registers,
    });
    this.adapterErrors = new Counter({
      name: 'meshflow_bridge_adapter_errors_total',
      help: 'Failed attempts to put weights into effect, per sidecar (retried every tick)',
      labelNames: ['sidecar', 'kind'] as const,
      registers,
    });
    this.hints = new Counter({
      name: 'meshflow_bridge_hints_received_total',
      help: 'Valid hints received from the bus, per kind',
      labelNames: ['kind'] as const,
      registers,
    });
    this.invalidHints = new Counter({
      name: 'meshflow_bridge_hints_invalid_total',
      help: 'Hints skipped because they failed the schema, per error code (unverified ones: meshflow_bridge_hints_refused_total)',
      labelNames: ['code'] as const,
      registers,
    });
    this.intentsPosted = new Counter({ name: 'meshflow_bridge_intents_posted_total', help: 'Intents the controller accepted', registers });
    this.intentsDeleted = new Counter({ name: 'meshflow_bridge_intents_deleted_total', help: 'Intents withdrawn at the controller', registers });
    this.intentErrors = new Counter({
      name: 'meshflow_bridge_intent_errors_total',
      help: 'Intent requests the controller refused or did not answer, per operation (post, delete)',
      labelNames: ['op'] as const,
      registers,
    });
    // meshflow_bridge_bus_connected, _bus_disconnects_total, _bus_reconnects_total, _hints_refused_total{code}
    registerBusMetrics(this.registry, 'meshflow_bridge', () => {
      const s = read();
      return { ...(s?.busHealth ? { health: s.busHealth } : {}), ...(s?.rejections ? { rejections: s.rejections } : {}) };
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the gauges read current weights and intents. */
  observe(state: BridgeState): void {
    this.state = state;
  }

  weightsApplied(sidecar: string, kind: string): void {
    this.publications.inc({ sidecar, kind });
  }

  adapterError(sidecar: string, kind: string): void {
    this.adapterErrors.inc({ sidecar, kind });
  }

  hintReceived(kind: string): void {
    this.hints.inc({ kind });
  }

  hintInvalid(code: string): void {
    this.invalidHints.inc({ code });
  }

  intentPosted(): void {
    this.intentsPosted.inc();
  }

  intentDeleted(): void {
    this.intentsDeleted.inc();
  }

  intentError(op: 'post' | 'delete'): void {
    this.intentErrors.inc({ op });
  }

  /** The text exposition, and its content type, for a scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
