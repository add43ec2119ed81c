// Switch session and programmer micro-benchmark: what one connection's plumbing costs, without
// planners. Run: node --import tsx bench/session.ts [--seconds 2]
//
// 1. step: 64 KiB reads of packet-ins (UDP frames, in_port match) fed to the session step of a
//    ready switch: packet-ins/s and ns per packet-in; again with admission refusing every one.
// 2. programmer: flow-mods submitted by many submitters per turn, batched and encoded into one
//    buffer per turn, each batch confirmed by its barrier: flow-mods/s.
// 3. loopback: a SwitchSession on a real TCP socket against a scripted switch in this process
//    that keeps the socket full of packet-ins; every packet-in is answered with a flow-mod through
//    the programmer and a packet-out after its barrier (what forwarding does for a new flow):
//    answered packet-ins/s. Both ends share this process, so this is a floor, not the ceiling.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { encode, encodeAll, flowMod, FrameReader, OFP_NO_BUFFER, OFPR_NO_MATCH } from 'openflow-ts';
import type { OfMessage, Unnumbered } from 'openflow-ts';
import { allocXids, start, step, type MachineState } from '../controller/session/machine.ts';
import { Programmer } from '../controller/programmer.ts';
import { SwitchSession } from '../controller/session.ts';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2;

const udpFrame = (n: number): Buffer => {
  const b = Buffer.alloc(60);
  b.writeUIntBE(0x020000000001, 0, 6);
  b.writeUIntBE(0x020000000000 + n, 6, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b[23] = 17;
  b.writeUInt32BE(n, 26);
  return b;
};
const packetIn = (n: number): Unnumbered => ({
  type: 'packet_in', bufferId: OFP_NO_BUFFER, totalLen: 60, reason: OFPR_NO_MATCH, tableId: 0, cookie: 0n,
  match: [{ field: 'in_port', value: 1 }], data: udpFrame(n),
});

/** A 64 KiB read: as many whole packet-ins as fit. */
const chunk = ((): Buffer => {
  const one = encode({ ...packetIn(1), xid: 0 } as OfMessage);
  const n = Math.floor(65536 / one.length);
  return encodeAll(Array.from({ length: n }, (_, i) => packetIn(i)), 1);
})();
const perChunk = new FrameReader().push(chunk).length;

function readySession(admit: boolean): MachineState {
  const s = start({ echoIntervalMs: 5000, requestTimeoutMs: 10_000, admission: { admit: () => admit } }, 0).state;
  const feed = (m: OfMessage): OfMessage[] => step(s, { kind: 'data', chunk: encode(m) }, 0).output;
  const features = feed({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] })[0]!;
  const out = feed({ type: 'features_reply', xid: features.xid, datapathId: 1n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
  const ports = out.find((m) => m.type === 'multipart_request')!;
  const barrier = out.find((m) => m.type === 'barrier_request')!;
  feed({ type: 'multipart_reply', xid: ports.xid, flags: 0, body: { kind: 'port_desc', ports: [] } });
  feed({ type: 'barrier_reply', xid: barrier.xid });
  step(s, { kind: 'programmed' }, 0);
  if (s.phase !== 'ready') throw new Error(`bench session not ready: ${s.phase}`);
  return s;
}

function timeLoop(run: () => number): number {
  // Warm up, then count units done over the measuring time.
  const warm = Date.now() + 300;
  while (Date.now() < warm) run();
  let units = 0;
  const t0 = process.hrtime.bigint();
  const end = Date.now() + SECONDS * 1000;
  while (Date.now() < end) units += run();
  const ns = Number(process.hrtime.bigint() - t0);
  return units / (ns / 1e9);
}

function benchStep(admit: boolean): number {
  const s = readySession(admit);
  let now = 0;
  return timeLoop(() => {
    const r = step(s, { kind: 'data', chunk }, ++now);
    return admit ? r.events.length : perChunk;
  });
}

function benchProgrammer(): Promise<number> {
  const s = readySession(true);
  let bytes = 0;
  let confirm: number[] = [];
  const p = new Programmer(
    {
      write(messages, barrier) {
        const first = allocXids(s, messages.length);
        bytes += encodeAll(messages, first).length;
        if (barrier) confirm.push(first + messages.length - 1);
        return first;
      },
    },
    { defer: (fn) => setImmediate(fn) },
  );
  const rule = flowMod({
    priority: 100, idleTimeout: 60, cookie: 0xf100000000000001n,
    match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }, { field: 'ipv4_src', value: '10.0.0.1' }, { field: 'ipv4_dst', value: '10.0.0.2' }],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }],
  });
  return new Promise((resolve) => {
    let done = 0;
    const t0 = process.hrtime.bigint();
    const end = Date.now() + SECONDS * 1000;
    const turn = (): void => {
      // 256 submitters of one flow-mod each per turn: a busy turn of packet-ins.
      for (let i = 0; i < 256; i++) void p.submit([rule]).then(() => void done++);
      setImmediate(() => {
        for (const xid of confirm) p.barrierReplied(xid);
        confirm = [];
        if (Date.now() < end) setImmediate(turn);
        else setImmediate(() => resolve(done / (Number(process.hrtime.bigint() - t0) / 1e9)));
      });
    };
    turn();
  });
}

/** The loopback run: answered packet-ins per second. */
async function benchLoopback(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const sessions: SwitchSession[] = [];
  let answered = 0;
  server.on('connection', (socket: Socket) => {
    const s = new SwitchSession(socket);
    sessions.push(s);
    s.on('packet_in', (m) => {
      const rule = flowMod({ priority: 100, idleTimeout: 60, match: [{ field: 'in_port', value: 1 }], instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }] });
      s.programmer.submit([rule]).then(
        () => s.programmer.send([{ type: 'packet_out', bufferId: OFP_NO_BUFFER, inPort: 1, actions: [{ type: 'output', port: 2, maxLen: 0 }], data: m.data }]),
        () => undefined,
      );
    });
  });
  // The scripted switch: handshake by type byte, barriers answered, packet-outs counted, and the
  // socket kept full of packet-ins (at most 4,096 unanswered, as cbench's throughput mode caps it).
  const sw = connect(port, '127.0.0.1');
  const reader = new FrameReader();
  let ready = false;
  let sent = 0;
  const burst = encodeAll(Array.from({ length: 64 }, (_, i) => packetIn(i)), 1);
  const pump = (): void => {
    while (ready && sent - answered < 4096 && sw.write(burst)) sent += 64;
  };
  sw.on('drain', pump);
  sw.on('data', (data: Buffer) => {
    for (const f of reader.push(data)) {
      const xid = f.readUInt32BE(4);
      switch (f[1]) {
        case 5:
          sw.write(encode({ type: 'features_reply', xid, datapathId: 7n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 }));
          break;
        case 18:
          if (f.readUInt16BE(8) === 13) sw.write(encode({ type: 'multipart_reply', xid, flags: 0, body: { kind: 'port_desc', ports: [] } }));
          break;
        case 20:
          sw.write(encode({ type: 'barrier_reply', xid }));
          break;
        case 13: // packet-out
          answered++;
          break;
        case 14: // flow-mod: the table-miss entry is the first
          if (!ready) {
            ready = true;
            setImmediate(pump);
          }
          break;
        default:
      }
    }
    pump();
  });
  sw.write(encode({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [4] }] }));
  await new Promise<void>((r) => {
    const wait = (): void => (ready ? r() : void setTimeout(wait, 10));
    wait();
  });
  await new Promise((r) => setTimeout(r, 300));
  const a0 = answered;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = (answered - a0) / ((Date.now() - t0) / 1000);
  sw.destroy();
  for (const s of sessions) s.destroy('bench over');
  server.close();
  return rate;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const step1 = benchStep(true);
console.log(`session step, packet-ins decoded and emitted: ${fmt(step1)}/s (${(1e9 / step1).toFixed(0)} ns each; ${perChunk} per 64 KiB read)`);
const step2 = benchStep(false);
console.log(`session step, packet-ins refused by admission: ${fmt(step2)}/s (${(1e9 / step2).toFixed(0)} ns each)`);
console.log(`programmer, flow-mods submitted, batched, encoded and confirmed: ${fmt(await benchProgrammer())}/s`);
console.log(`loopback session, packet-ins answered (flow-mod to its barrier, then packet-out): ${fmt(await benchLoopback())}/s`);
