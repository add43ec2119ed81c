// Link capacity: the rate syntax, which source wins, what tc says about shaping (outputs as
// Debian 12's iproute2 6.1 prints them), the watcher that reads it, discovery keeping each live
// link's capacity and source current, the API that overrides it, and the monitor's view of a
// link whose capacity is unknown.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../bus/clock.ts';
import { buildApi } from '../../controller/api/server.ts';
import { capacityFromBody } from '../../controller/api/links.ts';
import { assess, emptyAssessment } from '../../controller/monitor/assess.ts';
import { defaultLevelSettings } from '../../controller/monitor/levels.ts';
import type { PortRate } from '../../controller/monitor/rates.ts';
import { OFPPR_MODIFY, type PortStatus } from 'openflow-ts';
import { Network } from '../../controller/routing/network.ts';
import type { SwitchSession } from '../../controller/session.ts';
import { CapacityResolver, parsePortCapacity, parseRate, resolveCapacity } from '../../controller/topology/capacity.ts';
import { Discovery } from '../../controller/topology/discovery.ts';
import { htbRate, parseRootQdiscs, ShapingWatcher, type RunTc } from '../../controller/topology/shaping.ts';
import type { Link } from '../../controller/topology/types.ts';
import { dp, ep, FakeFabric } from './fake-fabric.ts';

// Captured from `tc` on this project's machines (iproute2 6.1): a Mininet TCLink (bw=8) sets an
// HTB root "5:" with default class 1; `tc qdisc add ... root tbf rate 8mbit` gives the TBF line.
const QDISCS_ALL = JSON.stringify([
  { kind: 'noqueue', handle: '0:', dev: 'lo', root: true, refcnt: 2, options: {} },
  { kind: 'pfifo_fast', handle: '0:', dev: 'eth0', root: true, refcnt: 2, options: { bands: 3 } },
  { kind: 'htb', handle: '5:', dev: 's1-eth2', root: true, refcnt: 3, options: { r2q: 10, default: '0x1', direct_packets_stat: 0, direct_qlen: 1000 } },
  { kind: 'netem', handle: '10:', dev: 's1-eth2', parent: '5:1', options: {} },
  { kind: 'tbf', handle: '8001:', dev: 's2-eth1', root: true, refcnt: 3, options: { rate: 1000000, burst: 15360, lat: 50000 } },
]);
const HTB_CLASSES = 'class htb 5:1 root prio 0 rate 8Mbit ceil 8Mbit burst 15Kb cburst 1600b \n';

describe('topology: link capacity', () => {
  describe('rates', () => {
    it('reads rates as tc writes them, in bit/s', () => {
      assert.equal(parseRate('8mbit'), 8e6);
      assert.equal(parseRate('8Mbit'), 8e6);
      assert.equal(parseRate('800kbit'), 8e5);
      assert.equal(parseRate('1.5gbit'), 1.5e9);
      assert.equal(parseRate('10m'), 1e7);
      assert.equal(parseRate('8000000'), 8e6);
      assert.equal(parseRate(8e6), 8e6);
    });

    it('refuses what is not a rate, and tc\'s bytes-per-second "bps"', () => {
      for (const bad of ['', 'fast', '8mbps', '8bps', '0', '-1mbit', 'mbit']) assert.throws(() => parseRate(bad), RangeError, bad);
      assert.throws(() => parseRate(0), RangeError);
    });

    it('reads <port>=<rate> by dpid and port or by interface name', () => {
      assert.deepEqual(parsePortCapacity('0000000000000001:2=8mbit'), ['0000000000000001:2', 8e6]);
      assert.deepEqual(parsePortCapacity('S1-eth2=10mbit'), ['s1-eth2', 1e7]);
      assert.throws(() => parsePortCapacity('s1-eth2'), RangeError);
      assert.throws(() => parsePortCapacity('=8mbit'), RangeError);
    });
  });

  describe('precedence', () => {
    it('api > config per port > topology > tc > config default > port speed; nothing known is 0, "none"', () => {
      const all = { api: 1, config: 2, topology: 3, tc: 4, configDefault: 5, port: 6 };
      assert.deepEqual(resolveCapacity(all), { bps: 1, source: 'api' });
      assert.deepEqual(resolveCapacity({ ...all, api: undefined }), { bps: 2, source: 'config' });
      assert.deepEqual(resolveCapacity({ ...all, api: undefined, config: undefined }), { bps: 3, source: 'topology' });
      assert.deepEqual(resolveCapacity({ tc: 4, configDefault: 5, port: 6 }), { bps: 4, source: 'tc' });
      assert.deepEqual(resolveCapacity({ configDefault: 5, port: 6 }), { bps: 5, source: 'config' });
      assert.deepEqual(resolveCapacity({ port: 6 }), { bps: 6, source: 'port' });
      assert.deepEqual(resolveCapacity({ port: 0 }), { bps: 0, source: 'none' });
      assert.deepEqual(resolveCapacity({ tc: 0, topology: Number.NaN, port: 6 }), { bps: 6, source: 'port' }, 'a source that says 0 or NaN says nothing');
    });

    it('finds per-port config by dpid:port or by the port name, in any case', () => {
      const r = new CapacityResolver({ perPort: new Map([['S1-ETH2', 7e6], ['0000000000000002:1', 6e6]]), defaultBps: 5e6 });
      assert.deepEqual(r.resolve(ep(1, 2), 's1-eth2', 1e10), { bps: 7e6, source: 'config' });
      assert.deepEqual(r.resolve(ep(2, 1), 's2-eth1', 1e10), { bps: 6e6, source: 'config' });
      assert.deepEqual(r.resolve(ep(3, 1), 's3-eth1', 1e10), { bps: 5e6, source: 'config' });
      r.setOverride(ep(3, 1), 9e6);
      assert.deepEqual(r.resolve(ep(3, 1), 's3-eth1', 1e10), { bps: 9e6, source: 'api' });
      r.setOverride(ep(3, 1), undefined);
      assert.equal(r.resolve(ep(3, 1), 's3-eth1', 1e10).bps, 5e6);
      assert.equal(r.setShaping('s3-eth1', 8e6), true);
      assert.equal(r.setShaping('s3-eth1', 8e6), false, 'the same rate again is no change');
    });
  });

  describe('tc output', () => {
    it('finds root qdiscs: TBF rates in bit/s (tc gives bytes/s), HTB default classes', () => {
      const roots = parseRootQdiscs(QDISCS_ALL);
      assert.deepEqual(
        roots.map((q) => q.dev),
        ['lo', 'eth0', 's1-eth2', 's2-eth1'],
        'child qdiscs are not roots',
      );
      assert.deepEqual(roots[2], { dev: 's1-eth2', kind: 'htb', handle: '5:', defaultClass: '5:1' });
      assert.equal(roots[3]?.rateBps, 8e6);
      assert.deepEqual(parseRootQdiscs('[{"kind":"tbf","handle":"8001:","root":true,"options":{"rate":125000}}]', 'x'), [{ dev: 'x', kind: 'tbf', handle: '8001:', rateBps: 1e6 }]);
      assert.deepEqual(parseRootQdiscs(''), []);
    });

    it("reads the HTB default class's rate, else the fastest class at the root", () => {
      const root = { dev: 's1-eth2', kind: 'htb', handle: '5:', defaultClass: '5:1' };
      assert.equal(htbRate(HTB_CLASSES, root), 8e6);
      const tree = 'class htb 1:1 root rate 10Mbit ceil 10Mbit burst 15Kb\nclass htb 1:10 parent 1:1 prio 1 rate 2Mbit ceil 10Mbit\nclass htb 1:20 parent 1:1 prio 2 rate 3Mbit ceil 10Mbit\n';
      assert.equal(htbRate(tree, { dev: 'x', kind: 'htb', handle: '1:', defaultClass: '1:20' }), 3e6);
      assert.equal(htbRate(tree, { dev: 'x', kind: 'htb', handle: '1:' }), 10e6);
      assert.equal(htbRate('', root), undefined);
    });
  });

  describe('shaping watcher', () => {
    function fakeTc(): { run: RunTc; calls: string[][] } {
      const calls: string[][] = [];
      const run: RunTc = async (args) => {
        calls.push([...args]);
        if (args[0] === '-j') return QDISCS_ALL;
        if (args.join(' ') === 'class show dev s1-eth2') return HTB_CLASSES;
        throw new Error('Cannot find device');
      };
      return { run, calls };
    }

    it('reads a burst of watched ports in one round: one qdisc listing, classes only of HTB interfaces', async () => {
      const { run, calls } = fakeTc();
      const seen = new Map<string, number | undefined>();
      const w = new ShapingWatcher((n, bps) => seen.set(n, bps), { run, clock: new VirtualClock(0) });
      w.start();
      for (const n of ['s1-eth1', 's1-eth2', 's2-eth1', 'p9']) w.watch(n);
      await w.settled();
      assert.deepEqual(calls, [['-j', 'qdisc', 'show'], ['class', 'show', 'dev', 's1-eth2']]);
      assert.deepEqual(Object.fromEntries(seen), { 's1-eth1': undefined, 's1-eth2': 8e6, 's2-eth1': 8e6, p9: undefined });
      w.stop();
    });

    it('reads again once the ports settled and every refresh period, and never again once tc is found missing', async () => {
      const clock = new VirtualClock(0);
      let rounds = 0;
      const run: RunTc = async () => {
        rounds++;
        return '[]';
      };
      const w = new ShapingWatcher(() => undefined, { run, clock, refreshMs: 30_000, settleMs: 2000 });
      w.start();
      w.watch('s1-eth1');
      w.watch('s1-eth2');
      await w.settled();
      assert.equal(rounds, 1);
      clock.advance(2000);
      await w.settled();
      assert.equal(rounds, 2, 'once more after the ports settled (Mininet re-applies its qdiscs when a switch starts)');
      clock.advance(28_000);
      await w.settled();
      assert.equal(rounds, 3);
      w.stop();

      let asked = 0;
      const missing: RunTc = async () => {
        asked++;
        throw Object.assign(new Error('spawn tc ENOENT'), { code: 'ENOENT' });
      };
      const gone = new ShapingWatcher(() => undefined, { run: missing, clock, refreshMs: 30_000 });
      gone.start();
      gone.watch('s1-eth1');
      await gone.settled();
      clock.advance(60_000);
      gone.watch('s1-eth2');
      await gone.settled();
      assert.equal(asked, 1);
      gone.stop();
    });
  });

  describe('discovery', () => {
    /** s1:2 — s2:1, ports named as Mininet names them; tc says s1-eth2 is shaped to `rate`. */
    function pair(rate: { bps: number | undefined }, opts: { defaultBps?: number } = {}) {
      const clock = new VirtualClock(0);
      const fabric = new FakeFabric();
      const run: RunTc = async (args) => {
        if (args[0] === '-j') return rate.bps === undefined ? '[]' : JSON.stringify([{ kind: 'tbf', handle: '1:', dev: 's1-eth2', root: true, options: { rate: rate.bps / 8 } }]);
        throw new Error('not asked');
      };
      const discovery = new Discovery(fabric.controller, {
        clock,
        capacity: opts.defaultBps === undefined ? {} : { defaultBps: opts.defaultBps },
        shaping: { run, clock, refreshMs: 30_000 },
      });
      discovery.start();
      const s1 = fabric.addSwitch(dp(1), [2]);
      const s2 = fabric.addSwitch(dp(2), [1]);
      s1.ports.set(2, { ...(s1.ports.get(2) as NonNullable<ReturnType<typeof s1.ports.get>>), name: 's1-eth2' });
      s2.ports.set(1, { ...(s2.ports.get(1) as NonNullable<ReturnType<typeof s2.ports.get>>), name: 's2-eth1' });
      // Rejoin so discovery learns the names as a real switch's port description gives them.
      fabric.removeSwitch(dp(1));
      fabric.removeSwitch(dp(2));
      fabric.switches.set(dp(1), s1);
      fabric.switches.set(dp(2), s2);
      for (const s of [s1, s2]) {
        fabric.controller.switches.set(s.dpid, s as unknown as SwitchSession);
        fabric.controller.emit('switch_up', s as unknown as SwitchSession);
      }
      fabric.cable(ep(1, 2), ep(2, 1));
      fabric.deliver();
      return { clock, fabric, discovery };
    }
    const fwd = '0000000000000001:2-0000000000000002:1';
    const back = '0000000000000002:1-0000000000000001:2';
    const cap = (d: Discovery, id: string): Pick<Link, 'capacityBps' | 'capacitySource'> => {
      const l = d.links.get(id);
      return { capacityBps: l?.capacityBps ?? -1, capacitySource: l?.capacitySource };
    };

    it('takes the shaping rate of the interface named as the sending port, once tc has answered', async () => {
      const rate = { bps: 8e6 as number | undefined };
      const { discovery, clock, fabric } = pair(rate);
      assert.deepEqual(cap(discovery, fwd), { capacityBps: 1e9, capacitySource: 'port' }, 'before tc answers: the port speed');
      await discovery.shapingSettled();
      assert.deepEqual(cap(discovery, fwd), { capacityBps: 8e6, capacitySource: 'tc' });
      assert.deepEqual(cap(discovery, back), { capacityBps: 1e9, capacitySource: 'port' }, 'the other direction is not shaped');
      // The shaping goes: the next refresh gives the link back its port speed.
      rate.bps = undefined;
      for (let t = 0; t < 30; t++) {
        clock.advance(1000);
        fabric.deliver();
      }
      await discovery.shapingSettled();
      assert.deepEqual(cap(discovery, fwd), { capacityBps: 1e9, capacitySource: 'port' });
      discovery.stop();
    });

    it('an override wins over tc at once, and clearing it gives tc back; --link-capacity loses to tc', async () => {
      const { discovery } = pair({ bps: 8e6 }, { defaultBps: 20e6 });
      await discovery.shapingSettled();
      assert.deepEqual(cap(discovery, back), { capacityBps: 20e6, capacitySource: 'config' });
      discovery.setCapacityOverride(ep(1, 2), 4e6);
      assert.deepEqual(cap(discovery, fwd), { capacityBps: 4e6, capacitySource: 'api' });
      discovery.setCapacityOverride(ep(1, 2), undefined);
      assert.deepEqual(cap(discovery, fwd), { capacityBps: 8e6, capacitySource: 'tc' });
      discovery.stop();
    });

    it('a port that reports speed 0 and has no other source gives capacity 0, "none"', async () => {
      const { discovery, fabric } = pair({ bps: undefined });
      await discovery.shapingSettled();
      const s2 = fabric.switches.get(dp(2));
      const p = s2?.ports.get(1);
      assert.ok(s2 && p);
      const port = { ...p, currSpeed: 0 };
      s2.ports.set(1, port);
      const msg: PortStatus = { type: 'port_status', xid: 0, reason: OFPPR_MODIFY, port };
      fabric.controller.emit('port_status', s2 as unknown as SwitchSession, msg);
      assert.deepEqual(cap(discovery, back), { capacityBps: 0, capacitySource: 'none' });
      discovery.stop();
    });
  });

  describe('monitor, capacity unknown', () => {
    it('reports utilization 0 and the measured rate, never NaN, and raises no level from it', () => {
      const link: Link = { id: 'a', src: ep(1, 1), dst: ep(2, 1), capacityBps: 0, capacitySource: 'none', state: 'up', since: 0, lastSeen: 0 };
      const rate: PortRate = { txBps: 5e6, rxBps: 0, txDropsPerSec: 0, rxDropsPerSec: 0 };
      let a = emptyAssessment;
      for (let i = 0; i < 5; i++) a = assess([link], new Map([['0000000000000001:1', rate]]), a, defaultLevelSettings);
      const load = a.loads.get('a');
      assert.ok(load);
      assert.equal(load.utilization, 0);
      assert.equal(load.sampleUtilization, 0);
      assert.equal(load.rateBps, 5e6);
      assert.equal(load.level, 'ok');
    });
  });

  describe('API', () => {
    it('PUT sets a direction\'s capacity (bps or rate), DELETE takes it back; bad bodies and unknown links are refused', async () => {
      const clock = new VirtualClock(0);
      const fabric = new FakeFabric();
      const network = new Network(fabric.controller, { clock });
      network.start();
      fabric.addSwitch(dp(1), [2]);
      fabric.addSwitch(dp(2), [1]);
      fabric.cable(ep(1, 2), ep(2, 1));
      fabric.deliver();
      const app = buildApi(fabric.controller, { network });
      try {
        const id = '0000000000000001:2-0000000000000002:1';
        const list = (await app.inject('/api/v1/links')).json() as { id: string; capacityBps: number; capacitySource: string }[];
        assert.deepEqual(list.find((l) => l.id === id)?.capacitySource, 'port');
        let r = await app.inject({ method: 'PUT', url: `/api/v1/links/${id}/capacity`, payload: { rate: '8mbit' } });
        assert.equal(r.statusCode, 200);
        assert.deepEqual([r.json().capacityBps, r.json().capacitySource], [8e6, 'api']);
        assert.equal(network.discovery.links.get(id)?.capacityBps, 8e6, 'the table changed, so the next assessment uses it');
        r = await app.inject({ method: 'PUT', url: `/api/v1/links/${id}/capacity`, payload: { bps: 2e6 } });
        assert.equal(r.json().capacityBps, 2e6);
        r = await app.inject({ method: 'DELETE', url: `/api/v1/links/${id}/capacity` });
        assert.deepEqual([r.statusCode, r.json().capacityBps, r.json().capacitySource], [200, 1e9, 'port']);
        for (const payload of [{}, { bps: 0 }, { rate: '8mbps' }, { bps: 1, rate: '1mbit' }, { bps: '8' }, { speed: 1 }]) {
          r = await app.inject({ method: 'PUT', url: `/api/v1/links/${id}/capacity`, payload });
          assert.equal(r.statusCode, 400, JSON.stringify(payload));
        }
        r = await app.inject({ method: 'PUT', url: '/api/v1/links/nope/capacity', payload: { bps: 1 } });
        assert.equal(r.statusCode, 404);
        assert.equal(typeof capacityFromBody([1]), 'string');
      } finally {
        await app.close();
        network.stop();
      }
    });

    it('PUT and DELETE need the bearer token when the API has one', async () => {
      const fabric = new FakeFabric();
      const network = new Network(fabric.controller);
      const app = buildApi(fabric.controller, { network, apiToken: 'sekrit' });
      try {
        const url = '/api/v1/links/0000000000000001:2-0000000000000002:1/capacity';
        assert.equal((await app.inject({ method: 'PUT', url, payload: { bps: 1 } })).statusCode, 401);
        assert.equal((await app.inject({ method: 'DELETE', url })).statusCode, 401);
        const authed = await app.inject({ method: 'PUT', url, payload: { bps: 1 }, headers: { authorization: 'Bearer sekrit' } });
        assert.equal(authed.statusCode, 404, 'past the token: no such link');
      } finally {
        await app.close();
      }
    });
  });

  describe('command line and config file', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const meshflow = (args: string[]) => spawnSync(process.execPath, ['bin/meshflow.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, MESHFLOW_CONFIG: '' } });

    it('takes --link-capacity and per-port capacities as a mapping in the file; refuses a bad rate naming the key', () => {
      const dir = mkdtempSync(join(tmpdir(), 'meshflow-capacity-'));
      try {
        const good = join(dir, 'good.yaml');
        writeFileSync(good, 'controller:\n  linkCapacity: 100mbit\n  portCapacity:\n    s1-eth2: 8mbit\n    "0000000000000002:3": 10000000\n');
        const r = meshflow(['--config', good, 'controller', '--print-config']);
        assert.equal(r.status, 0, r.stderr);
        const o = (JSON.parse(r.stdout) as { options: Record<string, { value?: unknown }> }).options;
        assert.equal(o['linkCapacity']?.value, 100e6);
        assert.deepEqual(o['portCapacity']?.value, ['s1-eth2=8mbit', '0000000000000002:3=10000000']);
        const bad = join(dir, 'bad.yaml');
        writeFileSync(bad, 'controller:\n  portCapacity:\n    s1-eth2: 8mbps\n');
        const b = meshflow(['--config', bad, 'controller', '--print-config']);
        assert.equal(b.status, 2);
        assert.match(b.stderr, /controller\.portCapacity.*8mbps/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
