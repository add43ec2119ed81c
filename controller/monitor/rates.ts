// Turns cumulative port counters into rates. Counters go backwards when a switch restarts or a port
// is re-created; such a sample only re-bases the port, so no negative or absurd rate ever comes out.

export interface PortCounters {
  readonly txBytes: bigint;
  readonly rxBytes: bigint;
  readonly txDropped: bigint;
  readonly rxDropped: bigint;
}

export interface PortRate {
  /** bits per second sent out of the port */
  readonly txBps: number;
  readonly rxBps: number;
  /** packets dropped per second, either direction */
  readonly txDropsPerSec: number;
  readonly rxDropsPerSec: number;
}

interface Sample {
  readonly at: number;
  readonly c: PortCounters;
}

const key = (dpid: string, port: number): string => `${dpid}:${port}`;

export class RateTracker {
  private readonly last = new Map<string, Sample>();

  /** Adds a sample taken at `now` (ms); returns the rate since the previous one, if there is a sound one. */
  update(dpid: string, port: number, c: PortCounters, now: number): PortRate | undefined {
    const k = key(dpid, port);
    const prev = this.last.get(k);
    this.last.set(k, { at: now, c });
    if (!prev) return undefined;
    const dt = (now - prev.at) / 1000;
    const d = {
      tx: c.txBytes - prev.c.txBytes,
      rx: c.rxBytes - prev.c.rxBytes,
      txd: c.txDropped - prev.c.txDropped,
      rxd: c.rxDropped - prev.c.rxDropped,
    };
    if (dt <= 0 || d.tx < 0n || d.rx < 0n || d.txd < 0n || d.rxd < 0n) return undefined;
    return {
      txBps: (Number(d.tx) * 8) / dt,
      rxBps: (Number(d.rx) * 8) / dt,
      txDropsPerSec: Number(d.txd) / dt,
      rxDropsPerSec: Number(d.rxd) / dt,
    };
  }

  /** A switch that reconnects starts over: its old counters say nothing about the new ones. */
  forgetSwitch(dpid: string): void {
    for (const k of this.last.keys()) if (k.startsWith(`${dpid}:`)) this.last.delete(k);
  }
}
