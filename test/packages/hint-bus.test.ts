// The hint-bus SDK (packages/hint-bus): its types and schema copies against the repository's,
// and its subscriber against a real Mosquitto fed by the repository's own publisher.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as mqttConnect } from 'mqtt';
import { connectBus } from '../../bus/client.ts';
import { VirtualClock } from '../../bus/clock.ts';
import type * as Bus from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { SCHEMA_DIR } from '../../bus/schemas/generate.ts';
import { HintSigner } from '../../bus/signing.ts';
import { patterns, routeOf } from '../../bus/topics.ts';
import * as sdk from '../../packages/hint-bus/src/index.ts';
import { bodies, LINK_AB } from '../bus/fixtures.ts';
import { freePort } from '../../labs/ports.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { signedPayload, testKey } from './hint-bus-support.ts';

const PACKAGE_SCHEMAS = new URL('../../packages/hint-bus/schemas/', import.meta.url);

// --- The SDK's hand-written types against the repository's (derived from the schema definitions).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DeepMutable<T> = T extends readonly (infer E)[] ? DeepMutable<E>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
// The signature is taken off before a hint is delivered, so SDK types carry no `sig`.
const typesMatchRepository: { [K in sdk.HintKind]: Same<DeepMutable<sdk.HintOf<K>>, Omit<Bus.HintOf<K>, 'sig'>> } = {
  link_state: true,
  event: true,
  cost_row: true,
  weights: true,
  sidecar_status: true,
  controller_status: true,
};

// --- The same types' fields, spelled out so they can be compared with the shipped schema files.
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;
const ENVELOPE = ['v', 'kind', 'ts', 'seq', 'ttlMs', 'source'] as const;
const ENVELOPE_OPTIONAL = ['replayed', 'originalTs', 'controller', 'epoch'] as const;
const FIELDS = {
  link_state: {
    required: [...ENVELOPE, 'linkId', 'src', 'dst', 'capacityBps', 'rateBps', 'utilization', 'drops', 'level'],
    optional: [...ENVELOPE_OPTIONAL, 'capacitySource', 'delayMs', 'baseDelayMs', 'queueDelayMs'],
  },
  event: { required: [...ENVELOPE, 'event'], optional: [...ENVELOPE_OPTIONAL, 'linkId', 'dpid', 'level', 'utilization', 'detail'] },
  cost_row: { required: [...ENVELOPE, 'srcPid', 'costs'], optional: [...ENVELOPE_OPTIONAL] },
  weights: { required: [...ENVELOPE, 'sidecarId', 'services'], optional: [...ENVELOPE_OPTIONAL, 'replicas'] },
  sidecar_status: { required: [...ENVELOPE, 'sidecarId', 'state'], optional: [...ENVELOPE_OPTIONAL, 'host', 'services'] },
  controller_status: { required: [...ENVELOPE, 'controllerId', 'state'], optional: [...ENVELOPE_OPTIONAL, 'apiUrl'] },
} as const;
type FieldsOf<K extends sdk.HintKind> = (typeof FIELDS)[K];
const fieldListsMatchTypes: {
  [K in sdk.HintKind]: [Same<RequiredKeys<sdk.HintOf<K>>, FieldsOf<K>['required'][number]>, Same<OptionalKeys<sdk.HintOf<K>>, FieldsOf<K>['optional'][number]>];
} = {
  link_state: [true, true],
  event: [true, true],
  cost_row: [true, true],
  weights: [true, true],
  sidecar_status: [true, true],
  controller_status: [true, true],
};
const COST_COLUMNS = {
  required: ['dstPid', 'hops', 'paths', 'bottleneckUtilization', 'availableBps', 'worstUtilization', 'worstAvailableBps', 'aggregateBps', 'level', 'worstLevel'],
  optional: ['queueDelayMs'],
} as const;
const costColumnsMatchType: [Same<RequiredKeys<sdk.CostColumns>, (typeof COST_COLUMNS.required)[number]>, Same<OptionalKeys<sdk.CostColumns>, (typeof COST_COLUMNS.optional)[number]>] = [true, true];
const endpointMatchesType: Same<keyof sdk.Endpoint, 'dpid' | 'port'> = true;

interface JsonSchema {
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly items?: JsonSchema;
}
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('hint-bus SDK: types and schemas', () => {
  it('ships the repository schemas unchanged (npm run schemas -w @meshflow/hint-bus refreshes them)', async () => {
    const repo = (await readdir(SCHEMA_DIR)).filter((f) => f.endsWith('.schema.json')).sort();
    const shipped = (await readdir(PACKAGE_SCHEMAS)).filter((f) => f.endsWith('.schema.json')).sort();
    assert.deepEqual(shipped, repo);
    for (const f of repo) {
      assert.equal(await readFile(new URL(f, PACKAGE_SCHEMAS), 'utf8'), await readFile(join(SCHEMA_DIR, f), 'utf8'), `${f} differs`);
    }
  });

  it("has types whose fields are the schemas' properties, required ones required", () => {
    // Compile-time witnesses above; this keeps them referenced.
    assert.ok(typesMatchRepository && fieldListsMatchTypes && costColumnsMatchType && endpointMatchesType);
    assert.deepEqual(sorted(Object.keys(FIELDS)), sorted(sdk.HINT_KINDS));
    for (const kind of sdk.HINT_KINDS) {
      const schema = sdk.schemaOf(kind) as JsonSchema;
      const props = Object.keys(schema.properties ?? {}).filter((p) => p !== 'sig');
      assert.deepEqual(sorted(schema.required ?? []), sorted(FIELDS[kind].required), `${kind} required`);
      assert.deepEqual(sorted(props), sorted([...FIELDS[kind].required, ...FIELDS[kind].optional]), `${kind} properties`);
      assert.equal(schema.properties?.['v']?.const, sdk.HINT_VERSIONS[kind], `${kind} version`);
      assert.equal(schema.properties?.['kind']?.const, kind);
    }
    const link = sdk.schemaOf('link_state') as JsonSchema;
    assert.deepEqual(sorted(Object.keys(link.properties?.['src']?.properties ?? {})), ['dpid', 'port']);
    assert.deepEqual(link.properties?.['level']?.enum, [...sdk.LEVELS]);
    assert.deepEqual(link.properties?.['capacitySource']?.anyOf?.map((s) => s.const), [...sdk.CAPACITY_SOURCES]);
    assert.deepEqual((sdk.schemaOf('event') as JsonSchema).properties?.['event']?.enum, [...sdk.EVENT_NAMES]);
    const costs = (sdk.schemaOf('cost_row') as JsonSchema).properties?.['costs'];
    assert.deepEqual(sorted(costs?.required ?? []), sorted(COST_COLUMNS.required));
    assert.deepEqual(sorted(Object.keys(costs?.properties ?? {})), sorted([...COST_COLUMNS.required, ...COST_COLUMNS.optional]));
    assert.deepEqual(costs?.properties?.['level']?.items?.enum, [...sdk.LEVELS]);
  });

  it("subscribes to the bus's topic filters, and reads its topics", () => {
    assert.equal(sdk.topicFilter('link_state'), patterns.links);
    assert.equal(sdk.topicFilter('event'), patterns.events);
    assert.equal(sdk.topicFilter('cost_row'), patterns.costs);
    assert.equal(sdk.topicFilter('weights'), patterns.weights);
    assert.equal(sdk.topicFilter('sidecar_status'), patterns.status);
    assert.equal(sdk.topicFilter('controller_status'), patterns.controllers);
    const pub = new HintPublisher({ publishAsync: async () => undefined } as never, { source: 't' });
    for (const kind of sdk.HINT_KINDS) {
      const hint = pub.stamp(bodies[kind]) as unknown as sdk.Hint;
      const { topic } = routeOf(hint as Bus.Hint);
      assert.deepEqual(sdk.parseTopic(topic), { kind, id: sdk.idOf(hint) });
      assert.equal(sdk.decodeHint(topic, JSON.stringify(hint)).ok, true, kind);
    }
    assert.throws(() => sdk.topicFilter('weights', 'a/b'), RangeError);
  });

  it('names the reason of every refusal', () => {
    const pub = new HintPublisher({ publishAsync: async () => undefined } as never, { source: 't' });
    const link = pub.stamp(bodies.link_state);
    const topic = routeOf(link).topic;
    const reason = (payload: string, t = topic) => {
      const d = sdk.decodeHint(t, payload);
      return d.ok ? 'ok' : `${d.reason}: ${d.message}`;
    };
    assert.match(reason('{"kind":'), /^json: /);
    assert.match(reason('[1]'), /^json: /);
    assert.match(reason(JSON.stringify({ ...link, kind: 'gossip' })), /^kind: /);
    assert.match(reason(JSON.stringify({ ...link, v: 1 })), /^version: link_state version 1/);
    assert.match(reason(JSON.stringify({ ...link, utilization: -1 })), /^schema: \/utilization must be >= 0/);
    assert.match(reason(JSON.stringify({ ...link, extra: 1 })), /^schema: \/extra /);
    assert.match(reason(JSON.stringify({ ...link, linkId: `${LINK_AB}9` })), /^mismatch: \/linkId/);
    assert.match(reason(JSON.stringify(link), 'meshflow/v1/links/other'), /^topic: /);
    const row = pub.stamp(bodies.cost_row);
    assert.match(reason(JSON.stringify({ ...row, costs: { ...bodies.cost_row.costs, hops: [1] } }), routeOf(row).topic), /^mismatch: \/costs\/hops: 1 elements for 2/);
    assert.match(reason('x'.repeat(sdk.MAX_HINT_BYTES + 1)), /^too_large: /);
  });
});

describe('hint-bus SDK over Mosquitto', function () {
  this.timeout(30_000);
  let mosq: Service;
  const closers: Array<() => Promise<unknown>> = [];
  const publisherOn = async (url: string, clock?: VirtualClock, source = 'ctl-1') => {
    const client = await connectBus(url);
    closers.push(() => client.endAsync(true));
    return { client, pub: new HintPublisher(client, { source, ...(clock === undefined ? {} : { clock }) }) };
  };
  const open = async (options: sdk.HintBusOptions) => {
    const bus = await sdk.connectHints(options);
    closers.push(() => bus.close());
    return bus;
  };

  beforeEach(async () => {
    mosq = await startMosquitto();
  });
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
    await mosq.stop();
  });

  it('delivers every kind, typed, to its own callback', async () => {
    const got: Array<[string, unknown, sdk.HintMeta]> = [];
    const levels: sdk.Level[] = [];
    const bus = await open({
      brokers: mosq.url,
      on: {
        link_state: (h, m) => (levels.push(h.level), got.push([h.kind, h, m])),
        event: (h, m) => got.push([h.event, h, m]),
        cost_row: (h, m) => got.push([sdk.costEntries(h.costs)[1]?.dstPid ?? '', h, m]),
        weights: (h, m) => got.push([String(h.services['catalog']?.['catalog-2']), h, m]),
        sidecar_status: (h, m) => got.push([h.state, h, m]),
        controller_status: (h, m) => got.push([h.apiUrl ?? '', h, m]),
      },
    });
    const { pub } = await publisherOn(mosq.url);
    const sent: Bus.Hint[] = [];
    for (const kind of sdk.HINT_KINDS) sent.push((await pub.publish(bodies[kind])) as Bus.Hint);
    await waitFor('six hints', () => got.length === 6);
    assert.deepEqual(
      got.map(([x]) => x),
      ['link_state', 'congestion_onset', 'edge-s3', '900', 'online', 'http://127.0.0.1:8080'],
    );
    assert.deepEqual(levels, ['congested']);
    got.forEach(([, hint, meta], i) => {
      assert.deepEqual(hint, sent[i]);
      assert.deepEqual(meta, { topic: routeOf(sent[i] as Bus.Hint).topic, retained: false, signer: undefined });
    });
    assert.deepEqual(bus.latest(routeOf(sent[0] as Bus.Hint).topic), sent[0]);
    assert.equal(bus.counts.delivered, 6);
  });

  it('reports a malformed hint with its reason and keeps delivering', async () => {
    const invalid: sdk.InvalidHint[] = [];
    const links: sdk.LinkStateHint[] = [];
    await open({ brokers: mosq.url, on: { link_state: (h) => links.push(h) }, invalid: (e) => invalid.push(e) });
    const { client, pub } = await publisherOn(mosq.url);
    const good = pub.stamp(bodies.link_state);
    const topic = routeOf(good).topic;
    await client.publishAsync(topic, JSON.stringify({ ...good, utilization: 'high' }), { qos: 1 });
    await client.publishAsync(topic, '{"not json', { qos: 1 });
    await pub.publish(bodies.link_state);
    await waitFor('the good hint after the bad ones', () => links.length === 1);
    assert.deepEqual(
      invalid.map((e) => [e.topic, e.reason]),
      [
        [topic, 'schema'],
        [topic, 'json'],
      ],
    );
    assert.match(invalid[0]?.message ?? '', /^\/utilization must be number/);
    assert.equal(links[0]?.utilization, 0.92);
  });

  it('drops a hint stale on arrival, and says when the latest of a topic expires', async () => {
    const clock = new VirtualClock(1_800_000_000_000);
    const weights: sdk.WeightsHint[] = [];
    const stale: sdk.Hint[] = [];
    const expired: sdk.ExpiredHint[] = [];
    await open({
      brokers: mosq.url,
      clock,
      on: { weights: (h) => weights.push(h) },
      only: { weights: 'sc-h1' },
      stale: (h) => stale.push(h),
      expired: (e) => expired.push(e),
    });
    // Stamped a minute ago by a publisher whose clock is behind: older than its 30 s TTL.
    const { pub: late } = await publisherOn(mosq.url, new VirtualClock(clock.now() - 60_000), 'ctl-late');
    await late.publish(bodies.weights);
    await waitFor('the stale hint', () => stale.length === 1);
    assert.equal(weights.length, 0);

    const { pub } = await publisherOn(mosq.url, clock);
    const first = await pub.publish(bodies.weights, { ttlMs: 5000 });
    await waitFor('the first hint', () => weights.length === 1);
    clock.advance(3000);
    const second = await pub.publish(bodies.weights, { ttlMs: 5000 });
    await waitFor('the second hint', () => weights.length === 2);
    clock.advance(2001); // the first hint's TTL has passed, but a fresher one replaced it
    assert.deepEqual(expired, []);
    clock.advance(2999); // ts + ttlMs == now: not yet stale
    assert.deepEqual(expired, []);
    clock.advance(1);
    assert.deepEqual(expired, [{ topic: 'meshflow/v1/sidecars/sc-h1/weights', hint: second }]);
    assert.notDeepEqual(first, second);
  });

  it('accepts hints signed by a trusted key and refuses the rest', async () => {
    const controller = testKey('controller');
    const rogue = testKey('rogue');
    const got: Array<[sdk.Hint, string | undefined]> = [];
    const invalid: sdk.InvalidHint[] = [];
    await open({
      brokers: mosq.url,
      trustedKeys: { controller: controller.publicPem, bridge: testKey('bridge').publicPem },
      on: { link_state: (h, m) => got.push([h, m.signer]), cost_row: (h, m) => got.push([h, m.signer]) },
      invalid: (e) => invalid.push(e),
    });
    const { client, pub } = await publisherOn(mosq.url);
    const link = pub.stamp(bodies.link_state);
    const linkTopic = routeOf(link).topic;
    const row = pub.stamp(bodies.cost_row);
    const signed = signedPayload(linkTopic, link, controller);
    const send = (topic: string, payload: string) => client.publishAsync(topic, payload, { qos: 1 });

    await send(linkTopic, signed.replace('"utilization":0.92', '"utilization":0.12'));
    await send('meshflow/v1/costs/edge-s1', signedPayload('meshflow/v1/costs/edge-s9', row, controller)); // signed for another topic
    await send(linkTopic, signedPayload(linkTopic, link, rogue));
    await send(linkTopic, JSON.stringify(link));
    await send(linkTopic, signed);
    // The repository's own signer, for the row on its topic.
    await send(routeOf(row).topic, JSON.stringify(new HintSigner('controller', controller.privateKey).signHint(routeOf(row).topic, row)));
    await waitFor('both genuine hints', () => got.length === 2);
    assert.deepEqual(
      invalid.map((e) => e.reason),
      ['bad_signature', 'bad_signature', 'untrusted_key', 'unsigned'],
    );
    assert.deepEqual(got, [
      [link, 'controller'],
      [row, 'controller'],
    ]);
    assert.equal('sig' in (got[0]?.[0] ?? {}), false);
  });

  it('connects through a list of brokers with credentials, and refuses a wrong password', async () => {
    const secured = await startMosquitto({ users: { sidecar: 's3cret' } });
    closers.push(() => secured.stop());
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const got: sdk.ControllerStatusHint[] = [];
    const bus = await open({
      brokers: [dead, secured.url],
      username: 'sidecar',
      password: 's3cret',
      reconnectPeriodMs: 100,
      on: { controller_status: (h) => got.push(h) },
    });
    assert.equal(bus.client.connected, true);
    const client = await connectBus(secured.url.replace('mqtt://', 'mqtt://sidecar:s3cret@'));
    closers.push(() => client.endAsync(true));
    await new HintPublisher(client, { source: 'ctl-1' }).publish(bodies.controller_status);
    await waitFor('the status', () => got.length === 1);
    await assert.rejects(sdk.connectHints({ brokers: secured.url, username: 'sidecar', password: 'wrong', on: { event: () => undefined } }), /Not authorized|Bad username/i);
  });

  it('keeps the latest hint of a topic: a duplicate or a lower epoch replaces nothing', async () => {
    const seqs: number[] = [];
    const errors: unknown[] = [];
    await open({
      brokers: mosq.url,
      on: {
        weights: (h) => {
          seqs.push(h.seq);
          if (h.seq === 1) throw new Error('a sidecar bug');
        },
      },
      error: (err) => errors.push(err),
    });
    const { client, pub } = await publisherOn(mosq.url);
    const topic = routeOf(pub.stamp(bodies.weights)).topic; // seq 1 taken here, sent below
    const send = (h: object) => client.publishAsync(topic, JSON.stringify(h), { qos: 1 });
    const first = { ...pub.stamp(bodies.weights), seq: 1 };
    await send(first);
    await send(first); // a QoS 1 duplicate
    await send({ ...pub.stamp(bodies.weights), epoch: 5 }); // seq 3
    await send({ ...pub.stamp(bodies.weights), epoch: 4 }); // seq 4, from a deposed controller
    await send({ ...pub.stamp(bodies.weights), epoch: 5 }); // seq 5
    await waitFor('the last hint', () => seqs.includes(5));
    assert.deepEqual(seqs, [1, 3, 5]);
    assert.match(String(errors[0]), /a sidecar bug/);
  });

  it('connects over TLS to a broker whose certificate its CA signed, and refuses one it cannot verify', async () => {
    const tls = await startTlsMosquitto();
    closers.push(tls.stop);
    const got: sdk.EventHint[] = [];
    await open({ brokers: `mqtts://127.0.0.1:${tls.port}`, ca: tls.ca, on: { event: (h) => got.push(h) } });
    const client = mqttConnect(`mqtts://127.0.0.1:${tls.port}`, { ca: tls.ca, reconnectPeriod: 0 });
    closers.push(() => client.endAsync(true));
    await new HintPublisher(client, { source: 'ctl-1' }).publish(bodies.event);
    await waitFor('the event over TLS', () => got.length === 1);
    assert.equal(got[0]?.event, 'congestion_onset');
    await assert.rejects(sdk.connectHints({ brokers: `mqtts://127.0.0.1:${tls.port}`, on: { event: () => undefined } }), /certificate/);
  });
});

/** A Mosquitto with a TLS listener, its certificate signed by a CA made for the test. */
async function startTlsMosquitto(): Promise<{ port: number; ca: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshflow-hint-bus-tls-'));
  const openssl = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn('openssl', args, { cwd: dir, stdio: 'ignore' });
      c.once('error', reject);
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl ${args[0]} exited ${code}`))));
    });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=meshflow test CA']);
  await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.cnf']);
  // Started as root, mosquitto drops to its own user, which must still read the key.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'server.key'), 0o644);
  const port = await freePort();
  const conf = [`listener ${port} 127.0.0.1`, 'persistence false', 'allow_anonymous true', 'log_dest stderr', 'log_type error'];
  conf.push(`cafile ${join(dir, 'ca.crt')}`, `certfile ${join(dir, 'server.crt')}`, `keyfile ${join(dir, 'server.key')}`);
  await writeFile(join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
  const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('the TLS listener', () =>
      child.exitCode === null
        ? new Promise<boolean>((resolve) => {
            const s = tcpConnect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
            s.once('error', () => resolve(false));
          })
        : Promise.reject(new Error(`mosquitto exited ${child.exitCode}`)),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, ca: await readFile(join(dir, 'ca.crt'), 'utf8'), stop };
}
