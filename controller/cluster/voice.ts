// The group speaks with one voice on the bus: the controller holding the "voice" lease publishes
// hints, stamped with its id and epoch (the lease's fencing number); the others publish only their
// own status. A new voice holds back link states and cost rows until its monitor has a baseline
// (warmupMs): until then the previous voice's rows, fresh for their TTL, stay what the bridge uses,
// so a takeover never shows the mesh an empty or all-"ok" picture.
import type { IClientPublishOptions } from 'mqtt';
import type { PublishClient } from '../../bus/publisher.ts';
import type { Clock } from '../../bus/clock.ts';

export interface VoiceOptions {
  readonly controllerId: string;
  readonly warmupMs: number;
  readonly clock: Clock;
}

const ALWAYS = 'meshflow/v1/controllers/';
const NEEDS_BASELINE = ['meshflow/v1/links/', 'meshflow/v1/costs/'];

export class VoiceGate {
  readonly counters = { passed: 0, silenced: 0, warmingUp: 0 };
  private epoch: number | undefined;
  private since = 0;

  constructor(private readonly opts: VoiceOptions) {}

  speak(epoch: number): void {
    if (this.epoch === undefined) this.since = this.opts.clock.now();
    this.epoch = epoch;
  }

  silence(): void {
    this.epoch = undefined;
  }

  /** Stamped on every hint while we speak (HintPublisher's origin). */
  origin(): { controller: string; epoch: number } | undefined {
    return this.epoch === undefined ? undefined : { controller: this.opts.controllerId, epoch: this.epoch };
  }

  /** Whether a hint on this topic goes out now. */
  passes(topic: string): boolean {
    if (topic.startsWith(ALWAYS)) return true;
    if (this.epoch === undefined) {
      this.counters.silenced++;
      return false;
    }
    if (this.opts.clock.now() - this.since < this.opts.warmupMs && NEEDS_BASELINE.some((p) => topic.startsWith(p))) {
      this.counters.warmingUp++;
      return false;
    }
    this.counters.passed++;
    return true;
  }

  /** A publish client that sends only what passes. */
  wrap(client: PublishClient): PublishClient {
    return {
      publishAsync: (topic: string, message: string | Buffer, options?: IClientPublishOptions) =>
        this.passes(topic) ? client.publishAsync(topic, message, options ?? {}) : Promise.resolve(undefined),
    };
  }
}
