// One emulated OpenFlow 1.3 switch: a TCP connection to the controller that answers what a real
// switch answers (hello, features, port descriptions and statistics, echo, barrier, role, async
// config) and takes flow, group and meter mods silently, counting them. Packet-outs and flow-mods
// go to the network it belongs to (hooks). Hot messages (packet-out, flow-mod, echo, barrier)
// are read straight from the bytes; the rest goes through the project's codec.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  decode,
  encode,
  FrameReader,
  OFP_VERSION,
  OFPBRC_BAD_EXPERIMENTER,
  OFPBRC_BAD_MULTIPART,
  OFPBRC_BAD_TYPE,
  OFPC_FLOW_STATS,
  OFPC_GROUP_STATS,
  OFPC_PORT_STATS,
  OFPC_TABLE_STATS,
  OFPET_BAD_REQUEST,
  OFPGT_ALL,
  OFPGT_FF,
  OFPGT_INDIRECT,
  OFPGT_SELECT,
  OFPMBT_DROP,
  OFPMBT_DSCP_REMARK,
  OFPMF_BURST,
  OFPMF_KBPS,
  OFPMF_PKTPS,
  OFPMF_STATS,
  OFPP_ANY,
  OFPPF_10GB_FD,
  OFPPF_COPPER,
  OFPPR_MODIFY,
  OFPPS_LINK_DOWN,
  OFPPS_LIVE,
  type MultipartRequest,
  type OfMessage,
  type Port,
  type PortStats,
} from 'openflow-ts';
import type { Clock } from '../../bus/clock.ts';
import { bytesAndPackets, PortCounters } from './port-counters.ts';
import { portMac } from './wiring.ts';

/** 10 Gb/s, the speed every emulated port reports. */
export const PORT_SPEED_KBPS = 10_000_000;

export interface SwitchHooks {
  /** A packet-out: the frame it carries and the physical ports its output actions name. */
  packetOut(sw: EmuOfSwitch, data: Buffer, outPorts: readonly number[]): void;
  /** A flow-mod, raw (the whole message), for networks that look at its match. */
  flowMod(sw: EmuOfSwitch, msg: Buffer): void;
  /** The controller has asked for features: it knows the switch from now on. */
  connected(sw: EmuOfSwitch): void;
}

export interface SwitchCounters {
  flowMods: number;
  groupMods: number;
  meterMods: number;
  packetOuts: number;
  barriers: number;
  portStatsRequests: number;
  otherMultipart: number;
  /** Connections the controller (or the network) closed. */
  closes: number;
  connects: number;
}

export interface EchoCounters {
  sent: number;
  answered: number;
  /** Echoes still unanswered when the next one fell due. */
  late: number;
  rttsMs: number[];
  /** The longest wait for an answer seen, answered or not, in ms. */
  maxWaitMs: number;
}

export interface SwitchOptions {
  readonly host: string;
  readonly port: number;
  readonly clock: Clock;
  /** Wait before reconnecting after the controller closed the session. */
  readonly reconnectMs: number;
}

const CONNECT_TIMEOUT_MS = 10_000;
const ETH_SRC_OXM = 0x80000806;
const ETH_SRC_OXM_MASKED = 0x8000090c;
const IPV4_SRC_OXM = 0x80001604;
const IPV4_SRC_OXM_MASKED = 0x80001708;

export class EmuOfSwitch {
  socket: Socket | undefined;
  connected = false;
  /** Whether the switch has sent FEATURES_REPLY on the current connection. */
  featured = false;
  readonly counters: SwitchCounters = {
    flowMods: 0, groupMods: 0, meterMods: 0, packetOuts: 0, barriers: 0, portStatsRequests: 0, otherMultipart: 0, closes: 0, connects: 0,
  };
  readonly echo: EchoCounters = { sent: 0, answered: 0, late: 0, rttsMs: [], maxWaitMs: 0 };
  /** Port p lives at index p-1. */
  readonly ports: PortCounters[];
  readonly portUp: boolean[];
  private reader = new FrameReader();
  private connectedAt = 0;
  private echoXid = 0;
  private echoSentAt = -1;
  private nextXid = 0x40000000;
  private stopped = false;
  private reconnectTimer: (() => void) | undefined;

  constructor(
    readonly index: number,
    readonly dpid: bigint,
    readonly nPorts: number,
    private readonly hooks: SwitchHooks,
    private readonly opts: SwitchOptions,
  ) {
    this.ports = Array.from({ length: nPorts }, () => new PortCounters());
    this.portUp = new Array<boolean>(nPorts).fill(true);
  }

  /** Resolves once TCP is connected (or rejects on the first connect error). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.open(resolve, reject);
    });
  }

  stop(): void {
    this.stopped = true;
    this.reconnectTimer?.();
    this.socket?.destroy();
  }

  /** Writes raw bytes (already-encoded messages); returns socket.write()'s verdict. */
  writeRaw(buf: Buffer): boolean {
    const s = this.socket;
    if (!this.connected || s === undefined) return false;
    return s.write(buf);
  }

  send(msg: OfMessage): boolean {
    return this.writeRaw(encode(msg));
  }

  xid(): number {
    this.nextXid = this.nextXid >= 0x7fffffff ? 0x40000000 : this.nextXid + 1;
    return this.nextXid;
  }

  /** Called on the emulator's echo tick: sends an echo unless one is still unanswered. */
  probeEcho(): void {
    if (!this.connected || !this.featured) return;
    const now = performance.now();
    if (this.echoSentAt >= 0) {
      this.echo.maxWaitMs = Math.max(this.echo.maxWaitMs, now - this.echoSentAt);
      this.echo.late++;
      return;
    }
    this.echoXid = this.xid();
    this.echoSentAt = now;
    this.echo.sent++;
    this.send({ type: 'echo_request', xid: this.echoXid, data: Buffer.alloc(0) });
  }

  /** Link state of one port: PORT_STATUS to the controller, and the live flag for port_desc. */
  setPortUp(port: number, up: boolean): void {
    if (this.portUp[port - 1] === up) return;
    this.portUp[port - 1] = up;
    if (this.featured) this.send({ type: 'port_status', xid: 0, reason: OFPPR_MODIFY, port: this.portDesc(port) });
  }

  portDesc(p: number): Port {
    const up = this.portUp[p - 1] ?? false;
    return {
      portNo: p,
      hwAddr: portMac(this.dpid, p),
      name: `s${this.index}-eth${p}`,
      config: 0,
      state: up ? OFPPS_LIVE : OFPPS_LINK_DOWN,
      curr: OFPPF_10GB_FD | OFPPF_COPPER,
      advertised: OFPPF_10GB_FD | OFPPF_COPPER,
      supported: OFPPF_10GB_FD | OFPPF_COPPER,
      peer: 0,
      currSpeed: PORT_SPEED_KBPS,
      maxSpeed: PORT_SPEED_KBPS,
    };
  }

  private open(onConnect?: () => void, onFirstError?: (e: Error) => void): void {
    const s = connect({ host: this.opts.host, port: this.opts.port });
    this.socket = s;
    this.reader = new FrameReader();
    this.echoSentAt = -1;
    s.setNoDelay(true);
    // A controller that stops accepting (its backlog full) leaves connect() pending for minutes.
    s.setTimeout(CONNECT_TIMEOUT_MS, () => s.destroy(new Error(`no TCP connection to ${this.opts.host}:${this.opts.port} within ${CONNECT_TIMEOUT_MS} ms`)));
    s.once('connect', () => {
      s.setTimeout(0);
      this.connected = true;
      this.featured = false;
      this.counters.connects++;
      this.connectedAt = this.opts.clock.now();
      this.send({ type: 'hello', xid: this.xid(), elements: [{ type: 'versionbitmap', versions: [OFP_VERSION] }] });
      onConnect?.();
      onFirstError = undefined;
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => {
      if (onFirstError) {
        onFirstError(err);
        onFirstError = undefined;
      }
    });
    s.once('close', () => {
      const was = this.connected;
      this.connected = false;
      this.featured = false;
      // A first connect that failed is the caller's to report, not to retry.
      if (this.stopped || (!was && this.counters.connects === 0)) return;
      if (was) this.counters.closes++;
      this.reconnectTimer = this.opts.clock.setTimeout(() => {
        if (!this.stopped) this.open();
      }, this.opts.reconnectMs);
    });
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch {
      this.socket?.destroy();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Buffer): void {
    const type = f[1]!;
    const xid = f.readUInt32BE(4);
    switch (type) {
      case 0: // hello: ours went out on connect
      case 9: // set_config
      case 28: // set_async
      case 16: // port_mod
      case 17: // table_mod
        return;
      case 2: {
        const r = Buffer.from(f);
        r[1] = 3;
        this.writeRaw(r);
        return;
      }
      case 3:
        if (xid === this.echoXid && this.echoSentAt >= 0) {
          const rtt = performance.now() - this.echoSentAt;
          this.echo.answered++;
          this.echo.rttsMs.push(rtt);
          this.echo.maxWaitMs = Math.max(this.echo.maxWaitMs, rtt);
          this.echoSentAt = -1;
        }
        return;
      case 5:
        this.send({
          type: 'features_reply', xid, datapathId: this.dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0,
          capabilities: OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_GROUP_STATS,
        });
        if (!this.featured) {
          this.featured = true;
          this.hooks.connected(this);
        }
        return;
      case 7:
        this.send({ type: 'get_config_reply', xid, flags: 0, missSendLen: 0xffff });
        return;
      case 13:
        this.onPacketOut(f);
        return;
      case 14:
        this.counters.flowMods++;
        this.hooks.flowMod(this, f);
        return;
      case 15:
        this.counters.groupMods++;
        return;
      case 29:
        this.counters.meterMods++;
        return;
      case 18:
        this.onMultipart(f);
        return;
      case 20:
        this.counters.barriers++;
        this.send({ type: 'barrier_reply', xid });
        return;
      case 22:
        this.send({ type: 'queue_get_config_reply', xid, port: f.length >= 12 ? f.readUInt32BE(8) : OFPP_ANY, queues: [] });
        return;
      case 24:
        if (f.length >= 24) this.send({ type: 'role_reply', xid, role: f.readUInt32BE(8), generationId: f.readBigUInt64BE(16) });
        return;
      case 26:
        this.send({ type: 'get_async_reply', xid, packetInMask: [0b11, 0], portStatusMask: [0b111, 0b111], flowRemovedMask: [0b1111, 0] });
        return;
      case 4:
        this.error(f, OFPBRC_BAD_EXPERIMENTER);
        return;
      default:
        this.error(f, OFPBRC_BAD_TYPE);
    }
  }

  private error(f: Buffer, code: number): void {
    this.send({ type: 'error', xid: f.readUInt32BE(4), errorType: OFPET_BAD_REQUEST, code, data: Buffer.from(f.subarray(0, 64)) });
  }

  /** ofp_packet_out: buffer_id, in_port, actions_len, pad(6), actions, data. */
  private onPacketOut(f: Buffer): void {
    this.counters.packetOuts++;
    if (f.length < 24) return;
    const actionsLen = f.readUInt16BE(16);
    const dataAt = 24 + actionsLen;
    if (dataAt > f.length) return;
    const out: number[] = [];
    for (let a = 24; a + 8 <= dataAt; ) {
      const t = f.readUInt16BE(a);
      const len = f.readUInt16BE(a + 2);
      if (len < 8) break;
      if (t === 0 && len >= 16) out.push(f.readUInt32BE(a + 4));
      a += len;
    }
    this.hooks.packetOut(this, f.subarray(dataAt), out);
  }

  private onMultipart(f: Buffer): void {
    let msg: OfMessage;
    try {
      msg = decode(f);
    } catch {
      this.error(f, OFPBRC_BAD_MULTIPART);
      return;
    }
    if (msg.type !== 'multipart_request') return;
    const body = this.multipartReply(msg.body);
    if (body === undefined) {
      this.error(f, OFPBRC_BAD_MULTIPART);
      return;
    }
    this.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body });
  }

  private multipartReply(b: MultipartRequest['body']): Extract<OfMessage, { type: 'multipart_reply' }>['body'] | undefined {
    if (b.kind === 'port_stats') this.counters.portStatsRequests++;
    else this.counters.otherMultipart++;
    switch (b.kind) {
      case 'port_desc':
        return { kind: 'port_desc', ports: Array.from({ length: this.nPorts }, (_, i) => this.portDesc(i + 1)) };
      case 'port_stats': {
        const all = b.portNo === OFPP_ANY;
        const stats: PortStats[] = [];
        for (let p = 1; p <= this.nPorts; p++) if (all || p === b.portNo) stats.push(this.portStats(p));
        return { kind: 'port_stats', stats };
      }
      case 'desc':
        return { kind: 'desc', mfrDesc: 'meshflow', hwDesc: 'emulated switch', swDesc: 'bench/emu', serialNum: String(this.index), dpDesc: `emu ${this.dpid.toString(16)}` };
      case 'meter_features':
        return { kind: 'meter_features', maxMeter: 1024, bandTypes: (1 << OFPMBT_DROP) | (1 << OFPMBT_DSCP_REMARK), capabilities: OFPMF_KBPS | OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS, maxBands: 4, maxColor: 0 };
      case 'group_features':
        return {
          kind: 'group_features',
          types: (1 << OFPGT_ALL) | (1 << OFPGT_SELECT) | (1 << OFPGT_INDIRECT) | (1 << OFPGT_FF),
          capabilities: 0,
          maxGroups: [1024, 1024, 1024, 1024],
          actions: [1, 1, 1, 1],
        };
      case 'flow':
        return { kind: 'flow', stats: [] };
      case 'aggregate':
        return { kind: 'aggregate', packetCount: 0n, byteCount: 0n, flowCount: 0 };
      case 'table':
        return { kind: 'table', stats: [] };
      case 'queue':
        return { kind: 'queue', stats: [] };
      case 'group':
        return { kind: 'group', stats: [] };
      case 'group_desc':
        return { kind: 'group_desc', groups: [] };
      case 'meter':
        return { kind: 'meter', stats: [] };
      case 'meter_config':
        return { kind: 'meter_config', meters: [] };
      case 'table_features':
        return { kind: 'table_features', tables: [] };
      case 'experimenter':
      case 'unknown':
        return undefined;
    }
  }

  private portStats(p: number): PortStats {
    const now = this.opts.clock.now();
    const c = this.ports[p - 1]!;
    const tx = bytesAndPackets(c.tx, now);
    const rx = bytesAndPackets(c.rx, now);
    const up = Math.max(0, now - this.connectedAt);
    return {
      portNo: p,
      rxPackets: rx.packets,
      txPackets: tx.packets,
      rxBytes: rx.bytes,
      txBytes: tx.bytes,
      rxDropped: 0n,
      txDropped: 0n,
      rxErrors: 0n,
      txErrors: 0n,
      rxFrameErr: 0n,
      rxOverErr: 0n,
      rxCrcErr: 0n,
      collisions: 0n,
      durationSec: Math.floor(up / 1000),
      durationNsec: (up % 1000) * 1_000_000,
    };
  }
}

/**
 * What a flow-mod's match says about the source: its eth_src and ipv4_src values (views into the
 * message), found by scanning the OXM list in place.
 */
export function flowModSource(f: Buffer): { mac?: Buffer; ipv4?: Buffer } {
  // ofp_flow_mod: header 8, fixed 40, then ofp_match (type, length, OXMs).
  const m = 48;
  const out: { mac?: Buffer; ipv4?: Buffer } = {};
  if (f.length < m + 4) return out;
  const end = Math.min(f.length, m + f.readUInt16BE(m + 2));
  for (let o = m + 4; o + 4 <= end; ) {
    const h = f.readUInt32BE(o);
    const len = h & 0xff;
    if (h === ETH_SRC_OXM || h === ETH_SRC_OXM_MASKED) out.mac = f.subarray(o + 4, o + 10);
    else if (h === IPV4_SRC_OXM || h === IPV4_SRC_OXM_MASKED) out.ipv4 = f.subarray(o + 4, o + 8);
    o += 4 + len;
  }
  return out;
}
