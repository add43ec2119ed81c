// The bridge runner: hints in, policy step, weights out through the adapters, intents to
// the controller. All decisions are in policy.ts; this file only moves data and keeps time.
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { WeightsAdapter } from './adapters/adapter.ts';
import { kindOf } from './adapters/adapter.ts';
import { HaproxyAdapter } from './adapters/haproxy.ts';
import { MqttWeightsAdapter } from './adapters/mqtt.ts';
import {
  connectBus,
  HintPublisher,
  patterns,
  subscribeHints,
  systemClock,
  type Clock,
  type Hint,
  type HintSubscription,
  type ReplicaHints,
  type ServiceWeights,
} from './hints.ts';
import { IntentsClient } from './intents-client.ts';
import type { BridgeMetrics } from './metrics.ts';
import { BusWatch, HintRejections, isSignatureError, RECOVERY_BACKOFF, trustAlso, type BusConnectOptions, type HintSigner, type TrustStore } from './hints.ts';
import { Levers, type LeverMode } from './levers.ts';
import type { ArbiterParams } from './arbiter.ts';
import {
  defaultPolicyParams,
  initialPolicyState,
  replicasWithoutRoom,
  withHint,
  type IntentDecision,
  type IntentSpec,
  type PolicyParams,
  type PolicyState,
} from './policy.ts';
import { PathBook } from './paths.ts';
import { replicasOf, type Registry, type Sidecar } from './registry.ts';
import type { RegistryStore } from './registry-store.ts';

export interface BridgeOptions {
  readonly mqttUrl: string;
  /** How to connect to it: credentials, CA file (see bus/client.ts). */
  readonly bus?: BusConnectOptions;
  readonly registry: RegistryStore;
  /** The controller's REST base URL; without it the bridge asks for no intents. */
  readonly controllerUrl?: string;
  /** Bearer token for the controller's mutating endpoints, when it requires one. */
  readonly controllerToken?: string;
  readonly params?: Partial<PolicyParams>;
  /** 'arbitrated' (default): one decision moves the path or the weights, with hold-downs (arbiter.ts);
   *  'independent': each lever its own loop (the bridge before the arbiter, kept for comparison). */
  readonly levers?: LeverMode;
  readonly arbiter?: Partial<ArbiterParams>;
  /** How long sidecars may trust the weights they are sent. */
  readonly weightsTtlMs?: number;
  /** Weights are re-sent this often even when unchanged, well inside their ttl. */
  readonly refreshMs?: number;
  /** Policy re-run interval without new hints, so stale cost rows are noticed. */
  readonly tickMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Replaces the default adapters (mqtt for builtin sidecars, haproxy). */
  readonly adapters?: readonly WeightsAdapter[];
  /** Names this bridge: the source of its weights, and its MQTT client id (one session per bridge id). */
  readonly source?: string;
  /** Signs the weights (and all else) this bridge publishes; sidecars that verify need it. */
  readonly signer?: HintSigner;
  /**
   * The controllers whose cost rows and events this bridge takes: anything unsigned, forged or
   * signed by another key is refused and counted. Without it hints are not verified (embedded use
   * and tests); `meshflow bridge` always gives one.
   */
  readonly trust?: TrustStore;
  /** Counts publications, hints, intents and errors; its gauges read this bridge. */
  readonly metrics?: BridgeMetrics;
  /** With a controller: each sidecar→replica path is asked for again this often (ms, default 30 s). */
  readonly pathRefreshMs?: number;
}

export const BRIDGE_DEFAULTS = { weightsTtlMs: 30_000, tickMs: 1_000 } as const;

export class Bridge {
  private state: PolicyState = initialPolicyState;
  private client: MqttClient | undefined;
  private sub: HintSubscription | undefined;
  private adapters: WeightsAdapter[] = [];
  private intents: IntentsClient | undefined;
  /** intent key → the controller's id for it */
  private readonly activeIntents = new Map<string, { id: string; spec: IntentSpec }>();
  /** sidecars whose adapter is failing: warned once, then quiet until it recovers */
  private readonly failing = new Set<string>();
  /** sidecar id → when its weights were last put into effect */
  private readonly appliedAt = new Map<string, number>();
  private weights: Readonly<Record<string, ServiceWeights>> = {};
  /** Paths and link levels towards the replicas (only with a controller to ask). */
  private paths: PathBook | undefined;
  /** sidecar id → the per-replica hints last put into effect (JSON), so a change is sent at once */
  private readonly sentReplicas = new Map<string, string>();
  /** The policy params the room rule reads: the path the weights read (worst when no intent moves flows). */
  private readonly roomParams: PolicyParams;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pending = false;
  private stopped = false;
  private readonly params: PolicyParams;
  private readonly levers: Levers;
  private publisher: HintPublisher | undefined;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly refreshMs: number;
  private readonly onRegistryChange = () => this.schedule();
  private watch: BusWatch | undefined;
  readonly rejections: HintRejections;

  constructor(private readonly opts: BridgeOptions) {
    this.params = { ...defaultPolicyParams, ...opts.params };
    this.levers = new Levers(opts.levers ?? 'arbitrated', this.params, opts.arbiter, opts.controllerUrl !== undefined);
    this.clock = opts.clock ?? systemClock;
    this.roomParams = opts.levers !== 'independent' && opts.controllerUrl === undefined ? { ...this.params, roomBasis: 'worst' } : this.params;
    this.ttlMs = opts.weightsTtlMs ?? BRIDGE_DEFAULTS.weightsTtlMs;
    this.refreshMs = opts.refreshMs ?? Math.floor(this.ttlMs / 3);
    this.rejections = new HintRejections({ name: 'bridge', ...(opts.log ? { log: opts.log } : {}), clock: this.clock });
    opts.metrics?.observe(this);
  }

  /** The bus connection: up or not, losses and recoveries (read by /metrics). */
  get busHealth(): BusWatch | undefined {
    return this.watch;
  }

  async start(): Promise<void> {
    const source = this.opts.source ?? 'meshflow-bridge';
    // A persistent session under a fixed id: the broker keeps our subscriptions and queues the
    // hints (QoS 1) published while we reconnect, so none is lost to an outage or a restart.
    this.client = await connectBus(this.opts.mqttUrl, { backoff: RECOVERY_BACKOFF, ...this.opts.bus, session: { clientId: `meshflow-bridge-${source}` } });
    const log = this.opts.log;
    this.watch = new BusWatch(this.client, {
      name: 'bridge',
      clock: this.clock,
      ...(log ? { log } : {}),
      // Retained weights may be gone with a broker that restarted without persistence: send them all again.
      onReconnect: () => {
        this.appliedAt.clear();
        void this.schedule();
      },
    });
    const publisher = new HintPublisher(this.client, { source, clock: this.clock, ...(this.opts.signer ? { signer: this.opts.signer } : {}) });
    // Its own decision events come back on the events topic: the bridge trusts its own key.
    const signer = this.opts.signer;
    const trust = this.opts.trust && signer ? trustAlso(this.opts.trust, signer.keyId, signer.publicKey) : this.opts.trust;
    if (trust === undefined) log?.warn('bridge: hints are not verified (no trusted controller keys given)');
    else if (trust.ids().every((id) => id === signer?.keyId)) log?.warn('bridge: no controller key is trusted yet: every cost row and event will be refused until one is');
    else log?.info({ trusted: trust.ids() }, 'bridge: taking cost rows and events signed by these keys only');
    this.publisher = publisher;
    this.adapters = [...(this.opts.adapters ?? [new MqttWeightsAdapter(publisher), new HaproxyAdapter(publisher)])];
    if (this.opts.controllerUrl) this.intents = new IntentsClient(this.opts.controllerUrl, { ...(this.opts.controllerToken ? { token: this.opts.controllerToken } : {}) });
    const intents = this.intents;
    if (intents) {
      this.paths = new PathBook({
        fetch: (src, dst) => intents.path(src, dst),
        clock: this.clock,
        onChange: () => void this.schedule(),
        ...(this.opts.pathRefreshMs !== undefined ? { refreshMs: this.opts.pathRefreshMs } : {}),
        ...(log ? { log } : {}),
      });
    }
    // Link states (retained) only when paths are known: their levels go into the sidecars' spans.
    const wanted = this.paths ? [patterns.costs, patterns.events, patterns.links] : [patterns.costs, patterns.events];
    this.sub = await subscribeHints(this.client, wanted, (hint) => this.onHint(hint), {
      ...(trust ? { trust } : {}),
      onInvalid: (e, topic) => {
        // Every refusal is counted by code (hints_refused_total); the schema ones also as before.
        if (!isSignatureError(e.code)) this.opts.metrics?.hintInvalid(e.code);
        this.rejections.add(e, topic);
      },
    });
    this.opts.registry.on('change', this.onRegistryChange);
    this.timer = setInterval(() => this.schedule(), this.opts.tickMs ?? BRIDGE_DEFAULTS.tickMs);
    this.timer.unref();
    this.schedule();
  }

  /** Folds a hint in and re-runs the policy; exposed so tests and replay can drive it. */
  onHint(hint: Hint): void {
    this.opts.metrics?.hintReceived(hint.kind);
    if (hint.kind === 'link_state') {
      if (this.paths?.onLinkState(hint)) this.schedule();
      return;
    }
    if (hint.kind === 'event' && this.paths?.onEvent(hint)) this.schedule();
    const next = withHint(this.state, hint);
    if (next === this.state) return;
    this.state = next;
    this.schedule();
  }

  /** The weights last computed, per sidecar. */
  get currentWeights(): Readonly<Record<string, ServiceWeights>> {
    return this.weights;
  }

  get currentIntents(): { key: string; id: string; spec: IntentSpec }[] {
    return [...this.activeIntents].map(([key, v]) => ({ key, ...v }));
  }

  /** Resolves once every run scheduled so far has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Coalesces bursts of hints into one policy run, and never runs two at once. */
  schedule(): Promise<void> {
    if (this.pending) return this.chain;
    this.pending = true;
    this.chain = this.chain.then(async () => {
      this.pending = false;
      await this.run().catch((err: unknown) => this.opts.log?.error({ err }, 'bridge: policy run failed'));
    });
    return this.chain;
  }

  private async run(): Promise<void> {
    const reg = this.opts.registry.current;
    const now = this.clock.now();
    const step = this.levers.step(reg, this.state, new Set(this.activeIntents.keys()), now);
    const result = step.weights;
    this.state = result.state;
    this.weights = result.weights;
    const changed = new Set(result.changed);
    this.paths?.track(pairsOf(reg));
    for (const sc of reg.sidecars) {
      const last = this.appliedAt.get(sc.id);
      const replicas = this.replicaHints(reg, sc, now);
      const replicasChanged = this.sentReplicas.get(sc.id) !== JSON.stringify(replicas);
      if (!changed.has(sc.id) && !replicasChanged && last !== undefined && now - last < this.refreshMs) continue;
      await this.apply(reg, sc.id, result.weights[sc.id] ?? {}, now, replicas);
    }
    // Sidecars gone from the registry: what was sent to them is forgotten.
    const present = new Set(reg.sidecars.map((s) => s.id));
    for (const sent of [this.appliedAt, this.sentReplicas]) for (const id of sent.keys()) if (!present.has(id)) sent.delete(id);
    // The arbiter's decisions and reasons, on the events topic so the event log and a replay show why.
    for (const e of step.events) await this.publisher?.publish(e).catch((err: unknown) => this.opts.log?.warn({ err }, 'bridge: decision event not published'));
    await this.syncIntents(step.intents);
  }

  /** Per replica the sidecar calls: no room on its path (from the cost row), and the path with its links' levels. */
  private replicaHints(reg: Registry, sc: Sidecar, now: number): ReplicaHints {
    // Only the built-in sidecar reads them: HAProxy has no classes to shed and no spans to stamp.
    if (kindOf(sc) !== 'builtin') return {};
    const noRoom = new Set(replicasWithoutRoom(reg, sc, this.state.costs, now, this.roomParams));
    const out: Record<string, ReplicaHints[string]> = {};
    for (const service of sc.calls) {
      for (const rep of replicasOf(reg, service)) {
        const known = this.paths?.pathOf(sc.host, rep.host);
        if (!noRoom.has(rep.id) && known === undefined) continue;
        out[rep.id] = {
          ...(noRoom.has(rep.id) ? { room: false } : {}),
          ...(known !== undefined ? { path: known.path, ...(known.equalCost > 1 ? { equalCost: known.equalCost } : {}) } : {}),
        };
      }
    }
    return out;
  }

  private async apply(reg: Registry, sidecarId: string, weights: ServiceWeights, now: number, replicas: ReplicaHints = {}): Promise<void> {
    const sc = reg.sidecars.find((s) => s.id === sidecarId);
    if (!sc) return;
    const adapter = this.adapters.find((a) => a.kind === kindOf(sc));
    if (!adapter) return;
    try {
      await adapter.apply(sc, weights, this.ttlMs, replicas);
      this.appliedAt.set(sc.id, now);
      this.sentReplicas.set(sc.id, JSON.stringify(replicas));
      this.opts.metrics?.weightsApplied(sc.id, adapter.kind);
      if (this.failing.delete(sc.id)) this.opts.log?.info({ sidecar: sc.id }, 'bridge: sidecar reachable again');
      this.opts.log?.debug({ sidecar: sc.id, weights }, 'bridge: weights applied');
    } catch (err) {
      // Not recorded as applied: the next tick tries again.
      this.appliedAt.delete(sc.id);
      this.sentReplicas.delete(sc.id);
      this.opts.metrics?.adapterError(sc.id, adapter.kind);
      const first = !this.failing.has(sc.id);
      this.failing.add(sc.id);
      this.opts.log?.[first ? 'warn' : 'debug']({ err, sidecar: sc.id }, 'bridge: could not apply weights; retrying every tick');
    }
  }

  private async syncIntents(decision: IntentDecision): Promise<void> {
    const client = this.intents;
    if (!client) return;
    for (const spec of decision.create) {
      try {
        const created = await client.create(spec);
        this.activeIntents.set(spec.key, { id: created.id, spec });
        if (this.paths?.pin(spec.src, spec.dst, created.links)) this.schedule();
        this.opts.metrics?.intentPosted();
        this.opts.log?.info({ intent: spec, id: created.id, path: created.path }, 'bridge: intent requested');
      } catch (err) {
        this.opts.metrics?.intentError('post');
        this.opts.log?.warn({ err, intent: spec }, 'bridge: intent request failed; retrying next run');
      }
    }
    for (const key of decision.remove) await this.withdraw(client, key);
  }

  private async withdraw(client: IntentsClient, key: string): Promise<void> {
    const active = this.activeIntents.get(key);
    if (!active) return;
    try {
      await client.remove(active.id);
      this.activeIntents.delete(key);
      this.paths?.unpin(active.spec.src, active.spec.dst);
      this.opts.metrics?.intentDeleted();
      this.opts.log?.info({ key, id: active.id }, 'bridge: intent withdrawn');
    } catch (err) {
      this.opts.metrics?.intentError('delete');
      this.opts.log?.warn({ err, key }, 'bridge: intent delete failed; retrying next run');
    }
  }

  /** Stops, withdrawing the intents this bridge asked for: they were its to keep true. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.paths?.close();
    this.opts.registry.off('change', this.onRegistryChange);
    await this.chain;
    if (this.intents) for (const key of [...this.activeIntents.keys()]) await this.withdraw(this.intents, key);
    await this.sub?.close();
    for (const a of this.adapters) await a.close();
    this.watch?.stop();
    this.rejections.flush();
    await this.client?.endAsync();
  }
}

/** The (sidecar host, replica host) pairs whose paths builtin sidecars are told: one per host pair. */
function* pairsOf(reg: Registry): Iterable<readonly [string, string]> {
  for (const sc of reg.sidecars) {
    if (kindOf(sc) !== 'builtin') continue;
    for (const service of sc.calls) for (const rep of replicasOf(reg, service)) yield [sc.host, rep.host];
  }
}
