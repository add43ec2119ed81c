// The session step with no socket: bytes and ticks in, messages and events out, time passed by hand.
import assert from 'node:assert/strict';
import { allocXids, start, step, type MachineEvent, type MachineSettings, type MachineState, type Step } from '../../controller/session/machine.ts';
import { SessionClosedError, SwitchRequestError, SwitchTimeoutError, UnexpectedReplyError } from '../../controller/session/errors.ts';
import {
  encode,
  OFPET_BAD_REQUEST,
  OFPET_HELLO_FAILED,
  OFPMPF_REPLY_MORE,
  OFPMF_PKTPS,
  OFPBRC_BAD_VERSION,
  OFPBRC_BAD_TYPE,
  OFPET_FLOW_MOD_FAILED,
} from 'openflow-ts';
import type { MultipartReplyBody, OfMessage, Port } from 'openflow-ts';

const settings: MachineSettings = { echoIntervalMs: 1000, requestTimeoutMs: 5000 };

const port = (n: number): Port => ({
  portNo: n, hwAddr: `02:00:00:00:00:0${n}`, name: `p${n}`, config: 0, state: 0,
  curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0,
});

const bytes = (...msgs: OfMessage[]): Buffer => Buffer.concat(msgs.map((m) => encode(m)));
const data = (s: MachineState, chunk: Buffer, now = 0): Step => step(s, { kind: 'data', chunk }, now);
const kinds = (events: readonly MachineEvent[]): string[] => events.map((e) => e.kind);
const types = (output: readonly OfMessage[]): string[] => output.map((m) => m.type);
const hello: OfMessage = { type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [1, 4] }] };

function find<T extends OfMessage['type']>(out: readonly OfMessage[], type: T): Extract<OfMessage, { type: T }> {
  const m = out.find((x) => x.type === type);
  assert.ok(m, `a ${type} in ${JSON.stringify(types(out))}`);
  return m as Extract<OfMessage, { type: T }>;
}

/** Runs the handshake up to `configured`; returns the state and the xids the switch must answer. */
function configure(opts: Partial<MachineSettings> = {}): { s: MachineState; out: OfMessage[] } {
  const s = start({ ...settings, ...opts }, 0).state;
  const features = find(data(s, bytes(hello)).output, 'features_request');
  const out = data(s, bytes({ type: 'features_reply', xid: features.xid, datapathId: 0xabn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 })).output;
  return { s, out };
}

function ready(opts: Partial<MachineSettings> = {}): MachineState {
  const { s, out } = configure(opts);
  const [ports, meters] = out.filter((m) => m.type === 'multipart_request');
  const barrier = find(out, 'barrier_request');
  data(s, bytes(
    { type: 'multipart_reply', xid: ports!.xid, flags: 0, body: { kind: 'port_desc', ports: [port(1)] } },
    { type: 'error', xid: meters!.xid, errorType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_TYPE, data: Buffer.alloc(0) },
    { type: 'barrier_reply', xid: barrier.xid },
  ));
  const r = step(s, { kind: 'programmed' }, 0);
  assert.deepEqual(kinds(r.events), ['ready']);
  return s;
}

describe('session step', () => {
  describe('handshake', () => {
    it('opens with a HELLO offering 1.3 and answers the peer HELLO with a features request', () => {
      const first = start(settings, 0);
      assert.deepEqual(types(first.output), ['hello']);
      const r = data(first.state, bytes(hello));
      assert.deepEqual(types(r.output), ['features_request']);
      assert.equal(r.state.phase, 'features');
    });

    it('asks for config, ports and meters after the features reply, then waits for the table-miss entry', () => {
      const { s, out } = configure();
      assert.equal(s.phase, 'config');
      assert.equal(s.dpid, '00000000000000ab');
      assert.deepEqual(types(out), ['set_config', 'multipart_request', 'multipart_request', 'barrier_request']);
      const [ports, meters] = out.filter((m) => m.type === 'multipart_request');
      assert.ok(ports?.type === 'multipart_request' && ports.body.kind === 'port_desc');
      assert.ok(meters?.type === 'multipart_request' && meters.body.kind === 'meter_features');
      // Port descriptions in two parts, the second split across two reads mid-header.
      const wire = bytes(
        { type: 'multipart_reply', xid: ports.xid, flags: OFPMPF_REPLY_MORE, body: { kind: 'port_desc', ports: [port(1)] } },
        { type: 'multipart_reply', xid: ports.xid, flags: 0, body: { kind: 'port_desc', ports: [port(2), port(3)] } },
        { type: 'multipart_reply', xid: meters.xid, flags: 0, body: { kind: 'meter_features', maxMeter: 100, bandTypes: 2, capabilities: OFPMF_PKTPS, maxBands: 1, maxColor: 0 } },
      );
      const cut = encode({ type: 'multipart_reply', xid: 0, flags: 0, body: { kind: 'port_desc', ports: [port(1)] } }).length + 3;
      assert.deepEqual(kinds(data(s, wire.subarray(0, cut)).events), []);
      const r = data(s, wire.subarray(cut));
      assert.deepEqual(kinds(r.events), ['configured']);
      assert.deepEqual([...s.ports.keys()], [1, 2, 3]);
      assert.equal(s.meters?.maxMeter, 100);
      assert.equal(s.phase, 'config', 'not ready before the table-miss entry is in');
      assert.deepEqual(kinds(step(s, { kind: 'programmed' }, 0).events), ['ready']);
      assert.equal(s.phase, 'ready');
    });

    it('takes a switch that leaves meter features unanswered until the barrier as one without meters', () => {
      const { s, out } = configure();
      const ports = out.find((m) => m.type === 'multipart_request')!;
      const barrier = find(out, 'barrier_request');
      const r = data(s, bytes(
        { type: 'multipart_reply', xid: ports.xid, flags: 0, body: { kind: 'port_desc', ports: [port(1)] } },
        { type: 'barrier_reply', xid: barrier.xid },
      ));
      assert.deepEqual(kinds(r.events), ['configured']);
      assert.equal(s.meters, undefined);
      assert.equal(s.pending.size, 0, 'the meter request no longer waits');
    });

    it('takes a switch that refuses the meter features request as one without meters', () => {
      assert.equal(ready().meters, undefined);
    });

    it('refuses a peer without OpenFlow 1.3 with HELLO_FAILED and closes', () => {
      const s = start(settings, 0).state;
      const r = data(s, bytes({ type: 'hello', xid: 9, elements: [{ type: 'versionbitmap', versions: [1] }] }));
      const err = find(r.output, 'error');
      assert.equal(err.errorType, OFPET_HELLO_FAILED);
      assert.equal(err.xid, 9);
      assert.deepEqual(kinds(r.events), ['closed']);
      assert.equal(s.phase, 'closed');
    });

    it('drops a peer that does not open with HELLO as soon as its type byte arrives', () => {
      const s = start(settings, 0).state;
      const r = data(s, Buffer.from('GE'));
      assert.deepEqual(kinds(r.events), ['malformed', 'closed']);
    });

    it('closes when the features request is refused', () => {
      const s = start(settings, 0).state;
      const features = find(data(s, bytes(hello)).output, 'features_request');
      const r = data(s, bytes({ type: 'error', xid: features.xid, errorType: OFPET_BAD_REQUEST, code: 0, data: Buffer.alloc(0) }));
      const closed = r.events.find((e) => e.kind === 'closed');
      assert.ok(closed?.kind === 'closed' && /handshake failed/.test(closed.reason));
    });
  });

  describe('requests and replies', () => {
    it('matches a reply to its request by xid', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      const r = step(s, { kind: 'request', xid, msg: { type: 'echo_request', data: Buffer.from('x') } }, 10);
      assert.deepEqual(r.output, [{ type: 'echo_request', xid, data: Buffer.from('x') }]);
      const got = data(s, bytes({ type: 'echo_reply', xid, data: Buffer.from('x') }), 20).events;
      assert.deepEqual(got, [{ kind: 'reply', xid, reply: { type: 'echo_reply', xid, data: Buffer.from('x') } }]);
    });

    it('writes nothing for a request the caller writes itself (a batch barrier)', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      assert.deepEqual(step(s, { kind: 'request', xid, msg: { type: 'barrier_request' }, written: true }, 0).output, []);
      assert.deepEqual(kinds(data(s, bytes({ type: 'barrier_reply', xid })).events), ['reply']);
    });

    it('reassembles a REPLY_MORE chain into one reply', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      step(s, { kind: 'request', xid, msg: { type: 'multipart_request', flags: 0, body: { kind: 'port_desc' } } }, 0);
      const first = data(s, bytes({ type: 'multipart_reply', xid, flags: OFPMPF_REPLY_MORE, body: { kind: 'port_desc', ports: [port(1)] } }));
      assert.deepEqual(first.events, []);
      const last = data(s, bytes({ type: 'multipart_reply', xid, flags: 0, body: { kind: 'port_desc', ports: [port(2)] } })).events[0];
      assert.ok(last?.kind === 'reply' && Array.isArray(last.reply));
      const parts = last.reply as readonly MultipartReplyBody[];
      assert.deepEqual(parts.map((p) => (p.kind === 'port_desc' ? p.ports.map((q) => q.portNo) : [])), [[1], [2]]);
    });

    it('fails a request answered with the wrong type or multipart kind', () => {
      const s = ready();
      const a = allocXids(s, 1);
      step(s, { kind: 'request', xid: a, msg: { type: 'barrier_request' } }, 0);
      const r1 = data(s, bytes({ type: 'echo_reply', xid: a, data: Buffer.alloc(0) })).events[0];
      assert.ok(r1?.kind === 'failed' && r1.error instanceof UnexpectedReplyError);
      const b = allocXids(s, 1);
      step(s, { kind: 'request', xid: b, msg: { type: 'multipart_request', flags: 0, body: { kind: 'port_stats', portNo: 1 } } }, 0);
      const r2 = data(s, bytes({ type: 'multipart_reply', xid: b, flags: 0, body: { kind: 'port_desc', ports: [] } })).events[0];
      assert.ok(r2?.kind === 'failed' && r2.error instanceof UnexpectedReplyError);
    });

    it('fails a request the switch refuses with its error', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      step(s, { kind: 'request', xid, msg: { type: 'features_request' } }, 0);
      const ev = data(s, bytes({ type: 'error', xid, errorType: OFPET_BAD_REQUEST, code: 1, data: Buffer.alloc(0) })).events[0];
      assert.ok(ev?.kind === 'failed' && ev.error instanceof SwitchRequestError && ev.error.error.code === 1);
    });

    it('passes an error no request waits for on as a switch error', () => {
      const s = ready();
      const ev = data(s, bytes({ type: 'error', xid: 424242, errorType: OFPET_FLOW_MOD_FAILED, code: 2, data: Buffer.alloc(0) })).events;
      assert.deepEqual(kinds(ev), ['switch_error']);
    });

    it('times a request out at its deadline, on a tick', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      step(s, { kind: 'request', xid, msg: { type: 'barrier_request' } }, 1000);
      // Traffic keeps the switch alive; only the request is late.
      data(s, bytes({ type: 'echo_request', xid: 77, data: Buffer.alloc(0) }), 5900);
      assert.deepEqual(step(s, { kind: 'tick' }, 5999).events, []);
      const ev = step(s, { kind: 'tick' }, 6000).events[0];
      assert.ok(ev?.kind === 'failed' && ev.xid === xid && ev.error instanceof SwitchTimeoutError);
      assert.equal(s.pending.size, 0);
    });

    it('fails every waiting request when it closes, and ignores input after', () => {
      const s = ready();
      const xid = allocXids(s, 1);
      step(s, { kind: 'request', xid, msg: { type: 'barrier_request' } }, 0);
      const r = step(s, { kind: 'close', reason: 'bye' }, 0);
      assert.deepEqual(kinds(r.events), ['failed', 'closed']);
      const failed = r.events[0];
      assert.ok(failed?.kind === 'failed' && failed.error instanceof SessionClosedError);
      const after = data(s, bytes({ type: 'echo_request', xid: 1, data: Buffer.alloc(0) }));
      assert.deepEqual([after.output, after.events], [[], []]);
    });

    it('numbers batches with consecutive xids that never wrap inside a range', () => {
      const s = ready();
      s.nextXid = 0xffffffff - 2;
      const first = allocXids(s, 5);
      assert.equal(first, 1);
      assert.equal(s.nextXid, 6);
    });
  });

  describe('traffic and liveness', () => {
    it('answers an echo in the same read as packet-ins, and passes the packet-ins on in order', () => {
      const s = ready();
      const pin = (n: number): OfMessage => ({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: n }], data: Buffer.from([n]) });
      const r = data(s, bytes(pin(1), { type: 'echo_request', xid: 5, data: Buffer.from('e') }, pin(2)));
      assert.deepEqual(r.output, [{ type: 'echo_reply', xid: 5, data: Buffer.from('e') }]);
      assert.deepEqual(r.events.map((e) => (e.kind === 'packet_in' ? e.msg.data[0] : e.kind)), [1, 2]);
      assert.equal(s.counters.packetIns, 2);
    });

    it('offers packet-ins to admission before decoding and drops the refused ones', () => {
      const seen: [string, number][] = [];
      const s = ready({ admission: { admit: (dpid, now) => (seen.push([dpid, now]), seen.length <= 1) } });
      // Two packet-ins; the second is garbage inside, which no one should ever decode.
      const good = encode({ type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.from([1]) });
      const garbage = Buffer.from(good);
      garbage.fill(0xee, 8);
      const r = data(s, Buffer.concat([good, garbage]), 42);
      assert.deepEqual(kinds(r.events), ['packet_in']);
      assert.deepEqual(seen, [['00000000000000ab', 42], ['00000000000000ab', 42]]);
      assert.equal(s.counters.packetInsRefused, 1);
      assert.equal(s.counters.malformed, 0);
    });

    it('answers a frame of another version with BAD_VERSION and keeps going', () => {
      const s = ready();
      const frame = encode({ type: 'echo_request', xid: 3, data: Buffer.alloc(0) });
      frame[0] = 5;
      const r = data(s, frame);
      const err = find(r.output, 'error');
      assert.deepEqual([err.errorType, err.code, err.xid], [OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION, 3]);
      assert.equal(s.phase, 'ready');
    });

    it('probes a silent switch each interval and declares it dead after three', () => {
      const s = ready();
      assert.deepEqual(step(s, { kind: 'tick' }, 500).output, []);
      assert.deepEqual(types(step(s, { kind: 'tick' }, 1000).output), ['echo_request']);
      assert.deepEqual(step(s, { kind: 'tick' }, 1500).output, [], 'one probe per interval');
      assert.deepEqual(types(step(s, { kind: 'tick' }, 2000).output), ['echo_request']);
      const r = step(s, { kind: 'tick' }, 3000);
      const closed = r.events.find((e) => e.kind === 'closed');
      assert.ok(closed?.kind === 'closed' && /echo timeout/.test(closed.reason));
    });

    it('counts any received byte as life', () => {
      const s = ready();
      step(s, { kind: 'tick' }, 1000);
      step(s, { kind: 'tick' }, 2000);
      // Half a frame is still a switch talking.
      data(s, encode({ type: 'echo_reply', xid: 1, data: Buffer.alloc(0) }).subarray(0, 3), 2900);
      assert.equal(step(s, { kind: 'tick' }, 3000).events.length, 0);
      assert.equal(s.phase, 'ready');
    });

    it('does not blame the switch for a stalled event loop: a late tick probes before it judges', () => {
      const s = ready();
      const late = step(s, { kind: 'tick' }, 95_000);
      assert.deepEqual(types(late.output), ['echo_request']);
      assert.equal(s.phase, 'ready');
      // The bytes that waited in the socket are read right after.
      data(s, bytes({ type: 'echo_reply', xid: 1, data: Buffer.alloc(0) }), 95_001);
      assert.equal(step(s, { kind: 'tick' }, 95_500).events.length, 0);
      assert.equal(s.phase, 'ready');
    });

    it('keeps a port table from port status messages', () => {
      const s = ready();
      data(s, bytes({ type: 'port_status', xid: 0, reason: 0, port: port(7) }));
      assert.ok(s.ports.has(7));
      data(s, bytes({ type: 'port_status', xid: 0, reason: 1, port: port(7) }));
      assert.ok(!s.ports.has(7));
    });
  });
});
