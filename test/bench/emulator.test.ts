// The real controller against emulated OpenFlow 1.3 switches (bench/emu, a process of its own,
// speaking to the controller only over TCP): it discovers a whole fat-tree from LLDP carried over
// the emulated cables, learns every host, and answers cbench's packet-ins.
import assert from 'node:assert/strict';
import { runController, type RunningController } from '../../controller/run.ts';
import { PORT_CAPACITY_BPS, startCbench, startFabric, type EmuHandle } from '../../bench/emu/driver.ts';
import { fatTreeWiring, allLinkIds } from '../../bench/emu/wiring.ts';
import { waitFor } from '../support/wait.ts';

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200, url);
  return (await r.json()) as T;
}

describe('the controller against emulated switches (bench/emu)', function () {
  this.timeout(60_000);
  let ctl: RunningController | undefined;
  let emu: EmuHandle | undefined;

  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
    await ctl?.stop();
    ctl = undefined;
  });

  it('wires a k=4 fat-tree as the textbook says: 20 switches, 32 cables, 16 hosts', () => {
    const w = fatTreeWiring(4);
    assert.equal(w.switches.length, 20);
    assert.equal(w.cables.length, 32);
    assert.equal(w.hosts.length, 16);
    assert.equal(new Set(allLinkIds(w)).size, 64);
    // Every port is used once: by one cable or by one host.
    const used = new Set<string>();
    for (const c of w.cables) for (const e of [c.a, c.b]) {
      const key = `${e.sw}:${e.port}`;
      assert.ok(!used.has(key), `port ${key} used twice`);
      used.add(key);
    }
    for (const h of w.hosts) {
      const key = `${h.switchIndex}:${h.port}`;
      assert.ok(!used.has(key), `host port ${key} also used by a cable`);
      used.add(key);
    }
    assert.equal(used.size, w.switches.reduce((n, s) => n + s.nPorts, 0));
  });

  it('discovers every link direction of a k=4 fat-tree and learns its 16 hosts', async () => {
    ctl = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 200 });
    emu = await startFabric({ port: ctl.ofPort, k: 4, hostDelayMs: 400 });
    const want = new Set(emu.links);
    assert.equal(want.size, 64);
    const api = ctl.apiUrl;
    await waitFor('every link direction up', async () => {
      const links = await getJson<{ id: string; state: string }[]>(`${api}/api/v1/links`);
      return links.filter((l) => l.state === 'up' && want.has(l.id)).length === want.size;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const links = await getJson<{ id: string }[]>(`${api}/api/v1/links`);
    assert.deepEqual(links.map((l) => l.id).filter((id) => !want.has(id)), [], 'no link the wiring does not have');
    const expected = new Map(emu.hosts.map((h) => [h.mac, h]));
    let lastAnnounce = 0;
    await waitFor('all 16 hosts', async () => {
      if (Date.now() - lastAnnounce > 500) {
        lastAnnounce = Date.now();
        await emu!.announce();
      }
      const hosts = await getJson<{ mac: string }[]>(`${api}/api/v1/hosts`);
      return hosts.filter((h) => expected.has(h.mac)).length === expected.size;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    for (const h of await getJson<{ mac: string; dpid: string; port: number; ipv4: string | null }[]>(`${api}/api/v1/hosts`)) {
      const e = expected.get(h.mac);
      assert.ok(e, `unexpected host ${h.mac}`);
      assert.deepEqual([h.dpid, h.port, h.ipv4], [e.dpid, e.port, e.ipv4], `where ${h.mac} is`);
    }
    const s = await emu.stats();
    assert.equal(s.closes, 0, 'no session closed');
    assert.ok(s.totals.delivered > 0);
  });

  it('sees a cable go down and up, and a loaded link as congested, from port status and port statistics', async () => {
    ctl = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 200, pollIntervalMs: 200 });
    emu = await startFabric({ port: ctl.ofPort, k: 4, hostDelayMs: -1 });
    const api = ctl.apiUrl;
    const want = new Set(emu.links);
    const states = async (): Promise<Map<string, string>> =>
      new Map((await getJson<{ id: string; state: string; downReason?: string }[]>(`${api}/api/v1/links`)).map((l) => [l.id, l.state + (l.downReason ? `:${l.downReason}` : '')]));
    await waitFor('discovery', async () => {
      const m = await states();
      return [...want].every((id) => m.get(id) === 'up');
    }, { timeoutMs: 20_000, intervalMs: 100 });
    const [ab] = emu.links;
    const [src, dst] = ab!.split('-');
    const ba = `${dst}-${src}`;
    await emu.linkDown(ab!);
    await waitFor('both directions down by port status', async () => {
      const m = await states();
      // port_down, not expired: the PORT_STATUS said so before any LLDP could be missed.
      return m.get(ab!) === 'down:port_down' && m.get(ba) === 'down:port_down';
    }, { timeoutMs: 10_000, intervalMs: 50 });
    await emu.linkUp(ab!);
    await waitFor('both directions up again', async () => {
      const m = await states();
      return m.get(ab!) === 'up' && m.get(ba) === 'up';
    }, { timeoutMs: 10_000, intervalMs: 50 });
    await emu.setLoad({ linkId: ab! }, 0.95 * PORT_CAPACITY_BPS);
    const loads = await waitFor('the loaded direction congested', async () => {
      const l = await getJson<{ linkId: string; level: string; utilization: number }[]>(`${api}/api/v1/congestion`);
      return l.find((x) => x.linkId === ab && x.level === 'congested') ? l : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    const mine = loads.find((x) => x.linkId === ab)!;
    assert.ok(mine.utilization > 0.85 && mine.utilization < 1.05, `utilization ${mine.utilization}`);
    assert.equal(loads.find((x) => x.linkId === ba)?.level, 'ok', 'the other direction carries nothing');
  });

  it('answers cbench packet-ins between learned hosts', async () => {
    ctl = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 200 });
    emu = await startCbench({ port: ctl.ofPort, switches: 4, macs: 64, dests: 2 });
    const dests = new Set(emu.hosts.map((h) => h.mac));
    const api = ctl.apiUrl;
    await waitFor('destinations learned', async () => {
      await emu!.announce();
      const hosts = await getJson<{ mac: string }[]>(`${api}/api/v1/hosts`);
      return hosts.filter((h) => dests.has(h.mac)).length === dests.size;
    }, { timeoutMs: 20_000, intervalMs: 200 });
    await emu.stats();
    await emu.traffic('latency');
    let answered = 0;
    await waitFor('300 packet-ins answered', async () => {
      answered += (await emu!.stats()).cbench?.answered ?? 0;
      return answered >= 300;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    await emu.traffic('off');
    const s = await emu.stats();
    assert.equal(s.closes, 0, 'no session closed');
    assert.equal(s.featured, 4);
  });
});
