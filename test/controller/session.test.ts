// Switch sessions against a scripted OpenFlow peer over real TCP: the handshake's order, multipart
// reassembly, liveness, errors, and replacement on reconnect (only of a session that no longer answers). The peer is a few lines of script on top
// of the codec, so each test can make the switch misbehave exactly as it needs.
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { runController, type RunningController } from '../../controller/run.ts';
import { SessionClosedError, SwitchRequestError, SwitchSession } from '../../controller/session.ts';
import {
  decode, encode, flowMod, FrameReader, OFPMPF_REPLY_MORE, OFPP_CONTROLLER, OFPET_BAD_REQUEST, OFPET_FLOW_MOD_FAILED,
  OFPMBT_DROP, OFPMF_PKTPS, OFPMF_BURST, OFPMF_STATS, OFPET_METER_MOD_FAILED,
} from 'openflow-ts';
import type { OfMessage, Port } from 'openflow-ts';
import { waitFor } from '../support/wait.ts';

const port = (n: number): Port => ({
  portNo: n, hwAddr: `02:00:00:00:00:0${n}`, name: `p${n}`, config: 0, state: 0,
  curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 10_000_000, maxSpeed: 0,
});

type Script = (msg: OfMessage, peer: FakeSwitch) => void;

/** A scripted switch: answers the handshake like Open vSwitch unless a test overrides a message type. */
class FakeSwitch {
  readonly received: OfMessage[] = [];
  readonly socket: Socket;
  private readonly reader = new FrameReader();
  closed = false;

  constructor(ofPort: number, readonly dpid: bigint, private readonly overrides: Partial<Record<OfMessage['type'], Script>> = {}) {
    this.socket = connect(ofPort, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) {
        const msg = decode(frame);
        this.received.push(msg);
        const script = this.overrides[msg.type];
        if (script) script(msg, this);
        else this.answer(msg);
      }
    });
    this.send({ type: 'hello', xid: 1, elements: [{ type: 'versionbitmap', versions: [1, 4] }] });
  }

  send(msg: OfMessage): void {
    this.socket.write(encode(msg));
  }

  answer(msg: OfMessage): void {
    switch (msg.type) {
      case 'features_request':
        return this.send({ type: 'features_reply', xid: msg.xid, datapathId: this.dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
      case 'multipart_request':
        if (msg.body.kind === 'port_desc') {
          // Two parts, so the session must follow the REPLY_MORE chain.
          this.send({ type: 'multipart_reply', xid: msg.xid, flags: OFPMPF_REPLY_MORE, body: { kind: 'port_desc', ports: [port(1)] } });
          this.send({ type: 'multipart_reply', xid: msg.xid, flags: 0, body: { kind: 'port_desc', ports: [port(2), port(3)] } });
        }
        return;
      case 'barrier_request':
        return this.send({ type: 'barrier_reply', xid: msg.xid });
      case 'echo_request':
        return this.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
      default:
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

describe('switch sessions (scripted peer over TCP)', function () {
  this.timeout(20_000);
  let running: RunningController;
  const peers: FakeSwitch[] = [];
  const peer = (dpid: bigint, overrides?: Partial<Record<OfMessage['type'], Script>>): FakeSwitch => {
    const p = new FakeSwitch(running.ofPort, dpid, overrides);
    peers.push(p);
    return p;
  };
  const ready = (dpid: bigint) =>
    waitFor(`switch ${dpid} ready`, () => running.controller.switches.get(dpid.toString(16).padStart(16, '0')));

  beforeEach(async () => {
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 150 });
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.end();
    await running.stop();
  });

  it('runs the handshake in order: features, config, port and meter descriptions, table-miss entry, barrier', async () => {
    // This peer leaves meter features unanswered: the barrier after the request says it has none.
    const p = peer(0xabn);
    const s = await ready(0xabn);
    const types = p.received.map((m) => m.type);
    assert.deepEqual(types.slice(0, 8), [
      'hello', 'features_request', 'set_config', 'multipart_request', 'multipart_request', 'barrier_request', 'flow_mod', 'barrier_request',
    ]);
    const config = p.received[2];
    assert.ok(config?.type === 'set_config' && config.missSendLen === 0xffff);
    const kinds = p.received.slice(3, 5).map((m) => (m.type === 'multipart_request' ? m.body.kind : m.type));
    assert.deepEqual(kinds, ['port_desc', 'meter_features']);
    assert.equal(s.meters, undefined);
    const miss = p.received[6];
    assert.ok(miss?.type === 'flow_mod');
    assert.equal(miss.priority, 0);
    assert.deepEqual(miss.match, []);
    assert.deepEqual(miss.instructions, [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: 0xffff }] }]);
    assert.deepEqual([...s.ports.keys()].sort(), [1, 2, 3], 'both multipart parts were kept');
  });

  it('asks for meter features and puts the table-miss entry on a meter where the switch has one', async () => {
    const p = peer(0xacn, {
      multipart_request: (m, self) => {
        if (m.type !== 'multipart_request' || m.body.kind !== 'meter_features') return self.answer(m);
        self.send({
          type: 'multipart_reply', xid: m.xid, flags: 0,
          body: { kind: 'meter_features', maxMeter: 16, bandTypes: 1 << OFPMBT_DROP, capabilities: OFPMF_PKTPS | OFPMF_BURST | OFPMF_STATS, maxBands: 1, maxColor: 0 },
        });
      },
    });
    const s = await ready(0xacn);
    assert.equal(s.meters?.maxMeter, 16);
    const afterFence = p.received.slice(6);
    const miss = afterFence.findIndex((m) => m.type === 'flow_mod' && m.priority === 0);
    assert.ok(miss > 0, 'a table-miss entry');
    const entry = afterFence[miss];
    assert.ok(entry?.type === 'flow_mod' && entry.instructions.some((i) => i.type === 'meter'));
    assert.ok(afterFence.slice(0, miss).some((m) => m.type === 'meter_mod'), 'its meter goes in first');
    assert.equal(afterFence[miss + 1]?.type, 'barrier_request', 'one barrier for the lot');
  });

  it('falls back to an unmetered table-miss entry when the switch refuses the meter', async () => {
    const p = peer(0xaen, {
      multipart_request: (m, self) => {
        if (m.type !== 'multipart_request' || m.body.kind !== 'meter_features') return self.answer(m);
        self.send({
          type: 'multipart_reply', xid: m.xid, flags: 0,
          body: { kind: 'meter_features', maxMeter: 16, bandTypes: 1 << OFPMBT_DROP, capabilities: OFPMF_PKTPS, maxBands: 1, maxColor: 0 },
        });
      },
      meter_mod: (m, self) => self.send({ type: 'error', xid: m.xid, errorType: OFPET_METER_MOD_FAILED, code: 0, data: encode(m).subarray(0, 64) }),
    });
    const s = await ready(0xaen);
    assert.equal(s.state, 'ready');
    const misses = p.received.filter((m) => m.type === 'flow_mod' && m.priority === 0);
    assert.equal(misses.length, 2, 'a metered attempt, then the plain entry');
    const plain = misses[1];
    assert.ok(plain?.type === 'flow_mod');
    assert.deepEqual(plain.instructions, [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: 0xffff }] }]);
  });

  it('drops packet-ins beyond the admission rate before they are decoded, and keeps the switch', async () => {
    const strict = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 150, admission: { rate: 1, burst: 3 } });
    const p = new FakeSwitch(strict.ofPort, 0xadn);
    try {
      const s = await waitFor('switch ready', () => strict.controller.switches.get('00000000000000ad'));
      let seen = 0;
      s.on('packet_in', () => seen++);
      const pin: OfMessage = { type: 'packet_in', xid: 0, bufferId: 0xffffffff, totalLen: 1, reason: 0, tableId: 0, cookie: 0n, match: [{ field: 'in_port', value: 1 }], data: Buffer.from([0]) };
      p.socket.write(Buffer.concat(Array.from({ length: 50 }, () => encode(pin))));
      await waitFor('every packet-in admitted or refused', () => s.counters.packetIns + s.counters.packetInsRefused === 50);
      assert.ok(s.counters.packetIns <= 4, `admitted ${s.counters.packetIns}`);
      assert.equal(seen, s.counters.packetIns);
      assert.equal(s.counters.malformed, 0);
      assert.equal(s.state, 'ready');
    } finally {
      p.end();
      await strict.stop();
    }
  });

  it('drops a switch that stops reading once its unsent output passes the limit', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => undefined);
    try {
      const s = new SwitchSession(await accepted, { maxUnsentBytes: 1 << 20 });
      // The peer never reads: the kernel's buffers fill, then the session's own.
      client.pause();
      const reason = new Promise<string>((resolve) => s.once('close', resolve));
      const big = Buffer.alloc(60_000);
      for (let i = 0; i < 1000 && s.state !== 'closed'; i++) s.send({ type: 'packet_out', bufferId: 0xffffffff, inPort: 1, actions: [], data: big });
      assert.match(await reason, /switch not reading/);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('answers echo requests with the same xid and data', async () => {
    const p = peer(0x1n);
    await ready(0x1n);
    const seen = p.received.length;
    p.send({ type: 'echo_request', xid: 4242, data: Buffer.from('ping') });
    const reply = await waitFor('echo reply', () =>
      p.received.slice(seen).find((m) => m.type === 'echo_reply'),
    );
    assert.equal(reply.xid, 4242);
    assert.ok(reply.type === 'echo_reply' && reply.data.toString() === 'ping');
  });

  it('probes a quiet switch with echo requests and keeps it while it answers', async () => {
    const p = peer(0x2n);
    await ready(0x2n);
    await waitFor('two echo requests', () => p.received.filter((m) => m.type === 'echo_request').length >= 2);
    assert.ok(running.controller.switches.has('0000000000000002'));
  });

  it('declares a silent switch dead within three echo intervals', async () => {
    const p = peer(0x3n, { echo_request: () => undefined });
    const s = await ready(0x3n);
    const reason = await new Promise<string>((resolve) => s.once('close', resolve));
    assert.match(reason, /echo timeout/);
    await waitFor('the peer to be disconnected', () => p.closed);
    assert.equal(running.controller.switches.has('0000000000000003'), false);
  });

  it('rejects a request the switch refuses with its decoded OFPT_ERROR', async () => {
    peer(0x4n, {
      flow_mod: (m, self) => {
        const fm = m.type === 'flow_mod' ? m : undefined;
        // The table-miss entry passes; the test's flow-mod (priority 7) is refused.
        if (fm?.priority === 7) self.send({ type: 'error', xid: m.xid, errorType: OFPET_FLOW_MOD_FAILED, code: 1, data: encode(m).subarray(0, 64) });
      },
    });
    const s = await ready(0x4n);
    await assert.rejects(
      s.program([flowMod({ priority: 7 })]),
      (err: unknown) => err instanceof SwitchRequestError && err.error.errorType === OFPET_FLOW_MOD_FAILED && err.error.code === 1,
    );
    // The session survives the refusal.
    const echo = await s.request({ type: 'echo_request', data: Buffer.alloc(0) });
    assert.equal(echo.type, 'echo_reply');
  });

  it('answers a malformed message with OFPT_ERROR and keeps the session', async () => {
    const p = peer(0x5n);
    const s = await ready(0x5n);
    const seen = p.received.length;
    // A header announcing a message type that does not exist (0xee).
    p.socket.write(Buffer.from([4, 0xee, 0, 8, 0, 0, 0x12, 0x34]));
    const err = await waitFor('an error reply', () => p.received.slice(seen).find((m) => m.type === 'error'));
    assert.ok(err.type === 'error');
    assert.equal(err.xid, 0x1234);
    assert.equal(err.errorType, OFPET_BAD_REQUEST);
    assert.equal(s.state, 'ready');
    assert.equal(s.counters.malformed, 1);
  });

  it('keeps the old session when the same datapath connects again while it answers', async () => {
    const first = peer(0x7n);
    const old = await ready(0x7n);
    let downs = 0;
    running.controller.on('switch_down', () => downs++);
    const second = peer(0x7n);
    await waitFor('the newcomer to be closed', () => second.closed);
    assert.equal(running.controller.switches.get('0000000000000007'), old);
    assert.equal(old.state, 'ready');
    assert.equal(first.closed, false);
    assert.equal(downs, 0);
    assert.equal(running.controller.refused.takeoverRefused, 1);
  });

  it('replaces the old session when the same datapath connects again and the old one no longer answers', async () => {
    // A half-open connection: the switch restarted, its old TCP connection is not yet known dead.
    const first = peer(0x6n, { echo_request: () => undefined });
    const old = await ready(0x6n);
    const downs: string[] = [];
    running.controller.on('switch_down', (s, reason) => downs.push(`${s.dpid} ${reason}`));
    peer(0x6n);
    const fresh = await waitFor('the new session', () => {
      const s = running.controller.switches.get('0000000000000006');
      return s !== old ? s : undefined;
    });
    assert.notEqual(fresh, old);
    await waitFor('the old connection to be closed', () => first.closed);
    assert.equal(old.state, 'closed');
    // Once: by the takeover's liveness check or its own echo timeout, whichever comes first at
    // this echo interval (test/reliability/openflow-guard.test.ts pins the takeover itself).
    assert.equal(downs.length, 1, 'the old session goes down once, with its reason');
    assert.match(downs[0]!, /^0000000000000006 (replaced: |no message for)/);
    // What is asked of a closed session fails at once rather than waiting forever.
    await assert.rejects(old.request({ type: 'echo_request', data: Buffer.alloc(0) }), SessionClosedError);
    await assert.rejects(old.program([flowMod({ priority: 9 })]), SessionClosedError);
  });
});
