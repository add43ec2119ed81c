// Watching one bus connection: the broker going away and coming back is logged once per
// transition (not once per reconnect attempt), counted for /metrics, and handed to whoever must
// re-announce. Refused hints are counted per code and logged through a LogLimiter.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.ts';
import type { HintError } from './parse.ts';
import { LogLimiter } from './log-limiter.ts';

/**
 * Reconnect backoff for the processes whose hints must flow again soon after a broker returns
 * (controller, bridge): at most a second between attempts, so recovery follows within about one
 * second; one attempt a second is no load on a broker that is down.
 */
export const RECOVERY_BACKOFF = { initialMs: 100, maxMs: 1000, factor: 2 } as const;

export interface BusHealth {
  readonly connected: boolean;
  /** Connections lost (each outage counts once, however many attempts it took). */
  readonly disconnects: number;
  /** Connections regained after a loss. */
  readonly reconnects: number;
  /** How long the last outage lasted, ms (undefined before the first one ended). */
  readonly lastOutageMs: number | undefined;
}

export interface BusWatchOptions {
  /** Names the process in log lines: 'controller', 'bridge'. */
  readonly name: string;
  readonly log?: Logger;
  readonly clock?: Clock;
  /** Called on every reconnect after a loss, once the client is connected again. */
  readonly onReconnect?: (ack: { readonly sessionPresent: boolean }) => void;
}

export class BusWatch implements BusHealth {
  connected: boolean;
  disconnects = 0;
  reconnects = 0;
  lastOutageMs: number | undefined;
  private downSince: number | undefined;
  private readonly clock: Clock;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly client: MqttClient,
    private readonly opts: BusWatchOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.connected = client.connected;
    const onConnect = (ack: { sessionPresent?: boolean }) => this.up(ack.sessionPresent === true);
    const onClose = () => this.down();
    client.on('connect', onConnect);
    client.on('close', onClose);
    this.offs.push(() => client.off('connect', onConnect), () => client.off('close', onClose));
  }

  private up(sessionPresent: boolean): void {
    if (this.connected) return;
    this.connected = true;
    if (this.downSince === undefined) return;
    this.reconnects++;
    this.lastOutageMs = this.clock.now() - this.downSince;
    this.downSince = undefined;
    this.opts.log?.info({ outageMs: Math.round(this.lastOutageMs), sessionPresent }, `${this.opts.name}: bus connection back`);
    this.opts.onReconnect?.({ sessionPresent });
  }

  private down(): void {
    // mqtt.js emits close once per failed attempt too: only the first one of an outage counts.
    if (!this.connected || this.client.disconnecting || this.client.disconnected) return;
    this.connected = false;
    this.disconnects++;
    this.downSince = this.clock.now();
    this.opts.log?.warn({}, `${this.opts.name}: bus connection lost; reconnecting with backoff`);
  }

  stop(): void {
    for (const f of this.offs.splice(0)) f();
  }
}

/** Refused hints per error code; the log says so through a LogLimiter (a few lines, then counts). */
export class HintRejections {
  private readonly counts = new Map<string, number>();
  private readonly limiter: LogLimiter;

  constructor(private readonly opts: { readonly name: string; readonly log?: Logger; readonly clock?: Clock }) {
    this.limiter = new LogLimiter(opts.log, opts.clock === undefined ? {} : { clock: opts.clock });
  }

  /** Counts one refusal and logs it, unless its code has had its burst in this window. */
  add(error: HintError, topic: string): void {
    this.counts.set(error.code, (this.counts.get(error.code) ?? 0) + 1);
    this.limiter.warn({ topic, code: error.code, path: error.path }, `${this.opts.name}: hint refused: ${error.message}`, error.code);
  }

  /** Refusals so far, per code. */
  get byCode(): ReadonlyMap<string, number> {
    return this.counts;
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Writes pending summaries (at shutdown). */
  flush(): void {
    this.limiter.flush();
  }
}

/**
 * Bus series on a registry, read at scrape time: `<prefix>_bus_connected`, `_bus_disconnects_total`,
 * `_bus_reconnects_total`, and `_hints_refused_total{code}` when given the rejections.
 */
export function registerBusMetrics(registry: Registry, prefix: string, read: () => { health?: BusHealth; rejections?: HintRejections }): void {
  const registers = [registry];
  new Gauge({
    name: `${prefix}_bus_connected`,
    help: '1 while the MQTT connection to the broker is up',
    registers,
    collect() {
      this.set(read().health?.connected === true ? 1 : 0);
    },
  });
  new Counter({
    name: `${prefix}_bus_disconnects_total`,
    help: 'MQTT connections to the broker lost (one per outage)',
    registers,
    collect() {
      this.reset();
      this.inc(read().health?.disconnects ?? 0);
    },
  });
  new Counter({
    name: `${prefix}_bus_reconnects_total`,
    help: 'MQTT connections to the broker regained after a loss',
    registers,
    collect() {
      this.reset();
      this.inc(read().health?.reconnects ?? 0);
    },
  });
  new Counter({
    name: `${prefix}_hints_refused_total`,
    help: 'Hints refused by this consumer, per code: HINT_ERR_UNSIGNED, HINT_ERR_SIGNATURE and HINT_ERR_UNTRUSTED for ones without a trusted signature',
    labelNames: ['code'] as const,
    registers,
    collect() {
      this.reset();
      for (const [code, n] of read().rejections?.byCode ?? []) this.inc({ code }, n);
    },
  });
}
