// cbench's method over emulated switches: each switch has `macs` source hosts on port 1 and
// `dests` destinations on ports 2..dests+1, and sends packet-ins from sources to destinations.
// A packet-in is answered when a packet-out carries its frame back, or a flow-mod names its
// source (eth_src or ipv4_src) while it is that source's newest outstanding frame: cbench counts
// the first response. Latency mode keeps one packet-in
// outstanding per switch; throughput mode keeps the socket full, up to a cap of outstanding.
import { performance } from 'node:perf_hooks';
import type { EmuOfSwitch, SwitchHooks } from './switch.ts';
import { flowModSource } from './switch.ts';
import { announceFrame, packetIn, readTag, REASON_NO_MATCH, STORM_PACKET_IN_LEN, TAGGED_PACKET_IN_LEN, writeStormPacketIn, writeTaggedPacketIn } from './packets.ts';
import { cbenchHostAddr, type CbenchShape } from './wiring.ts';

export type TrafficMode = 'off' | 'latency' | 'throughput';

/** Packet-ins written per socket write in throughput mode. */
const BATCH = 32;
/** Storm packet-ins per write: big writes, so that the emulator is never what limits a storm. */
const STORM_BATCH = 256;

class SwitchTraffic {
  seq = 0;
  /** seq → time sent (performance.now()). */
  readonly outstanding = new Map<number, number>();
  /** Newest outstanding seq per source, for flow-mod answers. */
  readonly newestBySrc: Float64Array;
  waitingDrain = false;
  constructor(macs: number) {
    this.newestBySrc = new Float64Array(macs).fill(-1);
  }
}

export interface CbenchWindow {
  sent: number;
  answered: number;
  /** Given up on after lostAfterMs with no answer (a controller may drop packet-ins under load). */
  lost: number;
  answeredByFlowMod: number;
  rttsMs: number[];
}

export class CbenchNetwork implements SwitchHooks {
  mode: TrafficMode = 'off';
  /** Outstanding packet-ins per switch in throughput mode. */
  cap = 256;
  window: CbenchWindow = { sent: 0, answered: 0, lost: 0, answeredByFlowMod: 0, rttsMs: [] };
  /** An unanswered packet-in counts as lost after this long (5x in throughput mode), so that drops cannot stall a switch. */
  lostAfterMs = 2000;
  stormSent = 0;
  private readonly traffic: SwitchTraffic[];
  private switches: readonly EmuOfSwitch[] = [];
  private readonly refill = new Set<number>();
  private refillScheduled = false;
  private xid = 1;

  constructor(readonly shape: CbenchShape) {
    this.traffic = Array.from({ length: shape.switches }, () => new SwitchTraffic(shape.macs));
  }

  attach(switches: readonly EmuOfSwitch[]): void {
    this.switches = switches;
  }

  /** Socket listeners are per connection: the emulator calls this after each (re)connect. */
  connected(sw: EmuOfSwitch): void {
    sw.socket?.on('drain', () => this.onDrain(sw.index));
    const t = this.traffic[sw.index]!;
    t.outstanding.clear();
    t.waitingDrain = false;
    if (this.mode !== 'off') this.kick(sw.index);
  }

  setMode(mode: TrafficMode, cap?: number): void {
    this.mode = mode;
    if (cap !== undefined) this.cap = Math.max(1, cap);
    if (mode === 'off') return;
    for (const sw of this.switches) this.kick(sw.index);
  }

  takeWindow(): CbenchWindow {
    const w = this.window;
    this.window = { sent: 0, answered: 0, lost: 0, answeredByFlowMod: 0, rttsMs: [] };
    return w;
  }

  outstandingCount(): number {
    let n = 0;
    for (const t of this.traffic) n += t.outstanding.size;
    return n;
  }

  /**
   * Gives up on packet-ins older than lostAfterMs (called on a timer). Outstanding maps keep
   * insertion order, which is sending order: the scan stops at the first young one.
   */
  expire(): void {
    if (this.mode === 'off') return;
    // With the socket kept full, answers queue behind each other: give them longer.
    const limit = performance.now() - (this.mode === 'throughput' ? 5 : 1) * this.lostAfterMs;
    this.traffic.forEach((t, i) => {
      let lost = 0;
      for (const [seq, at] of t.outstanding) {
        if (at > limit) break;
        t.outstanding.delete(seq);
        lost++;
      }
      if (lost === 0) return;
      this.window.lost += lost;
      this.kick(i);
    });
  }

  /** Every destination host sends one gratuitous ARP from its port. */
  announceDestinations(): number {
    let n = 0;
    for (const sw of this.switches) {
      if (!sw.featured) continue;
      for (let d = 0; d < this.shape.dests; d++) {
        const h = cbenchHostAddr(this.shape, sw.index, this.shape.macs + d);
        sw.writeRaw(packetIn(this.xid++, d + 2, announceFrame(h.mac, h.ipv4), REASON_NO_MATCH));
        n++;
      }
    }
    return n;
  }

  /** ARP packet-ins from new source MACs on one switch, as fast as TCP takes them, for durationMs. */
  async storm(switchIndex: number, durationMs: number): Promise<number> {
    const sw = this.switches[switchIndex];
    if (sw === undefined) throw new Error(`no switch ${switchIndex}`);
    const until = performance.now() + durationMs;
    let sent = 0;
    while (performance.now() < until) {
      if (!sw.connected || !sw.featured || sw.socket === undefined) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const batch = Buffer.allocUnsafe(STORM_BATCH * STORM_PACKET_IN_LEN);
      for (let b = 0; b < STORM_BATCH; b++) writeStormPacketIn(batch, b * STORM_PACKET_IN_LEN, this.xid++, this.stormSent + sent + b);
      sent += STORM_BATCH;
      const s = sw.socket;
      if (!sw.writeRaw(batch)) {
        // Wait for TCP to take it, but never past the end of the storm.
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, Math.max(0, until - performance.now()));
          function done(): void {
            clearTimeout(t);
            s.off('drain', done);
            s.off('close', done);
            resolve();
          }
          s.once('drain', done);
          s.once('close', done);
        });
      } else {
        // Let the rest of the emulator (echoes, the quiet switches) have the loop now and then.
        await new Promise((r) => setImmediate(r));
      }
    }
    this.stormSent += sent;
    return sent;
  }

  packetOut(sw: EmuOfSwitch, data: Buffer): void {
    const tag = readTag(data);
    if (tag === undefined || tag.switchIndex !== sw.index) return;
    this.answer(sw.index, tag.seq, false);
  }

  flowMod(sw: EmuOfSwitch, msg: Buffer): void {
    const src = flowModSource(msg);
    const j = src.mac ? this.sourceByMac(sw.index, src.mac) : src.ipv4 ? this.sourceByIp(sw.index, src.ipv4) : -1;
    const t = this.traffic[sw.index]!;
    if (j < 0 || j >= t.newestBySrc.length) return;
    const seq = t.newestBySrc[j]!;
    if (seq >= 0) this.answer(sw.index, seq, true);
  }

  /** Sources are 0a:ii:ii:jj:jj:jj (wiring.ts); anything else names no packet-in of ours. */
  private sourceByMac(i: number, mac: Buffer): number {
    if (mac[0] !== 0x0a || ((mac[1]! << 8) | mac[2]!) !== i + 1) return -1;
    return (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!;
  }

  /** Sources are 10.n.n.n with n = i*(macs+dests)+j+1 (wiring.ts). */
  private sourceByIp(i: number, ip: Buffer): number {
    if (ip[0] !== 10) return -1;
    const n = (ip[1]! << 16) | (ip[2]! << 8) | ip[3]!;
    const j = n - 1 - i * (this.shape.macs + this.shape.dests);
    return j >= 0 && j < this.shape.macs ? j : -1;
  }

  private answer(i: number, seq: number, byFlowMod: boolean): void {
    const t = this.traffic[i]!;
    const sentAt = t.outstanding.get(seq);
    if (sentAt === undefined) return;
    t.outstanding.delete(seq);
    const j = seq % this.shape.macs;
    if (t.newestBySrc[j] === seq) t.newestBySrc[j] = -1;
    this.window.answered++;
    if (byFlowMod) this.window.answeredByFlowMod++;
    this.window.rttsMs.push(performance.now() - sentAt);
    if (this.mode === 'latency') this.sendOne(i);
    else if (this.mode === 'throughput') this.scheduleRefill(i);
  }

  private onDrain(i: number): void {
    const t = this.traffic[i]!;
    t.waitingDrain = false;
    if (this.mode === 'throughput') this.scheduleRefill(i);
  }

  private kick(i: number): void {
    if (this.mode === 'latency') {
      if (this.traffic[i]!.outstanding.size === 0) this.sendOne(i);
    } else if (this.mode === 'throughput') this.scheduleRefill(i);
  }

  /** Answers come in bursts: top the window up once per turn of the event loop, not per answer. */
  private scheduleRefill(i: number): void {
    this.refill.add(i);
    if (this.refillScheduled) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      const todo = [...this.refill];
      this.refill.clear();
      for (const k of todo) this.fill(k);
    });
  }

  private fill(i: number): void {
    const sw = this.switches[i];
    const t = this.traffic[i]!;
    if (sw === undefined || !sw.featured || this.mode !== 'throughput') return;
    while (!t.waitingDrain && t.outstanding.size < this.cap) {
      const n = Math.min(BATCH, this.cap - t.outstanding.size);
      const buf = Buffer.allocUnsafe(n * TAGGED_PACKET_IN_LEN);
      for (let b = 0; b < n; b++) this.writeNext(t, i, buf, b * TAGGED_PACKET_IN_LEN);
      if (!sw.writeRaw(buf)) t.waitingDrain = true;
    }
  }

  private sendOne(i: number): void {
    const sw = this.switches[i];
    if (sw === undefined || !sw.featured) return;
    const buf = Buffer.allocUnsafe(TAGGED_PACKET_IN_LEN);
    this.writeNext(this.traffic[i]!, i, buf, 0);
    sw.writeRaw(buf);
  }

  /** Source and destination cycle so that every source appears and no host ever moves. */
  private writeNext(t: SwitchTraffic, i: number, buf: Buffer, off: number): void {
    const seq = t.seq;
    t.seq = (t.seq + 1) >>> 0;
    const src = seq % this.shape.macs;
    const dst = this.shape.macs + (Math.floor(seq / this.shape.macs) % this.shape.dests);
    writeTaggedPacketIn(buf, off, this.xid++, 1, this.shape, i, src, dst, seq);
    t.outstanding.set(seq, performance.now());
    t.newestBySrc[src] = seq;
    this.window.sent++;
  }
}
