// Publisher, subscriber and client against a real Mosquitto.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { connect as rawConnect, type MqttClient } from 'mqtt';
import { connectBus, backoffDelay } from '../../bus/client.ts';
import { HINT_KINDS, type Hint } from '../../bus/hints.ts';
import { InvalidHintError } from '../../bus/parse.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { SCHEMA_DIR } from '../../bus/schemas/generate.ts';
import { subscribeHints } from '../../bus/subscriber.ts';
import { ALL_HINTS, patterns, topics } from '../../bus/topics.ts';
import { VirtualClock } from '../../bus/clock.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { bodies, LINK_AB } from './fixtures.ts';
import { mosquittoSub, until } from './support.ts';

describe('bus over Mosquitto', function () {
  let mosq: Service;
  const clients: MqttClient[] = [];
  const track = (c: MqttClient) => (clients.push(c), c);

  before(async () => {
    mosq = await startMosquitto();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  after(async () => {
    await mosq?.stop();
  });

  it('delivers every kind to mosquitto_sub, valid against the shipped schemas', async () => {
    // A broker of its own, so no retained hint from another test is counted.
    const own = await startMosquitto();
    const sub = mosquittoSub(own.port, [ALL_HINTS], HINT_KINDS.length);
    try {
      const pub = new HintPublisher(track(await connectBus(own.url)), { source: 'ctl-test' });
      // Retained, so mosquitto_sub gets it whenever it subscribes; its arrival says it is listening.
      await pub.publish(bodies.link_state);
      await sub.firstLine;
      for (const kind of HINT_KINDS) if (kind !== 'link_state') await pub.publish(bodies[kind]);
      const lines = await sub.done;
      assert.equal(lines.length, HINT_KINDS.length);
      assert.deepEqual(lines.map(([t]) => t), [
        topics.link(LINK_AB),
        topics.events(),
        topics.costs('edge-s1'),
        topics.weights('sc-h1'),
        topics.status('sc-h1'),
        topics.controller('ctl-1'),
      ]);
      for (const [topic, payload] of lines) {
        const hint = JSON.parse(payload) as Hint;
        const schema = JSON.parse(await readFile(join(SCHEMA_DIR, `${hint.kind}.schema.json`), 'utf8')) as object;
        const validate = new Ajv({ strict: false }).compile(schema);
        assert.ok(validate(hint), `${topic}: ${JSON.stringify(validate.errors)}`);
        assert.equal(hint.source, 'ctl-test');
      }
    } finally {
      sub.kill();
      await own.stop();
    }
  });

  it('mosquitto_sub -C n receives n hints with strictly increasing seq', async () => {
    const pub = new HintPublisher(track(await connectBus(mosq.url)), { source: 'seq-test' });
    const n = 50;
    const ready = `meshflow/v1/sidecars/seq-probe-${process.pid}/status`;
    await pub.publish({ kind: 'sidecar_status', sidecarId: `seq-probe-${process.pid}`, state: 'online' });
    const sub = mosquittoSub(mosq.port, [topics.events(), ready], n + 1);
    await sub.firstLine;
    for (let i = 0; i < n; i++) await pub.publish({ kind: 'event', event: 'link_up', linkId: LINK_AB });
    const lines = (await sub.done).filter(([t]) => t === topics.events());
    assert.equal(lines.length, n);
    const seqs = lines.map(([, p]) => (JSON.parse(p) as Hint).seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
  });

  it('a late subscriber gets the retained link state', async () => {
    const pub = new HintPublisher(track(await connectBus(mosq.url)), { source: 'retain-test' });
    const sent = await pub.publish(bodies.link_state);
    const got: Array<{ hint: Hint; retained: boolean }> = [];
    const sub = await subscribeHints(mosq.url, [patterns.links], (hint, meta) => {
      got.push({ hint, retained: meta.retained });
    });
    try {
      await until(() => got.length > 0, 'retained link state');
      assert.deepEqual(got[0]?.hint, sent);
      assert.equal(got[0]?.retained, true);
    } finally {
      await sub.close();
    }
  });

  it('stamps v/ts/seq/source from an injected clock, seq strictly increasing', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const pub = new HintPublisher(track(await connectBus(mosq.url)), { source: 'clock-test', clock, startSeq: 41 });
    const a = await pub.publish(bodies.event);
    clock.advance(5);
    const b = await pub.publish(bodies.event, { ttlMs: 1234 });
    assert.deepEqual([a?.seq, b?.seq], [42, 43]);
    assert.deepEqual([a?.ts, b?.ts], [1_700_000_000_000, 1_700_000_000_005]);
    assert.equal(b?.ttlMs, 1234);
    assert.equal(a?.v, 1);
  });

  it('an invalid outgoing hint throws in development and is dropped (counted) in production', async () => {
    const client = track(await connectBus(mosq.url));
    const dev = new HintPublisher(client, { source: 'dev', onInvalid: 'throw' });
    const bad = { ...bodies.weights, services: { s: { r: 5000 } } };
    await assert.rejects(dev.publish(bad), (e: unknown) => e instanceof InvalidHintError && e.code === 'HINT_ERR_SCHEMA');
    const prod = new HintPublisher(client, { source: 'prod', onInvalid: 'drop' });
    assert.equal(await prod.publish(bad), undefined);
    assert.equal(prod.invalidCount, 1);
    assert.equal(prod.lastError?.path, '/services/s/r');
  });

  it('the subscriber skips and counts invalid payloads, delivering the valid ones', async () => {
    const got: Hint[] = [];
    const errors: string[] = [];
    const sub = await subscribeHints(mosq.url, [topics.events()], (h) => void got.push(h), {
      onInvalid: (e) => errors.push(e.code),
    });
    try {
      const raw = track(await connectBus(mosq.url));
      const pub = new HintPublisher(raw, { source: 'mixed' });
      await raw.publishAsync(topics.events(), 'not json', { qos: 1 });
      await raw.publishAsync(topics.events(), JSON.stringify({ v: 1, kind: 'event' }), { qos: 1 });
      await raw.publishAsync(topics.events(), JSON.stringify({ v: 9 }), { qos: 1 });
      // a valid link state on the events topic: valid hint, wrong topic
      await raw.publishAsync(topics.events(), JSON.stringify(pub.stamp(bodies.link_state)), { qos: 1 });
      await pub.publish(bodies.event);
      await until(() => got.length === 1, 'valid event');
      assert.equal(sub.invalidCount, 4);
      assert.deepEqual(errors, ['HINT_ERR_JSON', 'HINT_ERR_SCHEMA', 'HINT_ERR_VERSION', 'HINT_ERR_TOPIC']);
      assert.equal(sub.lastError?.code, 'HINT_ERR_TOPIC');
      assert.equal(sub.receivedCount, 1);
    } finally {
      await sub.close();
    }
  });

  it('a handler that throws is counted, not fatal', async () => {
    let calls = 0;
    const sub = await subscribeHints(mosq.url, [topics.events()], () => {
      calls++;
      throw new Error('handler bug');
    });
    try {
      const pub = new HintPublisher(track(await connectBus(mosq.url)), { source: 'h' });
      await pub.publish(bodies.event);
      await pub.publish(bodies.event);
      await until(() => calls === 2, 'two calls');
      assert.equal(sub.handlerErrorCount, 2);
    } finally {
      await sub.close();
    }
  });

  it('a sidecar that vanishes is marked offline by its last will', async () => {
    const sidecarId = `sc-will-${process.pid}`;
    const sidecarPub = new HintPublisher({ publishAsync: async () => undefined as never }, { source: sidecarId });
    const will = sidecarPub.stamp({ kind: 'sidecar_status', sidecarId, state: 'offline' });
    const sidecar = await connectBus(mosq.url, { will, clientId: sidecarId });
    const live = new HintPublisher(sidecar, { source: sidecarId, startSeq: sidecarPub.seq });
    await live.publish({ kind: 'sidecar_status', sidecarId, state: 'online', host: 'h1' });

    const states: string[] = [];
    const sub = await subscribeHints(mosq.url, [topics.status(sidecarId)], (h) => {
      if (h.kind === 'sidecar_status') states.push(h.state);
    });
    try {
      await until(() => states.length === 1, 'online status');
      // Abrupt: destroy the socket, no DISCONNECT packet, so the broker sends the will.
      sidecar.stream.destroy();
      await sidecar.endAsync(true);
      await until(() => states.length === 2, 'last will');
      assert.deepEqual(states, ['online', 'offline']);
      // And it is retained: a newcomer sees offline.
      const late: string[] = [];
      const sub2 = await subscribeHints(mosq.url, [topics.status(sidecarId)], (h) => {
        if (h.kind === 'sidecar_status') late.push(h.state);
      });
      await until(() => late.length === 1, 'retained will');
      assert.deepEqual(late, ['offline']);
      await sub2.close();
    } finally {
      await sub.close();
    }
  });

  it('takes credentials from the URL, options overriding them; bad ones are refused', async () => {
    const auth = await startMosquitto({ users: { alice: 'se:cret' } });
    try {
      const withUrl = auth.url.replace('mqtt://', 'mqtt://alice:se%3Acret@');
      const c = track(await connectBus(withUrl));
      assert.ok(c.connected);
      await assert.rejects(connectBus(withUrl, { password: 'wrong' }));
      await assert.rejects(connectBus(auth.url));
      const d = track(await connectBus(auth.url.replace('mqtt://', 'mqtt://bob:x@'), { username: 'alice', password: 'se:cret' }));
      assert.ok(d.connected);
    } finally {
      await auth.stop();
    }
  });

  it('backoff doubles up to its cap', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 500 })), [100, 200, 400, 500, 500]);
  });

  it('reconnects with backoff after the broker restarts, and QoS 1 hints queued meanwhile arrive', async () => {
    const own = await startMosquitto();
    let restarted: Service | undefined;
    try {
      const pubClient = track(await connectBus(own.url, { backoff: { initialMs: 50, maxMs: 400 } }));
      const pub = new HintPublisher(pubClient, { source: 'reconnect' });
      let reconnects = 0;
      pubClient.on('reconnect', () => reconnects++);
      await own.stop();
      await until(() => !pubClient.connected, 'publisher notices the broker is gone');
      // Published while the broker is down: held by mqtt.js until the connection is back.
      const pending = pub.publish(bodies.link_state);
      await new Promise((r) => setTimeout(r, 300));
      restarted = await startMosquitto({ port: own.port });
      await pending;
      assert.ok(reconnects >= 1);
      const got: Hint[] = [];
      const sub = await subscribeHints(restarted.url, [patterns.links], (h) => void got.push(h));
      await until(() => got.length === 1, 'retained after reconnect');
      assert.equal(got[0]?.seq, 1);
      await sub.close();
    } finally {
      await restarted?.stop();
      await own.stop();
    }
  });

  it('raw mqtt.js clients see hints as plain JSON on the documented topics', async () => {
    const raw = rawConnect(mosq.url);
    track(raw);
    await new Promise((r) => raw.once('connect', r));
    await raw.subscribeAsync(topics.weights('sc-h1'));
    const msg = new Promise<string>((r) => raw.once('message', (_t, p) => r(p.toString())));
    const pub = new HintPublisher(track(await connectBus(mosq.url)), { source: 'bridge' });
    await pub.publish(bodies.weights);
    const hint = JSON.parse(await msg) as Hint;
    assert.equal(hint.kind, 'weights');
  });
});
