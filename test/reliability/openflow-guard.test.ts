// The OpenFlow port under attack, CI-sized (bench/attack/openflow.ts has the attacks; bench/soak.ts
// may run them long): a fake switch with a live switch's datapath id, an idle connection flood, a
// slowloris handshake, a connection limit held by ready switches, and throwaway datapath ids.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runController, type RunningController, type RunOptions } from '../../controller/run.ts';
import { formatDpid } from '../../controller/dpid.ts';
import { Controller } from '../../controller/controller.ts';
import { FakeSwitch } from '../../bench/attack/fake-switch.ts';
import { closeAll, closedCount, idleFlood, impersonate, metricsSize, slowloris, throwawayDpids } from '../../bench/attack/openflow.ts';
import { parseProm, valueOf } from '../api/prom.ts';
import { waitFor } from '../support/wait.ts';

describe('reliability: a guarded OpenFlow port', function () {
  this.timeout(60_000);
  let running: RunningController | undefined;
  let dir: string;
  const fakes: FakeSwitch[] = [];

  const start = async (opts: Partial<RunOptions> = {}): Promise<RunningController> => {
    running = await runController({
      ofPort: 0,
      apiPort: 0,
      echoIntervalMs: 1000,
      // Nothing of the network is under test: no delay probes, a slow poll.
      probeIntervalMs: 0,
      pollIntervalMs: 5000,
      eventLog: join(dir, 'events.jsonl'),
      ...opts,
    });
    return running;
  };
  const fake = (dpid: bigint, answerEcho = true): FakeSwitch => {
    const f = new FakeSwitch({ port: running!.ofPort, dpid, answerEcho });
    fakes.push(f);
    return f;
  };
  const registered = (dpid: bigint) => waitFor(`switch ${formatDpid(dpid)} registered`, () => running!.controller.switches.get(formatDpid(dpid)));
  const refusedMetric = async (cause: string): Promise<number | undefined> =>
    valueOf(parseProm(await (await fetch(`${running!.apiUrl}/metrics`)).text()), 'meshflow_openflow_refused_total', { cause });
  const events = (): { event: string; dpid?: string; detail?: { reason?: string } }[] =>
    readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mf-ofguard-'));
  });

  afterEach(async () => {
    for (const f of fakes.splice(0)) f.end();
    await running?.stop();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 unless told otherwise', async () => {
    const c = new Controller({ port: 0 });
    try {
      assert.equal((await c.listen()).host, '127.0.0.1');
    } finally {
      await c.close();
    }
  });

  it('refuses a fake switch that claims the datapath id of a live one, and counts it', async () => {
    const r = await start();
    const live = fake(0xa1n);
    const session = await registered(0xa1n);
    let downs = 0;
    r.controller.on('switch_down', () => downs++);
    const attempt = await impersonate({ port: r.ofPort }, 0xa1n, 10_000);
    assert.ok(attempt.handshaken, 'the impostor got as far as the end of its handshake');
    assert.ok(attempt.closedByController, 'and was then closed');
    assert.equal(r.controller.switches.get(formatDpid(0xa1n)), session, 'the live session stays');
    assert.equal(session.state, 'ready');
    assert.ok(live.echoesAnswered >= 1, 'the live switch was asked whether it still answers');
    assert.equal(downs, 0);
    assert.equal(r.controller.refused.takeoverRefused, 1);
    assert.equal(await refusedMetric('takeover_refused'), 1);
  });

  it('lets a newcomer take over a datapath id whose session no longer answers, as switch_down then switch_up', async () => {
    const r = await start({ ofLimits: { livenessTimeoutMs: 300 } });
    const dead = fake(0xa2n, false);
    const old = await registered(0xa2n);
    const oldRx = old.counters.rx;
    fake(0xa2n);
    const fresh = await waitFor('the newcomer to hold the datapath id', () => {
      const s = r.controller.switches.get(formatDpid(0xa2n));
      return s !== old ? s : undefined;
    });
    assert.equal(fresh.state, 'ready');
    assert.equal(old.state, 'closed');
    await dead.closed;
    assert.equal(r.controller.counters.replaced, 1);
    assert.equal(r.controller.refused.takeoverRefused, 0);
    // The event log has it in order: up (old), down with the reason, up (new).
    const mine = await waitFor('the events in the log', () => {
      const e = events().filter((x) => x.dpid === formatDpid(0xa2n));
      return e.length >= 3 ? e : undefined;
    });
    assert.deepEqual(mine.map((e) => e.event), ['switch_up', 'switch_down', 'switch_up']);
    assert.match(mine[1]!.detail?.reason ?? '', /^replaced: .*did not answer an echo/);
    // The switch's counters carry on across the replacement: the old session's count is kept.
    const rx = valueOf(parseProm(await (await fetch(`${r.apiUrl}/metrics`)).text()), 'meshflow_openflow_messages_received_total', { dpid: formatDpid(0xa2n) });
    assert.ok(rx !== undefined && rx >= oldRx + fresh.counters.rx, `received ${rx}, old session ${oldRx}, new ${fresh.counters.rx}`);
  });

  it('keeps a new switch from being locked out by 200 idle connections: the oldest unready ones go first', async () => {
    // Deadlines far off, so that only the limit closes connections here.
    const r = await start({ echoIntervalMs: 30_000, ofLimits: { maxUnready: 16, maxConnections: 128, handshakeTimeoutMs: 30_000 } });
    const idle = await idleFlood({ port: r.ofPort }, 200);
    try {
      await waitFor('every idle connection to be accepted', () => r.controller.counters.connections >= 200);
      fake(0xb1n);
      await registered(0xb1n);
      // 200 + 1 arrivals through 16 unready slots: all but the last 16 idle ones were closed.
      assert.equal(r.controller.refused.unreadyEvicted, 200 + 1 - 16);
      await waitFor('the evicted ones to see their end', () => closedCount(idle) >= 200 - 16 + 1 || undefined);
      assert.equal(await refusedMetric('unready_evicted'), 185);
      assert.equal(r.controller.refused.connectionLimit, 0);
    } finally {
      closeAll(idle);
    }
  });

  it('refuses connections beyond the limit when ready switches hold every slot', async () => {
    const r = await start({ ofLimits: { maxUnready: 2, maxConnections: 3 } });
    for (const d of [0xc1n, 0xc2n, 0xc3n]) {
      fake(d);
      await registered(d);
    }
    const extra = fake(0xc4n);
    await extra.closed;
    assert.equal(r.controller.refused.connectionLimit, 1);
    assert.equal(r.controller.switches.size, 3, 'no ready switch was dropped for the newcomer');
    assert.equal(await refusedMetric('connection_limit'), 1);
  });

  it('closes a slowloris handshake at the deadline and counts it', async () => {
    const r = await start({ ofLimits: { handshakeTimeoutMs: 500 } });
    // A byte every 50 ms: alive by any byte-level measure, and never a features reply.
    const attack = await slowloris({ port: r.ofPort }, 5, 50);
    try {
      await waitFor('the controller to close every slow handshake', () => closedCount(attack.sockets) === 5);
      assert.equal(r.controller.refused.handshakeTimeout, 5);
      assert.equal(await refusedMetric('handshake_timeout'), 5);
      // A real switch still gets in afterwards.
      fake(0xd1n);
      await registered(0xd1n);
    } finally {
      attack.stop();
    }
  });

  it('leaves /metrics at its size before 300 throwaway datapath ids, and no per-switch state behind', async () => {
    const r = await start();
    fake(0xe1n);
    await registered(0xe1n);
    // A fake leaves as soon as it has answered the handshake's last barrier, so the controller may
    // see it come and go after throwawayDpids returns: count the goings.
    let gone = 0;
    r.controller.on('switch_down', (s) => s.dpid.startsWith('0000dead') && gone++);
    // One throwaway first, so that every family that a switch can start has started.
    await throwawayDpids({ port: r.ofPort }, { count: 1, firstDpid: 0xdead_0000_0000n });
    await waitFor('the first throwaway to leave', () => gone === 1);
    const before = await metricsSize(r.apiUrl);
    const churn = await throwawayDpids({ port: r.ofPort }, { count: 300, concurrency: 8, firstDpid: 0xdead_0001_0000n });
    assert.equal(churn.completed, 300, `every throwaway completed its handshake (${churn.failed} did not)`);
    await waitFor('every throwaway to come and go', () => gone === 301);
    assert.equal(r.controller.switches.size, 1);
    const after = await metricsSize(r.apiUrl);
    assert.deepEqual([...after.dpids], [...before.dpids], 'datapath ids named in /metrics');
    assert.equal(after.dpidSeries, before.dpidSeries, 'series with a dpid label');
    assert.equal(after.series, before.series, 'meshflow_* series');
    // Counter values grow by a few digits; 300 switches' series would be tens of kilobytes.
    assert.ok(after.seriesBytes - before.seriesBytes < 256, `meshflow_* series ${before.seriesBytes} → ${after.seriesBytes} bytes (all of /metrics ${before.bytes} → ${after.bytes})`);
  });
});
