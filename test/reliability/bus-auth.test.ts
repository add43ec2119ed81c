// The bus tried as an attacker, on both brokers: the embedded one (aedes with accounts and
// ACLs) and a real Mosquitto running the shipped ACL (bus/mosquitto/acl) with the same accounts.
// A forged cost row or controller status must reach no subscriber and leave the retained value.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { MqttClient } from 'mqtt';
import { startBroker, type EmbeddedBroker } from '../../bus/broker.ts';
import { connectBus } from '../../bus/client.ts';
import type { Hint, HintBody } from '../../bus/hints.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { subscribeHints, type HintSubscription } from '../../bus/subscriber.ts';
import { patterns, routeOf, topics } from '../../bus/topics.ts';
import { newAccount, type BusAccount } from '../../bus/auth/accounts.ts';
import { renderPasswordFile } from '../../bus/auth/mosquitto.ts';
import type { RefusalReason } from '../../bus/auth/refusals.ts';
import { bodies } from '../bus/fixtures.ts';
import { startMosquittoWith, type Mosquitto } from '../bus/mosquitto.ts';
import { waitFor } from '../support/wait.ts';

const ACCOUNTS: BusAccount[] = [newAccount('controller', 'controller'), newAccount('bridge', 'bridge'), newAccount('reader', 'reader'), newAccount('sidecar', 'sc-h1'), newAccount('sidecar', 'sc-h2')];
const account = (name: string) => ACCOUNTS.find((a) => a.username === name) as BusAccount;

interface BrokerUnderTest {
  readonly url: string;
  /** Refusal counts, where the broker exposes them (the embedded one). */
  refusals?(): Readonly<Record<RefusalReason, number>>;
  stop(): Promise<void>;
}

const status = { ...bodies.controller_status, controllerId: 'controller' } as const;
const costRow = bodies.cost_row;

const brokers: Record<string, () => Promise<BrokerUnderTest>> = {
  'embedded (aedes)': async () => {
    const b: EmbeddedBroker = await startBroker({ port: 0, auth: { accounts: ACCOUNTS } });
    return { url: b.url, refusals: () => b.refusals.snapshot(), stop: () => b.stop() };
  },
  'mosquitto (shipped acl)': async () => {
    const acl = await readFile(new URL('../../bus/mosquitto/acl', import.meta.url), 'utf8');
    const m: Mosquitto = await startMosquittoWith({
      files: { passwd: renderPasswordFile(ACCOUNTS), acl },
      lines: ['listener %PORT% 127.0.0.1', 'allow_anonymous false', 'password_file %DIR%/passwd', 'acl_file %DIR%/acl'],
    });
    return { url: `mqtt://127.0.0.1:${m.port}`, stop: () => m.stop() };
  },
};

for (const [name, start] of Object.entries(brokers)) {
  describe(`bus under attack: ${name}`, function () {
    this.timeout(20_000);
    let broker: BrokerUnderTest;
    let controller: MqttClient;
    let pub: HintPublisher;
    let watch: HintSubscription;
    const seen: Hint[] = [];
    const login = (username: string, extra = {}) => connectBus(broker.url, { username, password: account(username).password, ...extra });

    /** Publishes a valid hint body under someone's account; resolves once the broker has dealt with it (PUBACK or disconnect). */
    async function attempt(username: string, body: HintBody): Promise<'acked' | 'disconnected'> {
      const client = await login(username, { backoff: { initialMs: 60_000 } });
      const hint = new HintPublisher({ publishAsync: async () => undefined }, { source: 'evil' }).stamp(body);
      const { topic, retain } = routeOf(hint);
      const closed = new Promise<'disconnected'>((r) => client.once('close', () => r('disconnected')));
      const acked = client.publishAsync(topic, JSON.stringify(hint), { qos: 1, retain }).then(() => 'acked' as const);
      const outcome = await Promise.race([acked, closed]);
      client.end(true);
      return outcome;
    }

    /** A fresh hint from the controller on the watched events topic: everything sent before it has been routed. */
    async function barrier(): Promise<void> {
      const sent = await pub.publish({ kind: 'event', event: 'link_up', linkId: bodies.event.linkId });
      await waitFor('barrier event', () => seen.some((h) => h.source === sent?.source && h.seq === sent?.seq));
    }

    /** What a newcomer gets as retained on the cost and controller topics. */
    async function retained(): Promise<Hint[]> {
      const got: Hint[] = [];
      const sub = await subscribeHints(broker.url, [patterns.costs, patterns.controllers], (h, m) => void (m.retained && got.push(h)), {
        connect: { username: 'reader', password: account('reader').password },
      });
      try {
        await waitFor('two retained hints', () => got.length >= 2);
        return got;
      } finally {
        await sub.close();
      }
    }

    before(async () => {
      broker = await start();
      controller = await login('controller');
      pub = new HintPublisher(controller, { source: 'controller' });
      await pub.publish(costRow);
      await pub.publish(status);
      watch = await subscribeHints(broker.url, [patterns.costs, patterns.controllers, patterns.events, patterns.status, patterns.weights], (h) => void seen.push(h), {
        connect: { username: 'reader', password: account('reader').password },
      });
    });
    after(async () => {
      await watch?.close();
      await controller?.endAsync();
      await broker?.stop();
    });

    it('refuses anonymous clients and wrong passwords', async () => {
      const before = broker.refusals?.();
      await assert.rejects(connectBus(broker.url), /Not authorized|Bad username/i);
      await assert.rejects(connectBus(broker.url, { username: 'controller', password: 'guess' }), /Bad username or password|Not authorized/i);
      await assert.rejects(connectBus(broker.url, { username: 'sc-h1', password: account('controller').password }), /Bad username or password|Not authorized/i);
      const after = broker.refusals?.();
      if (before && after) {
        assert.equal(after.anonymous - before.anonymous, 1);
        assert.equal(after.bad_password - before.bad_password, 2);
      }
    });

    it('drops a cost row forged by a sidecar or the bridge, and keeps the retained row', async () => {
      const before = broker.refusals?.();
      const forged = { ...costRow, costs: { ...costRow.costs, bottleneckUtilization: [0.01, 0.99] } };
      await attempt('sc-h1', forged);
      await attempt('bridge', forged);
      await attempt('reader', forged);
      await barrier();
      assert.deepEqual(seen.filter((h) => h.source === 'evil'), []);
      const kept = await retained();
      assert.ok(kept.every((h) => h.source === 'controller'), JSON.stringify(kept));
      const row = kept.find((h) => h.kind === 'cost_row');
      assert.deepEqual(row?.kind === 'cost_row' ? row.costs.bottleneckUtilization : undefined, costRow.costs.bottleneckUtilization);
      const after = broker.refusals?.();
      if (before && after) assert.equal(after.publish - before.publish, 3);
    });

    it("keeps the retained controller status a sidecar tries to overwrite, and the sidecar's forged events and links", async () => {
      const before = broker.refusals?.();
      await attempt('sc-h1', { ...status, state: 'offline' });
      await attempt('sc-h1', bodies.event);
      await attempt('sc-h1', bodies.link_state);
      await attempt('sc-h1', { ...bodies.weights, sidecarId: 'sc-h2' });
      await attempt('sc-h1', { ...bodies.sidecar_status, sidecarId: 'sc-h2' });
      await barrier();
      assert.deepEqual(seen.filter((h) => h.source === 'evil'), []);
      const kept = await retained();
      const st = kept.find((h) => h.kind === 'controller_status');
      assert.equal(st?.kind === 'controller_status' ? `${st.source}:${st.state}` : undefined, 'controller:online');
      const after = broker.refusals?.();
      if (before && after) assert.equal(after.publish - before.publish, 5);
    });

    it('delivers what each role may publish (so the refusals above are the ACL, not a broken bus)', async () => {
      assert.equal(await attempt('sc-h1', bodies.sidecar_status), 'acked');
      assert.equal(await attempt('bridge', bodies.weights), 'acked');
      await barrier();
      const evil = seen.filter((h) => h.source === 'evil').map((h) => h.kind);
      assert.deepEqual(evil.sort(), ['sidecar_status', 'weights']);
      assert.ok(topics.status('sc-h1'));
    });
  });
}
