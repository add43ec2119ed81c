// A packet-in storm inside a Mininet network of four switches in a line: the host on the first
// switch sends ARP with a new source MAC per frame as fast as it can. Discovery must not lose a
// link (LLDP shares the stormy switch's packet-ins), no switch may drop, the API keeps answering,
// and hosts reach each other across the line right after.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { RunOptions } from '../../controller/run.ts';
import { startControlledNetwork, type ControlledNetwork } from '../support/mininet.ts';
import { ofctl } from '../support/ovs.ts';
import { parseProm, valueOf } from '../api/prom.ts';

const SENDER = fileURLToPath(new URL('./storm-sender.py', import.meta.url));
const ANSWER_WITHIN_MS = 10_000;

interface Variant {
  readonly title: string;
  readonly options: Pick<RunOptions, 'admission' | 'tableMiss'>;
  readonly metered: boolean;
}

const variants: Variant[] = [
  { title: 'with the defaults: admission and a meter on the table-miss entry', options: {}, metered: true },
  { title: 'with admission alone (no meter)', options: { admission: { rate: 500, burst: 500 }, tableMiss: { meterRate: 0 } }, metered: false },
];

describe('a packet-in storm in a Mininet line of four switches', function () {
  this.timeout(180_000);

  for (const variant of variants) {
    describe(variant.title, () => {
      let n: ControlledNetwork;
      const linksDown: string[] = [];
      const switchesDown: string[] = [];

      before(async () => {
        n = await startControlledNetwork('linear-4', { echoIntervalMs: 1000, ...variant.options });
        n.running.network.discovery.on('link_down', (l, reason) => linksDown.push(`${l.id}: ${reason}`));
        n.running.controller.on('switch_down', (s, reason) => switchesDown.push(`${s.dpid}: ${reason}`));
      });

      after(async () => {
        await n?.stop();
      });

      it('keeps every link and switch, answers the API, sheds the excess, and forwards across the line right after', async () => {
        const { running, net } = n;
        assert.ok(await n.ping('h2', 'h4'), 'a ping across the line before the storm');
        const stormy = n.dpid('s1');
        const iface = net.hostInfo('h1').intf;
        let over = false;
        const flood = net
          .cmd('h1', `/usr/bin/python3 ${SENDER} --iface ${iface} --count 300000 --seconds 5`, { timeoutMs: 60_000 })
          .finally(() => (over = true));
        let healthz = 0;
        const failures: string[] = [];
        while (!over) {
          const res = await fetch(`${running.apiUrl}/api/v1/healthz`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }).catch((e: Error) => e);
          healthz++;
          if (res instanceof Error || res.status !== 200) failures.push(res instanceof Error ? res.message : `status ${res.status}`);
          else await res.arrayBuffer();
        }
        const r = await flood;
        assert.equal(r.code, 0, r.output);
        const sent = (JSON.parse(r.output.trim().split('\n').at(-1) ?? '{}') as { sent?: number }).sent ?? 0;
        assert.ok(sent > 10_000, `the storm sent ${sent} frames`);
        assert.ok(healthz > 0);
        assert.deepEqual(failures, [], `healthz unanswered ${failures.length} of ${healthz} times`);

        const samples = parseProm(await (await fetch(`${running.apiUrl}/metrics`)).text());
        if (variant.metered) {
          const stats = await ofctl('meter-stats', net.bridgeOf('s1'));
          const band = /meter:1 [^]*?0: packet_count:(\d+)/.exec(stats);
          assert.ok(band && Number(band[1]) > 0, `meter 1 of s1 dropped packets:\n${stats}`);
        } else {
          const dropped = valueOf(samples, 'meshflow_packet_ins_dropped_total', { dpid: stormy }) ?? 0;
          assert.ok(dropped > 0, `admission dropped packet-ins of s1: ${dropped}`);
        }

        // Right after: pairs that never spoke, across the line and to the storm's own host.
        assert.ok(await n.ping('h4', 'h1'), 'h4 → h1 right after the storm');
        assert.ok(await n.ping('h3', 'h2'), 'h3 → h2 right after the storm');
        assert.deepEqual(linksDown, [], 'no link went down');
        assert.deepEqual(switchesDown, [], 'no switch went down');
        assert.equal(running.controller.switches.size, 4);
      });
    });
  }
});
