// Roles over a real Redis: one master per switch whose generation_id is the lease's fencing number,
// takeover after the master's lease runs out, and a controller cut off from Redis that gives up
// mastership before anyone else can take it (never two masters).
import assert from 'node:assert/strict';
import { startRedis, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';
import { RedisLeaseStore } from '../../controller/cluster/lease.ts';
import { ClusterRoles } from '../../controller/cluster/roles.ts';
import { OFPCR_ROLE_MASTER } from 'openflow-ts';
import { FakeSource, FakeSwitch, SwitchModel, overlaps, startProxy, type Proxy } from './support.ts';

const LEASE_MS = 1000;

interface Member {
  readonly id: string;
  readonly source: FakeSource;
  readonly store: RedisLeaseStore;
  readonly roles: ClusterRoles<FakeSwitch>;
  readonly proxy: Proxy;
}

describe('cluster roles (Redis leases, OpenFlow roles)', function () {
  this.timeout(30_000);
  let redis: Service;
  const members: Member[] = [];
  let n = 0;

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    for (const m of members.splice(0)) {
      await m.roles.stop().catch(() => undefined);
      await m.store.close();
      await m.proxy.close();
    }
  });

  async function member(id: string, prefix: string): Promise<Member> {
    const proxy = await startProxy(redis.port);
    const store = new RedisLeaseStore(proxy.url, { prefix, commandTimeoutMs: 200 });
    await store.connect();
    const source = new FakeSource();
    const roles = new ClusterRoles<FakeSwitch>(source, store, { controllerId: id, leaseMs: LEASE_MS });
    roles.start();
    const m = { id, source, store, roles, proxy };
    members.push(m);
    return m;
  }

  function connect(models: Map<string, SwitchModel>, m: Member, dpid: string): FakeSwitch {
    let model = models.get(dpid);
    if (model === undefined) models.set(dpid, (model = new SwitchModel()));
    const s = new FakeSwitch(dpid, m.id, model);
    m.source.add(s);
    return s;
  }

  it('makes one controller master of each switch, with the fencing number as generation_id', async () => {
    const prefix = `t${process.pid}-${n++}`;
    const models = new Map<string, SwitchModel>();
    const a = await member('a', prefix);
    const b = await member('b', prefix);
    const dpids = ['0000000000000001', '0000000000000002', '0000000000000003'];
    const sa = dpids.map((d) => connect(models, a, d));
    const sb = dpids.map((d) => connect(models, b, d));
    await waitFor('a master of every switch', () => dpids.every((d) => models.get(d)?.master !== undefined));
    // The voice's holder takes free switches first, so one controller masters them all.
    const masters = new Set(dpids.map((d) => models.get(d)!.master));
    assert.equal(masters.size, 1);
    const [winner, loser] = masters.has('a') ? [a, b] : [b, a];
    const epochs = await Promise.all(dpids.map((d) => a.store.redis.get(a.store.epochKey(`switch:${d}`))));
    for (let i = 0; i < dpids.length; i++) {
      assert.equal(winner.roles.roleOf(dpids[i]!)?.role, 'master');
      assert.equal(winner.roles.roleOf(dpids[i]!)?.epoch, Number(epochs[i]));
      assert.equal(models.get(dpids[i]!)!.maxGeneration, BigInt(epochs[i]!));
    }
    await waitFor('the other a slave of each', () => dpids.every((d) => loser.roles.roleOf(d)?.role === 'slave'));
    const loserSwitches = loser === a ? sa : sb;
    for (const s of loserSwitches) assert.equal(s.programmer.held, true);
    assert.equal(typeof winner.roles.voice, 'number');
    assert.equal(loser.roles.voice, undefined);
  });

  it('a master cut off from Redis demotes itself before another takes over; never two masters', async () => {
    const prefix = `t${process.pid}-${n++}`;
    const models = new Map<string, SwitchModel>();
    const a = await member('a', prefix);
    const dpid = '00000000000000aa';
    const sa = connect(models, a, dpid);
    await waitFor('a master', () => a.roles.roleOf(dpid)?.role === 'master');
    const b = await member('b', prefix);
    const sb = connect(models, b, dpid);
    await waitFor('b slave', () => b.roles.roleOf(dpid)?.role === 'slave');
    const firstEpoch = a.roles.roleOf(dpid)!.epoch;
    const cutAt = Date.now();
    a.proxy.cut();
    await waitFor('b master', () => b.roles.roleOf(dpid)?.role === 'master', { timeoutMs: 10_000 });
    const demotedAt = sa.writable.at(-1)!.to;
    assert.equal(typeof demotedAt, 'number', 'a stopped programming');
    const promotedAt = sb.writable.at(-1)!.from;
    console.log(`      a demoted ${demotedAt! - cutAt} ms after the cut; b master ${promotedAt - cutAt} ms after the cut (lease ${LEASE_MS} ms)`);
    assert.ok(demotedAt! <= promotedAt, 'a stopped before b started');
    assert.ok(demotedAt! - cutAt < LEASE_MS, 'a stopped within its lease');
    assert.equal(overlaps(sa, sb), false);
    assert.equal(a.roles.roleOf(dpid)?.role, 'slave');
    assert.ok(b.roles.roleOf(dpid)!.epoch > firstEpoch);
    assert.equal(b.roles.counters.takeovers, 1);
    // The switch saw the masters in turn, and the new one's generation_id fences the old one out.
    assert.deepEqual(models.get(dpid)!.history.map((h) => h.controller).filter((c) => c !== undefined), ['a', 'b']);
    assert.equal(models.get(dpid)!.role('a', OFPCR_ROLE_MASTER, BigInt(firstEpoch)), 'stale');
    // Back in reach, a stays a slave: the lease is b's now.
    a.proxy.restore();
    await waitFor('a hears b holds it', () => a.roles.roleOf(dpid)?.master === 'b', { timeoutMs: 10_000 });
    assert.equal(a.roles.roleOf(dpid)?.role, 'slave');
    assert.equal(sa.programmer.held, true);
  });

  it('an orderly stop hands the switch over at once', async () => {
    const prefix = `t${process.pid}-${n++}`;
    const models = new Map<string, SwitchModel>();
    const a = await member('a', prefix);
    const dpid = '00000000000000bb';
    connect(models, a, dpid);
    await waitFor('a master', () => a.roles.roleOf(dpid)?.role === 'master');
    const b = await member('b', prefix);
    connect(models, b, dpid);
    await waitFor('b slave', () => b.roles.roleOf(dpid)?.role === 'slave');
    const stoppedAt = Date.now();
    await a.roles.stop();
    await waitFor('b master', () => b.roles.roleOf(dpid)?.role === 'master');
    console.log(`      b master ${Date.now() - stoppedAt} ms after a stopped`);
    assert.equal(models.get(dpid)!.master, 'b');
  });
});
