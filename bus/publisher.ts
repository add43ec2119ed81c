// HintPublisher: the one way hints get onto the bus. It stamps the envelope (v, ts, seq,
// ttlMs, source), signs it when given a key, checks the result against the schema, and picks
// topic and retain per kind.
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock } from './clock.ts';
import { DEFAULT_TTL_MS, HINT_VERSIONS, type Hint, type HintBody } from './hints.ts';
import { InvalidHintError, validateHint, type HintError } from './parse.ts';
import { routeOf } from './topics.ts';
import type { HintSigner } from './signing.ts';

/** The narrow slice of an mqtt.js client the publisher needs (kept small so tools can wrap it). */
export type PublishClient = Pick<MqttClient, 'publishAsync'>;

export interface PublisherOptions {
  /** Publisher id, carried as `source` on every hint. */
  readonly source: string;
  readonly clock?: Clock;
  /** Last seq used; the first hint gets startSeq + 1. */
  readonly startSeq?: number;
  readonly ttlMs?: Partial<Record<Hint['kind'], number>>;
  /**
   * 'throw' (default outside production): an invalid hint is a bug and throws.
   * 'drop' (default when NODE_ENV=production): it is counted and never sent.
   */
  readonly onInvalid?: 'throw' | 'drop';
  /** Signs every hint (topic and JSON); consumers that verify refuse unsigned hints. */
  readonly signer?: HintSigner;
  /** Which controller of a group speaks, and its epoch, stamped on every hint (undefined: a lone publisher). */
  readonly origin?: () => { readonly controller: string; readonly epoch: number } | undefined;
}

export interface StampOptions {
  readonly ttlMs?: number;
  /** Replay marks: the original hint's ts is kept, the envelope is new. */
  readonly replayedFrom?: { readonly originalTs: number };
}

export class HintPublisher {
  readonly source: string;
  private readonly clock: Clock;
  private readonly ttl: Record<Hint['kind'], number>;
  private readonly onInvalid: 'throw' | 'drop';
  private readonly signer: HintSigner | undefined;
  private readonly origin: PublisherOptions['origin'];
  private lastSeq: number;
  private lastTs = 0;
  /** Hints refused by validation (only grows in 'drop' mode). */
  invalidCount = 0;
  lastError: HintError | undefined;
  publishedCount = 0;

  constructor(
    private readonly client: PublishClient,
    options: PublisherOptions,
  ) {
    this.source = options.source;
    this.clock = options.clock ?? systemClock;
    this.lastSeq = options.startSeq ?? 0;
    this.ttl = { ...DEFAULT_TTL_MS, ...options.ttlMs };
    this.onInvalid = options.onInvalid ?? (process.env['NODE_ENV'] === 'production' ? 'drop' : 'throw');
    this.signer = options.signer;
    this.origin = options.origin;
  }

  /** The key id hints are signed with, if any. */
  get keyId(): string | undefined {
    return this.signer?.keyId;
  }

  get seq(): number {
    return this.lastSeq;
  }

  /**
   * Stamps a body into a full hint, signed when there is a key, and takes the next seq. Sends
   * nothing, so a last will can be built with it before connecting (JSON.stringify of a signed
   * hint is its signed payload: the signature is its last member).
   */
  stamp(body: HintBody, options: StampOptions = {}): Hint {
    // ts never goes backwards within one publisher, even if the wall clock does.
    const ts = Math.max(this.lastTs, Math.floor(this.clock.now()));
    this.lastTs = ts;
    const envelope = {
      v: HINT_VERSIONS[body.kind],
      ts,
      seq: ++this.lastSeq,
      ttlMs: options.ttlMs ?? this.ttl[body.kind],
      source: this.source,
      ...(options.replayedFrom === undefined
        ? {}
        : { replayed: true as const, originalTs: options.replayedFrom.originalTs }),
      ...this.origin?.(),
    };
    // A body taken from a recorded hint may carry its old signature: it never covers the new envelope.
    const { sig: _old, ...rest } = body as HintBody & { sig?: unknown };
    // Envelope first in the JSON text, so a human reading mosquitto_sub sees kind and seq first.
    const hint = { ...envelope, ...rest } as Hint;
    if (this.signer === undefined) return hint;
    let topic: string;
    try {
      topic = routeOf(hint).topic;
    } catch {
      // An id that cannot be a topic level: validation refuses the hint before it could be sent.
      return hint;
    }
    return this.signer.signHint(topic, hint);
  }

  /** Stamps, validates and publishes at QoS 1; resolves on PUBACK. Returns the hint sent, or undefined if dropped. */
  async publish(body: HintBody, options: StampOptions = {}): Promise<Hint | undefined> {
    const out = this.send(body, options);
    if (!out) return undefined;
    await out.acked;
    return out.hint;
  }

  /**
   * Stamps, validates and hands the hint to the client at once: the stamped hint is returned
   * synchronously (to show on the stream or log) while `acked` settles on PUBACK, which may wait
   * for a broker that is away. Undefined if validation dropped it.
   */
  send(body: HintBody, options: StampOptions = {}): { hint: Hint; acked: Promise<void> } | undefined {
    const hint = this.stamp(body, options);
    const checked = validateHint(hint);
    if (!checked.ok) {
      this.invalidCount++;
      this.lastError = checked.error;
      if (this.onInvalid === 'throw') throw new InvalidHintError(checked.error);
      return undefined;
    }
    const { topic, retain } = routeOf(hint);
    const acked = this.client.publishAsync(topic, JSON.stringify(hint), { qos: 1, retain }).then(() => {
      this.publishedCount++;
    });
    return { hint, acked };
  }
}
