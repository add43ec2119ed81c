// Losing the broker, and getting it back: a real controller keeps publishing (signed) events through
// a Mosquitto restart (persistence on, stopped by PID, started again on the same port) while a real
// bridge with a persistent session (fixed client id, no clean start, QoS 1) is away too. The bridge
// must miss none of them (the issue counted 240 of 445 lost), both sides must log and count the
// outage in /metrics, and the controller must re-announce its retained status. How long after the
// broker is back the hints flow again and the status is re-announced is printed (goal: < 2 s).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Bridge } from '../../bridge/bridge.ts';
import { BridgeMetrics } from '../../bridge/metrics.ts';
import { emptyRegistry } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';
import { connectBus } from '../../bus/client.ts';
import type { Hint } from '../../bus/hints.ts';
import { loadOrCreateSigner, trustFrom } from '../../bus/signing.ts';
import { subscribeHints, type HintSubscription } from '../../bus/subscriber.ts';
import { topics } from '../../bus/topics.ts';
import { runController, type RunningController } from '../../controller/run.ts';
import { waitFor } from '../support/wait.ts';
import { PersistentMosquitto } from './persistent-mosquitto.ts';

/** One counter or gauge's value in a Prometheus text exposition (0 when absent). */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** Log lines, kept to check what was said about the outage. */
function memoryLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

describe('reliability: broker restart (real Mosquitto with persistence, real controller and bridge)', function () {
  this.timeout(90_000);
  let broker: PersistentMosquitto;
  let dir: string;
  let running: RunningController;
  let bridge: Bridge;
  let bridgeMetrics: BridgeMetrics;
  let reader: MqttClient;
  let statusSub: HintSubscription;
  let cleanReader: MqttClient;
  let cleanSub: HintSubscription;
  /** For comparison: what a reader with a clean session (the bridge before) gets. */
  const cleanReceived = new Set<number>();
  const controllerLog = memoryLog();
  const bridgeLog = memoryLog();
  /** Event seqs the bridge took, and when it took the first after the restart. */
  const received = new Set<number>();
  const statuses: { hint: Hint; at: number }[] = [];
  let firstAfterBack: number | undefined;
  let backAt: number | undefined;

  before(async () => {
    broker = await PersistentMosquitto.create();
    await broker.start();
    dir = await mkdtemp(join(tmpdir(), 'meshflow-busloss-'));
    const controllerKey = await loadOrCreateSigner(dir, 'controller');
    const bridgeKey = await loadOrCreateSigner(dir, 'bridge');
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, mqttUrl: broker.url, controllerId: 'controller', signer: controllerKey.signer, logger: controllerLog.log });
    bridgeMetrics = new BridgeMetrics({ processMetrics: false });
    bridge = new Bridge({
      mqttUrl: broker.url,
      registry: new RegistryStore(emptyRegistry),
      source: 'bridge',
      signer: bridgeKey.signer,
      trust: await trustFrom({ specs: [`controller=${controllerKey.files.pub}`] }),
      metrics: bridgeMetrics,
      log: bridgeLog.log,
    });
    await bridge.start();
    // Count what the bridge takes in, as it takes it (after verification and parsing).
    const take = bridge.onHint.bind(bridge);
    bridge.onHint = (hint: Hint): void => {
      if (hint.kind === 'event' && hint.source === running.publisher.source) {
        received.add(hint.seq);
        if (backAt !== undefined && firstAfterBack === undefined) firstAfterBack = Date.now();
      }
      take(hint);
    };
    // A reader of the controller's status, reconnecting quickly, with trust in the controller's key.
    reader = await connectBus(broker.url, { clientId: 'status-reader', backoff: { initialMs: 20, maxMs: 100 } });
    statusSub = await subscribeHints(reader, [topics.controller('controller')], (hint) => void statuses.push({ hint, at: Date.now() }), {
      trust: await trustFrom({ specs: [`controller=${controllerKey.files.pub}`] }),
    });
    cleanReader = await connectBus(broker.url, { clientId: 'clean-reader' });
    cleanSub = await subscribeHints(cleanReader, [topics.events()], (hint) => {
      if (hint.source === running.publisher.source) cleanReceived.add(hint.seq);
    });
    await waitFor('the controller online', () => statuses.some((s) => s.hint.kind === 'controller_status' && s.hint.state === 'online'));
  });

  after(async () => {
    await statusSub?.close();
    await cleanSub?.close();
    await cleanReader?.endAsync();
    await reader?.endAsync();
    await bridge?.stop();
    await running?.stop();
    await broker?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('the bridge misses no hint published while the broker restarted; the outage is logged, counted and the status re-announced', async () => {
    const sent: number[] = [];
    const sentWhileAway: number[] = [];
    let away = false;
    let publishing = true;
    // The controller-side publisher: one event every 10 ms, whatever the broker is doing.
    const loop = (async () => {
      while (publishing) {
        const out = running.publisher.send({ kind: 'event', event: 'switch_up', dpid: '00000000000000aa' });
        if (out) {
          sent.push(out.hint.seq);
          if (away) sentWhileAway.push(out.hint.seq);
          out.acked.catch(() => undefined);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await waitFor('100 events before the outage', () => sent.length >= 100 && received.size >= 50);
      const lastStatusSeq = Math.max(...statuses.map((s) => s.hint.seq));
      away = true;
      await broker.stop();
      const downAt = Date.now();
      await waitFor('200 events published while the broker is down', () => sentWhileAway.length >= 200, { timeoutMs: 30_000 });
      await broker.start();
      backAt = Date.now();
      away = false;
      const outageMs = backAt - downAt;
      await waitFor('100 events after the broker is back', () => sent.length >= 100 + sentWhileAway.length + 100, { timeoutMs: 30_000 });
      publishing = false;
      await loop;
      // A new announcement, not the retained copy a reader gets again on resubscribing.
      const statusBack = await waitFor('the status re-announced', () =>
        statuses.find((s) => s.hint.seq > lastStatusSeq && s.hint.kind === 'controller_status' && s.hint.state === 'online'),
      );
      await waitFor(`all ${sent.length} events at the bridge`, () => sent.every((s) => received.has(s)), { timeoutMs: 20_000 }).catch(() => undefined);
      const missed = sent.filter((s) => !received.has(s));
      const missedWhileAway = sentWhileAway.filter((s) => !received.has(s));
      const ctlMetrics = await running.metrics.registry.metrics();
      const brMetrics = (await bridgeMetrics.scrape()).body;
      console.log(
        [
          `      broker down ${outageMs} ms; events sent ${sent.length} (${sentWhileAway.length} while it was down); missed by the bridge: ${missed.length} (${missedWhileAway.length} of those sent while down)`,
          `      after the broker was back: first hint at the bridge in ${firstAfterBack === undefined ? '?' : firstAfterBack - backAt} ms, controller status re-announced (seen by a reader) in ${statusBack.at - backAt} ms`,
          `      for comparison, a reader with a clean session missed ${sent.filter((s) => !cleanReceived.has(s)).length}`,
          `      /metrics controller: disconnects ${metric(ctlMetrics, 'meshflow_bus_disconnects_total')}, reconnects ${metric(ctlMetrics, 'meshflow_bus_reconnects_total')}; bridge: disconnects ${metric(brMetrics, 'meshflow_bridge_bus_disconnects_total')}, reconnects ${metric(brMetrics, 'meshflow_bridge_bus_reconnects_total')}`,
        ].join('\n'),
      );
      assert.deepEqual(missed, [], 'events the bridge never got');
      assert.equal(metric(ctlMetrics, 'meshflow_bus_disconnects_total'), 1);
      assert.equal(metric(ctlMetrics, 'meshflow_bus_reconnects_total'), 1);
      assert.equal(metric(ctlMetrics, 'meshflow_bus_connected'), 1);
      assert.equal(metric(brMetrics, 'meshflow_bridge_bus_disconnects_total'), 1);
      assert.equal(metric(brMetrics, 'meshflow_bridge_bus_reconnects_total'), 1);
      assert.equal(metric(brMetrics, 'meshflow_bridge_bus_connected'), 1);
      for (const [who, lines] of [['controller', controllerLog.lines], ['bridge', bridgeLog.lines]] as const) {
        assert.ok(lines.some((l) => l.includes(`${who}: bus connection lost`)), `${who} logs the loss`);
        assert.ok(lines.some((l) => l.includes(`${who}: bus connection back`)), `${who} logs the recovery`);
        assert.equal(lines.filter((l) => l.includes(`${who}: bus connection lost`)).length, 1, `${who}: one line per outage, not one per attempt`);
      }
    } finally {
      publishing = false;
      await loop;
    }
  });
});
