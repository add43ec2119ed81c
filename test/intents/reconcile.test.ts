// Intents faucet-style: add, reconcile and remove return programs; applied to the fake flow table,
// they carry the class (and only the class) where the intent says, and move it as the network changes.
import assert from 'node:assert/strict';
import { addIntent, reconcile, removeIntent, type IntentStep, type NetworkView } from '../../controller/intents/reconcile.ts';
import { INTENT_COOKIE_MASK, intentCookie, isIntentCookie } from '../../controller/cookies.ts';
import { defaultIntentSettings, initialIntentsState, type IntentRecord, type IntentSpec, type IntentsState } from '../../controller/intents/types.ts';
import { OFPFC_ADD } from 'openflow-ts';
import type { LinkStore } from '../../controller/topology/links.ts';
import type { FakeNetwork } from '../routing/fake-network.ts';
import { cut, diamondLinks, ep, fake, graph, H1, H2, H3, H4, HOSTS, mend, S1, S2, S3, S4, spec, tcp } from './fixture.ts';

const SETTINGS = defaultIntentSettings;

function view(links: LinkStore, loads: Record<string, number> = {}): NetworkView {
  return { graph: graph(links), hosts: HOSTS, loads: new Map(Object.entries(loads)) };
}

function add(state: IntentsState, s: IntentSpec, links: LinkStore, net: FakeNetwork, now = 0, loads: Record<string, number> = {}): { state: IntentsState; rec: IntentRecord; step: IntentStep } {
  const r = addIntent(state, s, view(links, loads), now, SETTINGS);
  assert.ok(r.ok, r.ok ? '' : r.message);
  net.apply(r.step.programs);
  return { state: r.step.state, rec: r.record, step: r.step };
}

function intentRules(net: FakeNetwork, num?: number): number {
  return [...net.tables.values()].flat().filter((e) => isIntentCookie(e.cookie) && (num === undefined || (e.cookie & INTENT_COOKIE_MASK) === intentCookie(num))).length;
}

const VIA_S3 = { name: 'explicit', switches: [S1, S3, S4] } as const;
const IPERF = { ipProto: 6, dstPort: 5201 };

describe('intents: add, reconcile, remove', () => {
  it('carries the class both ways along an explicit path, above reactive rules, leaving other traffic alone', () => {
    const links = diamondLinks();
    const net = fake(links);
    const { rec, step } = add(initialIntentsState, spec(VIA_S3, IPERF, { priority: 'high', dscp: 46 }), links, net);
    assert.equal(rec.status, 'active');
    // Egress first in each direction.
    assert.deepEqual(step.programs.map((p) => p.dpid), [S4, S3, S1, S1, S3, S4]);
    const there = net.trace(H1.at, tcp(H1, H3, 40000, 5201));
    assert.equal(there.kind, 'delivered');
    assert.deepEqual(there.path, [S1, S3, S4]);
    assert.equal(there.kind === 'delivered' && there.fields['ip_dscp'], 46, 'marked where it entered');
    const back = net.trace(H3.at, tcp(H3, H1, 5201, 40000));
    assert.deepEqual([back.kind, back.path], ['delivered', [S4, S3, S1]]);
    assert.equal(net.trace(H1.at, tcp(H1, H3, 40000, 5202)).kind, 'controller', 'another port is not the class');
    assert.equal(net.trace(H2.at, tcp(H2, H3, 40000, 5201)).kind, 'controller', 'another host is not the class');
    for (const e of [...net.tables.values()].flat()) {
      assert.ok(e.priority > 1020, 'above every reactive forwarding rule');
      assert.equal(e.idleTimeout, 0, 'permanent');
    }
    const marks = net.applied.filter((a) => a.msg.type === 'flow_mod' && a.msg.command === OFPFC_ADD && JSON.stringify(a.msg.instructions, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('ip_dscp'));
    assert.deepEqual(marks.map((m) => m.dpid).sort(), [S1, S4], 'only the ingress switch of each direction marks');
  });

  it('removes every rule of an intent by cookie, and nothing else', () => {
    const links = diamondLinks();
    const net = fake(links);
    let { state, rec } = add(initialIntentsState, spec(VIA_S3, IPERF), links, net);
    ({ state } = add(state, spec({ name: 'shortest' }, { ipProto: 17 }), links, net));
    const before = intentRules(net);
    const step = removeIntent(state, rec.id);
    assert.ok(step);
    net.apply(step.programs);
    assert.equal(intentRules(net, rec.num), 0);
    assert.equal(intentRules(net), before - 6, 'the other intent keeps its rules');
    assert.equal(step.state.records.has(rec.id), false);
    assert.equal(removeIntent(step.state, rec.id), undefined);
  });

  it('moves off a cable that goes down, deleting the old path\'s rules, and becomes unsatisfiable when no path is left', () => {
    let links = diamondLinks();
    const net = fake(links);
    let { state, rec } = add(initialIntentsState, spec({ name: 'shortest' }, IPERF), links, net);
    assert.deepEqual(rec.path?.switches, [S1, S2, S4]);
    links = cut(links, ep(2, 2));
    let step = reconcile(state, view(links), 1000, SETTINGS);
    net.apply(step.programs);
    state = step.state;
    rec = state.records.get(rec.id) as IntentRecord;
    assert.deepEqual(rec.path?.switches, [S1, S3, S4]);
    assert.deepEqual(step.changes.map((c) => [c.reason, c.from?.switches, c.to?.switches]), [['link_down', [S1, S2, S4], [S1, S3, S4]]]);
    assert.deepEqual(net.entries(S2).filter((e) => isIntentCookie(e.cookie)), [], 'no rule left on the abandoned switch');
    assert.deepEqual(net.trace(H1.at, tcp(H1, H3, 1, 5201)).path, [S1, S3, S4]);
    assert.deepEqual(reconcile(state, view(links), 2000, SETTINGS).programs, [], 'nothing to do twice');

    links = cut(links, ep(3, 2));
    step = reconcile(state, view(links), 3000, SETTINGS);
    net.apply(step.programs);
    state = step.state;
    rec = state.records.get(rec.id) as IntentRecord;
    assert.equal(rec.status, 'unsatisfiable');
    assert.match(rec.reason ?? '', /no path/);
    assert.equal(intentRules(net), 0);
    assert.equal(step.changes[0]?.to, undefined);

    links = mend(links, ep(3, 2), ep(4, 4));
    step = reconcile(state, view(links), 4000, SETTINGS);
    net.apply(step.programs);
    rec = step.state.records.get(rec.id) as IntentRecord;
    assert.equal(rec.status, 'active');
    assert.deepEqual(step.changes.map((c) => c.reason), ['restored']);
    assert.equal(net.trace(H1.at, tcp(H1, H3, 1, 5201)).kind, 'delivered');
  });

  it('shortest moves back to a shorter path when its cable returns, but not to an equally long one', () => {
    let links = diamondLinks(true);
    const net = fake(links);
    let { state, rec } = add(initialIntentsState, spec({ name: 'shortest' }), links, net);
    assert.deepEqual(rec.path?.switches, [S1, S4]);
    links = cut(links, ep(1, 5));
    let step = reconcile(state, view(links), 1000, SETTINGS);
    state = step.state;
    assert.deepEqual(state.records.get(rec.id)?.path?.switches, [S1, S2, S4]);
    step = reconcile(state, view(cut(diamondLinks(true), ep(1, 5))), 2000, SETTINGS);
    assert.deepEqual(step.programs, []);
    links = mend(links, ep(1, 5), ep(4, 5));
    step = reconcile(state, view(links), 3000, SETTINGS);
    assert.deepEqual(step.changes.map((c) => c.reason), ['shorter']);
    rec = step.state.records.get(rec.id) as IntentRecord;
    assert.deepEqual(rec.path?.switches, [S1, S4]);
  });

  it('least-congested moves only off a hot path, for a margin, and not again within the minimum interval', () => {
    const links = diamondLinks();
    const net = fake(links);
    let { state, rec } = add(initialIntentsState, spec({ name: 'least-congested' }, IPERF), links, net, 0);
    assert.deepEqual(rec.path?.switches, [S1, S2, S4]);
    const viaS2 = `${S1}:3-${S2}:1`;
    const viaS3 = `${S1}:4-${S3}:1`;
    const step = (now: number, loads: Record<string, number>): IntentStep => {
      const s = reconcile(state, view(links, loads), now, SETTINGS);
      net.apply(s.programs);
      state = s.state;
      return s;
    };
    assert.deepEqual(step(10_000, { [viaS2]: 0.5, [viaS3]: 0.4 }).changes, [], 'better by 0.1 only');
    assert.deepEqual(step(10_000, { [viaS2]: 0.55, [viaS3]: 0 }).changes, [], 'busier, but not hot');
    assert.deepEqual(step(2_000, { [viaS2]: 0.9 }).changes, [], 'too soon after creation');
    assert.deepEqual(step(10_000, { [viaS2]: 0.9, [viaS3]: 0.1 }).changes.map((c) => c.reason), ['congestion']);
    rec = state.records.get(rec.id) as IntentRecord;
    assert.deepEqual(rec.path?.switches, [S1, S3, S4]);
    assert.deepEqual(net.trace(H1.at, tcp(H1, H3, 1, 5201)).path, [S1, S3, S4]);
    assert.deepEqual(step(12_000, { [viaS3]: 0.9 }).changes, [], 'no flapping within the interval');
    assert.equal(step(15_001, { [viaS3]: 0.9 }).changes.length, 1);
  });

  it('refuses a second intent for the same class or its replies (409), and an explicit path that cannot hold (400)', () => {
    const links = diamondLinks();
    const { state, rec } = add(initialIntentsState, spec({ name: 'shortest' }, IPERF), links, fake(links));
    const same = addIntent(state, spec({ name: 'least-congested' }, IPERF), view(links), 0, SETTINGS);
    assert.ok(!same.ok && same.status === 409 && same.id === rec.id);
    const replies = addIntent(state, spec({ name: 'shortest' }, { ipProto: 6, srcPort: 5201 }, {}, [H3, H1]), view(links), 0, SETTINGS);
    assert.ok(!replies.ok && replies.status === 409);
    assert.ok(addIntent(state, spec({ name: 'shortest' }, IPERF, {}, [H2, H4]), view(links), 0, SETTINGS).ok, 'other hosts are another class');
    const walk = addIntent(state, spec({ name: 'explicit', switches: [S1, S2, S3, S4] }, { ipProto: 17 }), view(links), 0, SETTINGS);
    assert.ok(!walk.ok && walk.status === 400);
    assert.equal(walk.message, '/path: explicit path is not a walk of live links: no link 0000000000000002→0000000000000003');
  });

  it('accepts an intent with no path now as unsatisfiable, and installs it once a path appears', () => {
    const links = cut(cut(diamondLinks(), ep(1, 3)), ep(1, 4));
    const mended = mend(links, ep(1, 4), ep(3, 1));
    // The fake data plane has the cable that comes back; nothing is installed while it is away.
    const net = fake(mended);
    const { state, rec, step } = add(initialIntentsState, spec({ name: 'least-congested' }), links, net);
    assert.equal(rec.status, 'unsatisfiable');
    assert.deepEqual(step.programs, []);
    const later = reconcile(state, view(mended), 1000, SETTINGS);
    net.apply(later.programs);
    assert.equal(later.state.records.get(rec.id)?.status, 'active');
    assert.equal(net.trace(H1.at, { eth_type: 0x0800, ipv4_src: H1.ipv4, ipv4_dst: H3.ipv4, ip_proto: 1 }).kind, 'delivered');
  });
});
