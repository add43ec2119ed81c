// /metrics (Prometheus) and the controller's part of /api/v1/stream, against a real Open vSwitch bridge:
// the counters a scrape shows are the ones the controller keeps, and link gauges follow setLink.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { runController, type RunningController } from '../../controller/run.ts';
import { ControllerMetrics } from '../../controller/api/metrics.ts';
import { Controller } from '../../controller/controller.ts';
import { TestBridge, cleanStale } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';
import { Inbox } from './inbox.ts';
import { parseProm, typeOf, valueOf, type Sample } from './prom.ts';

describe('api: /metrics and the stream with a real bridge', function () {
  this.timeout(60_000);
  let running: RunningController;
  let bridge: TestBridge;
  let dpid: string;
  let inbox: Inbox;

  async function scrape(): Promise<{ text: string; samples: Sample[] }> {
    const res = await fetch(`${running.apiUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, samples: parseProm(text) };
  }

  before(async () => {
    await cleanStale();
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000 });
    // Connected before the switch, so it sees the switch arrive.
    inbox = await Inbox.open(`${running.apiUrl.replace('http', 'ws')}/api/v1/stream`);
    bridge = await TestBridge.create({ controllerPort: running.ofPort, hosts: 2 });
    dpid = await bridge.dpid();
    await waitFor('the bridge to finish the handshake', () => running.controller.switches.get(dpid));
  });

  after(async () => {
    inbox?.close();
    await bridge?.destroy();
    await running?.stop();
  });

  it('streams switch_up with the switch, and a later hello has it in its snapshot', async () => {
    const up = await inbox.next('switch_up', (m) => m.kind === 'event' && m.event === 'switch_up' && m.dpid === dpid);
    const detail = up.detail as { switch?: { dpid?: string; ports?: unknown[] } };
    assert.equal(detail.switch?.dpid, dpid);
    assert.equal(detail.switch?.ports?.length, 3, 'two host ports and LOCAL');
    const late = await Inbox.open(`${running.apiUrl.replace('http', 'ws')}/api/v1/stream`);
    try {
      const hello = await late.next('hello', (m) => m.kind === 'hello');
      const switches = (hello.snapshot as { switches: { dpid: string }[] }).switches;
      assert.deepEqual(switches.map((s) => s.dpid), [dpid]);
    } finally {
      late.close();
    }
  });

  it('counts switches, packet-ins and flow-mods as the sessions do', async () => {
    const session = running.controller.switches.get(dpid)!;
    const [a, b] = bridge.hosts;
    // No flows but the table-miss entry: the ARP and ICMP of a ping all go to the controller.
    await bridge.inNs(a!, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', b!.ip]).catch(() => undefined);
    await waitFor('packet-ins to arrive', () => session.counters.packetIns >= 2);
    const { text, samples } = await scrape();
    assert.equal(valueOf(samples, 'meshflow_switches_connected'), 1);
    assert.equal(typeOf(text, 'meshflow_packet_ins_total'), 'counter');
    const packetIns = valueOf(samples, 'meshflow_packet_ins_total', { dpid });
    assert.ok(packetIns !== undefined && packetIns >= 2 && packetIns <= session.counters.packetIns, `packet-ins ${packetIns}`);
    assert.ok((valueOf(samples, 'meshflow_flow_mods_total', { dpid }) ?? 0) >= 1, 'the table-miss flow-mod');
    assert.ok((valueOf(samples, 'meshflow_openflow_messages_received_total', { dpid }) ?? 0) >= packetIns);
    assert.equal(valueOf(samples, 'meshflow_switch_connections_total'), running.controller.counters.connections);
    assert.ok(valueOf(samples, 'process_resident_memory_bytes') !== undefined || valueOf(samples, 'nodejs_heap_size_used_bytes') !== undefined);
  });

  it('counts a malformed message and the failed handshake with the controller\'s own counters', async () => {
    const first = (await scrape()).samples;
    const before = (valueOf(first, 'meshflow_malformed_messages_total') ?? 0) + (valueOf(first, 'meshflow_handshake_failures_total') ?? 0);
    const sock = connect(running.ofPort, '127.0.0.1');
    sock.on('error', () => undefined);
    // Reading (and discarding) is what lets the socket see the controller's end of the connection.
    sock.resume();
    // An OpenFlow 1.3 header that claims a length shorter than the header itself.
    sock.write(Buffer.from([4, 0, 0, 4, 0, 0, 0, 1]));
    await waitFor('the controller to drop the peer', () => sock.destroyed || sock.readableEnded);
    sock.destroy();
    const { samples } = await waitFor('the scrape to show it', async () => {
      const s = await scrape();
      const total = (valueOf(s.samples, 'meshflow_malformed_messages_total') ?? 0) + (valueOf(s.samples, 'meshflow_handshake_failures_total') ?? 0);
      return total > before ? s : undefined;
    });
    assert.equal(valueOf(samples, 'meshflow_malformed_messages_total'), running.controller.counters.malformed);
    assert.equal(valueOf(samples, 'meshflow_handshake_failures_total'), running.controller.counters.rejected);
    assert.equal(valueOf(samples, 'meshflow_switches_connected'), 1, 'the real switch stays');
  });

  it('shows link utilization and level as the monitor sets them, and forgets removed links', async () => {
    const id = `${dpid}:1-${dpid}:2`;
    running.metrics.setLink(id, 0.93, 'congested');
    running.metrics.setLink('other', 0.1, 'ok');
    let { samples } = await scrape();
    assert.equal(valueOf(samples, 'meshflow_link_utilization', { link: id }), 0.93);
    assert.equal(valueOf(samples, 'meshflow_link_level', { link: id }), 2);
    assert.equal(valueOf(samples, 'meshflow_link_level', { link: 'other' }), 0);
    running.metrics.setLink(id, 0, 'down');
    assert.equal(valueOf((await scrape()).samples, 'meshflow_link_level', { link: id }), 3);
    running.metrics.removeLink(id);
    ({ samples } = await scrape());
    assert.equal(valueOf(samples, 'meshflow_link_level', { link: id }), undefined);
    assert.equal(valueOf(samples, 'meshflow_link_utilization', { link: 'other' }), 0.1);
  });

  it('counts stream clients', async () => {
    const { samples } = await scrape();
    assert.equal(valueOf(samples, 'meshflow_stream_clients'), running.hub.stats.clients);
    assert.ok((valueOf(samples, 'meshflow_stream_messages_total') ?? 0) >= 1);
  });

  it('keeps each controller\'s series in its own registry', async () => {
    const other = new ControllerMetrics(new Controller(), { processMetrics: false });
    try {
      other.setLink('only-here', 1, 'congested');
      const { samples } = await scrape();
      assert.equal(valueOf(samples, 'meshflow_link_level', { link: 'only-here' }), undefined);
      assert.equal(valueOf(parseProm(await other.text()), 'meshflow_switches_connected'), 0);
    } finally {
      other.close();
    }
  });
});
