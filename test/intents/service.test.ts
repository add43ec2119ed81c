// The intents service and the topology's events: with no intent, an event costs it nothing (no
// view, no switch graph, no step); with intents, each event builds the view once at most.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';
import { Network } from '../../controller/routing/network.ts';
import { IntentService } from '../../controller/intents/service.ts';
import { dp, ep, FakeFabric } from '../topology/fake-fabric.ts';

/** s1 —2/1— s2 —2/2— s3, h1 on s1:1 and h3 on s3:1, both learned; discovery only (no forwarding). */
function setup(): { fabric: FakeFabric; clock: VirtualClock; network: Network; intents: IntentService; snapshots: () => number; events: () => number } {
  const clock = new VirtualClock(0);
  const fabric = new FakeFabric();
  const network = new Network(fabric.controller, { clock, lldpIntervalMs: 1000 });
  network.discovery.start();
  for (const n of [1, 2, 3]) fabric.addSwitch(dp(n), [1, 2, 3]);
  fabric.cable(ep(1, 2), ep(2, 1));
  fabric.cable(ep(2, 2), ep(3, 2));
  fabric.deliver();
  clock.advance(1000);
  fabric.deliver();
  fabric.arp(ep(1, 1), '00:00:00:00:00:01', '10.0.0.1');
  fabric.arp(ep(3, 1), '00:00:00:00:00:03', '10.0.0.3');
  const intents = new IntentService(fabric.controller, network, undefined, { clock });
  intents.start();
  let snapshots = 0;
  let events = 0;
  const real = network.discovery.snapshot.bind(network.discovery);
  network.discovery.snapshot = () => {
    snapshots++;
    return real();
  };
  network.discovery.on('topology', () => events++);
  return { fabric, clock, network, intents, snapshots: () => snapshots, events: () => events };
}

/** Topology churn: a cable down and back, with the LLDP that proves it again. */
function churn(fabric: FakeFabric, clock: VirtualClock): void {
  fabric.portDown(ep(2, 2));
  fabric.portUp(ep(2, 2));
  fabric.deliver();
  clock.advance(1000);
  fabric.deliver();
}

describe('intents: service and topology events', () => {
  it('does nothing at all on topology events while there is no intent', () => {
    const { fabric, clock, intents, snapshots, events } = setup();
    churn(fabric, clock);
    assert.ok(events() >= 4, `the churn raised events (${events()})`);
    assert.equal(snapshots(), 0, 'no view was built');
    assert.equal(intents.counters.steps, 0);
  });

  it('builds the view at most once per event while intents exist', () => {
    const { fabric, clock, network, intents, snapshots, events } = setup();
    // Cut first, so the intent waits unsatisfiable and no switch is programmed.
    fabric.portDown(ep(2, 2));
    const created = intents.create({ src: '10.0.0.1', dst: '10.0.0.3', policy: 'shortest' });
    assert.ok(created.ok);
    assert.equal(created.intent.status, 'unsatisfiable');
    const before = { snapshots: snapshots(), events: events() };
    fabric.portUp(ep(2, 2));
    fabric.deliver();
    fabric.portDown(ep(2, 2));
    clock.advance(1000);
    fabric.deliver();
    const raised = events() - before.events;
    const built = snapshots() - before.snapshots;
    assert.ok(raised >= 2, `events raised (${raised})`);
    assert.ok(built > 0 && built <= raised, `${built} views for ${raised} events`);
    assert.equal(network.discovery.paths.count(dp(1), dp(3)), 0);
  });
});
