// Fail-static for HAProxy: a small agent that answers HAProxy's agent-check with the weight in
// force for each server, and with 100% (the server's configured weight: even, when the backend's
// servers are configured alike) once the weights' ttl has passed without a fresh one.
//
// HAProxy has no notion of a weight's lifetime, and a failed agent connection is not an error to
// it (the regular health check decides up/down): weights it was given stay in force. So the agent
// must not live in the bridge, whose death it has to outlive: it runs beside HAProxy, as its own
// process (`meshflow haproxy-agent`), and takes the weights from the bus, where the bridge
// publishes them for the sidecar as a hint with a ttl (the bridge's HAProxy adapter does). When the
// bridge or the broker is gone, no fresh hint comes and the answer turns to 100% after the ttl.
//
// HAProxy side, per server (agent-send names the server the check is for):
//   server inventory-a 10.0.0.2:9090 weight 100 check agent-check agent-addr 127.0.0.1
//          agent-port 5555 agent-inter 1s agent-send "inventory-a\n"
import { createServer, type Server, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../bus/clock.ts';
import type { Hint } from '../../bus/hints.ts';
import { subscribeHints, type HintSubscription, type SubscribeOptions } from '../../bus/subscriber.ts';
import { topics } from '../../bus/topics.ts';
import { LogLimiter } from '../../bus/log-limiter.ts';

/** What the agent answers for a server with no weight in force: its configured weight. */
export const STATIC_ANSWER = '100%\n';

/** The weights in force for one sidecar: weight (0..1000) by replica id, until `expiresAt`. */
export interface WeightsInForce {
  readonly byReplica: ReadonlyMap<string, number>;
  readonly expiresAt: number;
}

/** A weights hint as the agent keeps it; anything else is no change. */
export function weightsFromHint(hint: Hint, sidecarId: string): WeightsInForce | undefined {
  if (hint.kind !== 'weights' || hint.sidecarId !== sidecarId) return undefined;
  const byReplica = new Map<string, number>();
  for (const replicas of Object.values(hint.services)) for (const [id, w] of Object.entries(replicas)) byReplica.set(id, w);
  return { byReplica, expiresAt: hint.ts + hint.ttlMs };
}

/**
 * The agent-check answer for `server` (agent-send may say "backend/server" or just "server").
 * A weight of 0..1000 becomes a percentage of the server's configured weight, so ratios are kept;
 * a live replica never rounds to 0%, which would drain it.
 */
export function agentAnswer(weights: WeightsInForce | undefined, request: string, now: number): string {
  if (weights === undefined || now > weights.expiresAt) return STATIC_ANSWER;
  const server = request.trim().split('/').pop() ?? '';
  const w = weights.byReplica.get(server);
  if (w === undefined) return STATIC_ANSWER;
  if (w <= 0) return '0%\n';
  return `${Math.min(100, Math.max(1, Math.round(w / 10)))}%\n`;
}

export interface HaproxyAgentOptions {
  /** The registry's sidecar id whose weights this HAProxy applies. */
  readonly sidecarId: string;
  /** Where HAProxy's agent-checks connect (agent-addr / agent-port). */
  readonly host?: string;
  readonly port?: number;
  /** How long to wait for HAProxy's agent-send line before answering for "no server named". */
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Passed to the bus subscription (trusted publisher keys, and the like). */
  readonly subscribe?: Pick<SubscribeOptions, 'trust' | 'unsignedKinds'>;
}

export class HaproxyAgent {
  private weights: WeightsInForce | undefined;
  private server: Server | undefined;
  private sub: HintSubscription | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly clock: Clock;
  private readonly limited: LogLimiter;
  /** Agent-checks answered, and how many of them with the static 100% (no weights in force). */
  readonly counts = { checks: 0, staticAnswers: 0, hints: 0, refused: 0 };

  constructor(private readonly opts: HaproxyAgentOptions) {
    this.clock = opts.clock ?? systemClock;
    this.limited = new LogLimiter(opts.log, { clock: this.clock });
  }

  /** Takes a weights hint (from the bus, or a test). */
  offer(hint: Hint): void {
    const w = weightsFromHint(hint, this.opts.sidecarId);
    if (w === undefined) return;
    this.counts.hints++;
    this.weights = w;
  }

  /** The answer for one agent-check request line, now. */
  answer(request: string): string {
    const a = agentAnswer(this.weights, request, this.clock.now());
    this.counts.checks++;
    if (a === STATIC_ANSWER) this.counts.staticAnswers++;
    return a;
  }

  /** Listens for HAProxy's agent-checks; resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === 'object' && addr !== null ? addr.port : 0;
  }

  /**
   * Follows the sidecar's weights on the bus; the client (and its reconnects) stay the caller's.
   * A broker that is away at start is not an error: the subscription is made on its first connect,
   * and until then the answer is the configured weight.
   */
  async follow(client: MqttClient): Promise<void> {
    let subscribing: Promise<void> | undefined;
    const subscribe = (): Promise<void> =>
      (subscribing ??= subscribeHints(client, [topics.weights(this.opts.sidecarId)], (hint) => this.offer(hint), {
        ...this.opts.subscribe,
        onInvalid: (e, topic) => {
          this.counts.refused++;
          this.limited.warn({ topic, code: e.code }, `haproxy agent: hint refused: ${e.message}`, e.code);
        },
      }).then(
        (sub) => {
          this.sub = sub;
          client.off('connect', onConnect);
        },
        (err: unknown) => {
          subscribing = undefined;
          this.limited.warn({ err: (err as Error).message }, 'haproxy agent: subscribe failed; retrying on the next connect');
        },
      ));
    const onConnect = (): void => void subscribe();
    client.on('connect', onConnect);
    if (client.connected) await subscribe();
  }

  async close(): Promise<void> {
    this.limited.flush();
    await this.sub?.close().catch(() => undefined);
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let done = false;
    const reply = (): void => {
      if (done) return;
      done = true;
      cancel();
      socket.end(this.answer(buffered.split('\n')[0] ?? ''));
    };
    // Without agent-send HAProxy says nothing: answer after a short wait.
    const cancel = this.clock.setTimeout(reply, this.opts.requestTimeoutMs ?? 200);
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      if (buffered.includes('\n') || buffered.length > 512) reply();
    });
    socket.on('end', reply);
  }
}
