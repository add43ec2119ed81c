import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { connectBus } from '../../bus/client.ts';
import type { Hint } from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints } from '../../bus/subscriber.ts';
import { ALL_HINTS, patterns } from '../../bus/topics.ts';
import { ensureAccount, openStateDir, readUsersFile } from '../../bus/auth/accounts.ts';
import { VirtualClock } from '../../bus/clock.ts';
import { RefusalCounter } from '../../bus/auth/refusals.ts';
import { bodies } from './fixtures.ts';
import { until } from './support.ts';

describe('embedded broker (aedes)', () => {
  let broker: EmbeddedBroker;
  before(async () => {
    broker = await startBroker({ port: 0 });
  });
  after(async () => {
    await broker?.stop();
  });

  it('listens on 127.0.0.1 and round-trips a hint', async () => {
    assert.equal(broker.host, '127.0.0.1');
    assert.ok(broker.port > 0);
    const got: Hint[] = [];
    const sub = await subscribeHints(broker.urlFor('reader'), [ALL_HINTS], (h) => void got.push(h));
    const client = await connectBus(broker.urlFor('controller'));
    try {
      const sent = await new HintPublisher(client, { source: 'emb' }).publish(bodies.event);
      await until(() => got.length === 1, 'event through aedes');
      assert.deepEqual(got[0], sent);
    } finally {
      await sub.close();
      await client.endAsync();
    }
  });

  it('keeps retained hints for late subscribers', async () => {
    const client = await connectBus(broker.urlFor('controller'));
    const sent = await new HintPublisher(client, { source: 'emb' }).publish(bodies.link_state);
    await client.endAsync();
    const got: Array<[Hint, boolean]> = [];
    const sub = await subscribeHints(broker.urlFor('reader'), [patterns.links], (h, m) => void got.push([h, m.retained]));
    try {
      await until(() => got.length === 1, 'retained link state');
      assert.deepEqual(got[0], [sent, true]);
    } finally {
      await sub.close();
    }
  });

  it('refuses anonymous clients and wrong passwords, and counts them', async () => {
    const before = broker.refusals.snapshot();
    await assert.rejects(connectBus(broker.url), /Not authorized/i);
    await assert.rejects(connectBus(broker.url, { username: 'bridge', password: 'guess' }), /Bad username or password/i);
    await assert.rejects(connectBus(broker.url, { username: 'nobody', password: 'guess' }), /Bad username or password/i);
    const after = broker.refusals.snapshot();
    assert.equal(after.anonymous - before.anonymous, 1);
    assert.equal(after.bad_password - before.bad_password, 2);
    assert.match(broker.refusals.metricsText(), /meshflow_bus_refusals_total\{reason="bad_password"\} \d+/);
  });

  it('refuses subscriptions outside the hint root without dropping the client', async () => {
    const client = await connectBus(broker.urlFor('reader'));
    try {
      // mqtt.js turns a failed grant (0x80) into an error.
      await assert.rejects(client.subscribeAsync('#', { qos: 1 }), /Subscribe error/);
      await assert.rejects(client.subscribeAsync('$SYS/#', { qos: 1 }), /Subscribe error/);
      await assert.rejects(client.subscribeAsync('$meshflow/refused', { qos: 1 }), /Subscribe error/);
      const granted = await client.subscribeAsync(ALL_HINTS, { qos: 1 });
      assert.deepEqual(
        granted.map((g) => g.qos),
        [1],
      );
      assert.ok(client.connected);
      assert.ok(broker.refusals.snapshot().subscribe >= 2);
    } finally {
      await client.endAsync();
    }
  });

  it('acknowledges and drops a refused publish, and keeps the connection (no re-send loop)', async () => {
    const sidecar = await connectBus(broker.urlFor('sc-x', 'sidecar'));
    const got: Hint[] = [];
    const sub = await subscribeHints(broker.urlFor('reader'), [ALL_HINTS], (h) => void got.push(h));
    try {
      const before = broker.refusals.snapshot().publish;
      await new HintPublisher(sidecar, { source: 'evil' }).publish(bodies.cost_row);
      assert.equal(broker.refusals.snapshot().publish - before, 1);
      assert.ok(sidecar.connected);
      const own = await new HintPublisher(sidecar, { source: 'evil' }).publish({ ...bodies.sidecar_status, sidecarId: 'sc-x' });
      await until(() => got.some((h) => h.kind === 'sidecar_status' && h.seq === own?.seq), 'own status');
      assert.deepEqual(got.filter((h) => h.kind === 'cost_row'), []);
    } finally {
      await sub.close();
      await sidecar.endAsync();
    }
  });

  it("urlFor(name, 'sidecar') adds an in-memory sidecar account", async () => {
    const url = broker.urlFor('sc-h1', 'sidecar');
    assert.match(url, /^mqtt:\/\/sc-h1:[^@]+@127\.0\.0\.1:\d+$/);
    const c = await connectBus(url);
    await c.endAsync();
    assert.throws(() => broker.urlFor('sc-h1', 'bridge'), /exists with role sidecar/);
  });

  it("'anonymous' turns the checks off (tests of other parts only)", async () => {
    const open = await startBroker({ port: 0, auth: 'anonymous' });
    try {
      assert.equal(open.urlFor('anyone'), open.url);
      const c = await connectBus(open.url);
      await c.endAsync();
    } finally {
      await open.stop();
    }
  });

  it('stop() closes the port', async () => {
    const b = await startBroker({ port: 0 });
    await b.stop();
    await assert.rejects(connectBus(b.url, { connectTimeoutMs: 1000 }));
  });
});

describe('bus state directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshflow-bus-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates per-role accounts once, owner-only, and keeps them', async () => {
    const first = openStateDir(join(dir, 'bus'), ['ctl-a', 'ctl-b']);
    assert.equal(first.created, true);
    assert.equal((await stat(first.usersFile)).mode & 0o777, 0o600);
    assert.equal((await stat(first.dir)).mode & 0o777, 0o700);
    const roles = first.users.accounts.map((a) => `${a.username}:${a.role}`);
    assert.deepEqual(roles, ['ctl-a:controller', 'ctl-b:controller', 'bridge:bridge', 'reader:reader']);
    assert.equal(new Set(first.users.accounts.map((a) => a.password)).size, 4);
    const again = openStateDir(join(dir, 'bus'), ['ctl-a']);
    assert.equal(again.created, false);
    assert.deepEqual(again.users, first.users);
  });

  it('refuses a users file others can read', async () => {
    const s = openStateDir(dir);
    const { chmod } = await import('node:fs/promises');
    await chmod(s.usersFile, 0o644);
    assert.throws(() => readUsersFile(s.usersFile), /chmod 600/);
  });

  it('a broker on a users file sees accounts added while it runs', async () => {
    const s = openStateDir(dir);
    const b = await startBroker({ port: 0, auth: { usersFile: s.usersFile } });
    try {
      const text = await readFile(s.usersFile, 'utf8');
      assert.ok(!text.includes('"sc-9"'));
      const added = ensureAccount(s.usersFile, 'sidecar', 'sc-9');
      const c = await connectBus(b.url, { username: 'sc-9', password: added.password });
      await c.endAsync();
      const viaFile = await connectBus(b.url, { username: 'bridge', credentialsFile: s.usersFile });
      await viaFile.endAsync();
    } finally {
      await b.stop();
    }
  });
});

describe('refusal log', () => {
  it('writes one line per interval, with the counts since the last line', () => {
    const clock = new VirtualClock(0);
    const lines: object[] = [];
    const r = new RefusalCounter({ warn: (o) => void lines.push(o) }, { clock, intervalMs: 10_000 });
    for (let i = 0; i < 1000; i++) r.record({ reason: 'publish', topic: 'meshflow/v1/costs/x' });
    assert.equal(lines.length, 1);
    clock.advance(10_000);
    r.record({ reason: 'anonymous' });
    assert.equal(lines.length, 2);
    assert.deepEqual((lines[1] as { refusedSinceLastLine: object }).refusedSinceLastLine, { publish: 999, anonymous: 1 });
    assert.equal(r.total(), 1001);
  });
});
