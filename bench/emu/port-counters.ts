// Port counters that integrate configured rates over time: a port direction carries `bps` from
// the moment it is set, so a counter read at any instant equals what a real port carrying that
// load would show. Changing a rate first banks what the old rate earned.

/** Frames are counted as if every frame were this long. */
export const FRAME_BYTES = 1000;

export class DirectionCounter {
  private bytes = 0;
  private bps = 0;
  private since = 0;

  /** `now` in ms. */
  setRate(bps: number, now: number): void {
    this.bytes = this.read(now);
    this.bps = Math.max(0, bps);
    this.since = now;
  }

  get rate(): number {
    return this.bps;
  }

  read(now: number): number {
    return this.bytes + (this.bps * Math.max(0, now - this.since)) / 8000;
  }
}

export class PortCounters {
  readonly tx = new DirectionCounter();
  readonly rx = new DirectionCounter();
}

export function bytesAndPackets(c: DirectionCounter, now: number): { bytes: bigint; packets: bigint } {
  const b = Math.floor(c.read(now));
  return { bytes: BigInt(b), packets: BigInt(Math.floor(b / FRAME_BYTES)) };
}
