// The priority lab: unit tests of its pure parts (the baseline's tc commands, tc and ovs-ofctl
// parsing, the class check, the verdict; the prioritised port's commands are the controller's,
// tested in test/qos/), then a short run against real Mininet and OVS (root only): a well-formed
// report, the class arriving at B on every answer, DSCP evidence, prioritisation beating FIFO on
// the high class's p99 (numbers from the run), and nothing of the run left behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leftovers } from '../../labs/env.ts';
import type { RequestRecord } from '../../labs/loadgen/record.ts';
import { classDelta, dscpRules, fifoCommands, HIGH_CLASS, LOW_CLASS, parseClassStats, tosOf, type HtbPlan } from '../../labs/priority/htb.ts';
import { priority } from '../../labs/priority/lab.ts';
import { interfaceExists } from '../../labs/priority/netops.ts';
import { ablationRows, batchMbps, checkClasses, goalsOf, verdictOf, type PrioritySummary, type VariantSummary } from '../../labs/priority/report.ts';
import { variantPlan } from '../../labs/priority/params.ts';
import { hostPlainCommands, hostPrioCommands } from '../../labs/priority/host.ts';
import { checkOffered, classAddressCommands, congestionSeen, parseAvailable, receiverRouteCommands, senderRouteCommands, type ClassRoute } from '../../labs/priority/transport.ts';
import { cpuWaitShare, cpuWaitTotalUs } from '../../labs/priority/machine.ts';
import { ms, pct } from '../../labs/report.ts';
import { runLab, type LabRunResult } from '../../labs/runner.ts';

const plan: HtbPlan = { rateMbit: 10, highRateMbit: 7, lowRateMbit: 3, highDscp: 46, lowDscp: 8, highLimit: 50, lowLimit: 30 };

const CLASS_TEXT = `class htb 1:10 parent 1:1 prio 0 rate 7Mbit ceil 10Mbit burst 15Kb cburst 1600b 
 Sent 3777966 bytes 2700 pkt (dropped 3, overlimits 2071 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 2700 borrowed: 0 giants: 0
 tokens: 231341 ctokens: -8893

class htb 1:1 root rate 10Mbit ceil 10Mbit burst 15Kb cburst 1600b 
 Sent 28406074 bytes 19054 pkt (dropped 0, overlimits 10633 requeues 0) 
 backlog 0b 0p requeues 0

class htb 1:20 parent 1:1 leaf 20: prio 1 rate 3Mbit ceil 10Mbit burst 15Kb cburst 1600b 
 Sent 24628108 bytes 16354 pkt (dropped 4221, overlimits 6042 requeues 0) 
 backlog 6056b 4p requeues 0
`;

const FLOWS = ` cookie=0xf200000001000001, duration=31.2s, table=0, n_packets=2037, n_bytes=226466, priority=2020,tcp,in_port=2,nw_src=10.0.0.2,nw_dst=10.0.0.3,tp_dst=8081 actions=set_field:46->ip_dscp,output:3
 cookie=0xf100000000000000, duration=40.1s, table=0, n_packets=12, n_bytes=1200, priority=1000,ip,nw_dst=10.0.0.2 actions=output:2
 cookie=0xf200000002000001, duration=31.2s, table=0, n_packets=8439, n_bytes=680236, priority=2020,tcp,in_port=2,nw_src=10.0.0.2,nw_dst=10.0.0.3,tp_dst=8082 actions=mod_nw_tos:32,output:3
`;

describe('labs: priority, pure parts', () => {
  it('DSCP to the TOS byte u32 matches (EF 46 → 0xb8)', () => {
    assert.equal(tosOf(46), 0xb8);
    assert.equal(tosOf(8), 0x20);
    assert.throws(() => tosOf(64));
  });
  it('FIFO baseline: the link\'s shaping, one queue as long as both of the controller\'s queues', () => {
    const cmds = fifoCommands('p', plan).map((c) => c.join(' '));
    assert.ok(cmds.includes('qdisc add dev p parent 1:20 handle 20: pfifo limit 80'));
    assert.ok(!cmds.some((c) => c.startsWith('filter')), 'no classification in the baseline');
    assert.ok(!cmds.some((c) => c.includes(HIGH_CLASS)));
  });
  it('parses tc -s class show, and takes differences between readings', () => {
    const cs = parseClassStats(CLASS_TEXT);
    assert.deepEqual(cs.map((c) => c.classid), ['1:10', '1:1', '1:20']);
    assert.deepEqual(cs[0], { classid: '1:10', parent: '1:1', prio: 0, rate: '7Mbit', sentBytes: 3777966, sentPackets: 2700, dropped: 3, overlimits: 2071, backlogPackets: 0 });
    assert.equal(cs[1]?.parent, undefined);
    assert.equal(cs[2]?.prio, 1, 'the leaf handle does not hide the prio');
    assert.equal(cs[2]?.backlogPackets, 4);
    const d = classDelta([{ ...cs[0]!, sentPackets: 700, sentBytes: 777966, dropped: 1 }], cs);
    assert.equal(d[0]?.sentPackets, 2000);
    assert.equal(d[0]?.dropped, 2);
    assert.equal(d[2]?.sentPackets, 16354, 'a class new since the first reading counts from zero');
  });
  it('finds the rules that set a DSCP mark in dump-flows output, either spelling', () => {
    const rs = dscpRules(FLOWS);
    assert.equal(rs.length, 2);
    assert.deepEqual(
      rs.map((r) => [r.cookie, r.dscp, r.packets, r.priority]),
      [
        ['0xf200000001000001', 46, 2037, 2020],
        ['0xf200000002000001', 8, 8439, 2020],
      ],
    );
    assert.equal(rs[0]?.match, 'tcp,in_port=2,nw_src=10.0.0.2,nw_dst=10.0.0.3,tp_dst=8081');
    assert.equal(rs[0]?.actions, 'set_field:46->ip_dscp,output:3');
    assert.ok(!rs[0]?.line.includes('duration='));
  });
  it('class check: answers whose last hop saw another class or lost the traceparent', () => {
    const r = (seenClass: string | undefined, traceKept: boolean | undefined, status = 200): RequestRecord => ({ due: 0, latencyMs: 1, status, tag: 'high', bytes: 1, ...(seenClass !== undefined ? { seenClass } : {}), ...(traceKept !== undefined ? { traceKept } : {}) });
    const c = checkClasses([r('high', true), r('low', true), r(undefined, false), r('high', true, 0)], 'high');
    assert.deepEqual(c, { checked: 3, classMismatches: 2, traceMismatches: 1 });
  });
  it('the verdict compares the high class p99, and needs requests to win', () => {
    const v = (p99Ms: number, count = 100): VariantSummary => {
      const p = { count, errors: 0, errorRate: 0, p50Ms: 1, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, check: { checked: count, classMismatches: 0, traceMismatches: 0 } };
      return { variant: 'off', layers: { sidecar: false, network: false, host: false, compute: false, transport: false, queue: false }, congested: true, batchMbps: 0, classes: { high: p, low: p }, tc: [], dscpRules: 0, queueChanges: 0 };
    };
    assert.equal(verdictOf(v(900), v(40)).prioritisationWins, true);
    assert.equal(verdictOf(v(40), v(900)).prioritisationWins, false);
    assert.equal(verdictOf(v(900), v(0, 0)).prioritisationWins, false);
  });
  it('variants: the short run is FIFO vs the network layer; the ablation turns each layer off in turn', () => {
    const none = { sidecar: false, network: false, host: false, compute: false, transport: false, queue: false };
    assert.deepEqual(variantPlan(false), [
      { name: 'off', layers: none, congested: true, lengthFactor: 1 },
      { name: 'on', layers: { ...none, network: true }, congested: true, lengthFactor: 1 },
    ]);
    const a = variantPlan(true);
    assert.deepEqual(a.map((p) => p.name), ['off', 'on', 'calm', 'no-sidecar', 'no-network', 'no-host', 'no-compute', 'no-transport', 'no-queue']);
    assert.deepEqual(a[1]?.layers, { sidecar: true, network: true, host: true, compute: true, transport: true, queue: true });
    assert.deepEqual(a.find((p) => p.name === 'calm'), { name: 'calm', layers: a[1]?.layers, congested: false, lengthFactor: 2 });
    assert.equal(a.find((p) => p.name === 'on')?.lengthFactor, 2, 'the goal compares on with calm: both measure longer');
    for (const p of a.filter((x) => x.name.startsWith('no-'))) {
      assert.equal(Object.values(p.layers).filter((x) => !x).length, 1, `${p.name} turns off one layer`);
      assert.equal(p.congested, true);
      assert.equal(p.lengthFactor, 1);
    }
    assert.equal(a.find((p) => p.name === 'no-compute')?.layers.compute, false);
    assert.equal(a.find((p) => p.name === 'no-transport')?.layers.transport, false);
    assert.equal(a.find((p) => p.name === 'no-queue')?.layers.queue, false);
  });
  it('class addresses: a macvlan per class with its address and a rule into its own table; transport: congctl on the class routes or none', () => {
    const cs: ClassRoute[] = [{ name: 'high', address: '10.0.0.12', table: 112, congctl: 'bbr' }, { name: 'low', address: '10.0.0.13', table: 113, congctl: 'reno' }];
    const setup = classAddressCommands('eth0', cs).map((c) => c.join(' '));
    assert.match(setup[0] ?? '', /^sysctl -qw net\.ipv4\.conf\.all\.arp_ignore=1 /, 'eth0 must not answer ARP for the class addresses');
    assert.deepEqual(setup.slice(1, 6), [
      'ip link add link eth0 name cls-high type macvlan mode bridge',
      'ip addr add 10.0.0.12/32 dev cls-high',
      'ip link set cls-high up',
      'ip rule add from 10.0.0.12 table 112 pref 112',
      'ip route replace 10.0.0.0/24 dev cls-high src 10.0.0.12 table 112',
    ]);
    assert.deepEqual(senderRouteCommands(cs, true).map((c) => c.join(' ')), ['ip route replace 10.0.0.0/24 dev cls-high src 10.0.0.12 table 112 congctl bbr', 'ip route replace 10.0.0.0/24 dev cls-low src 10.0.0.13 table 113 congctl reno']);
    assert.deepEqual(receiverRouteCommands('eth0', cs, true).map((c) => c.join(' ')), ['ip route replace 10.0.0.12/32 dev eth0 congctl bbr', 'ip route replace 10.0.0.13/32 dev eth0 congctl reno']);
    assert.deepEqual(receiverRouteCommands('eth0', cs, false).map((c) => c.join(' ')), ['ip route replace 10.0.0.12/32 dev eth0', 'ip route replace 10.0.0.13/32 dev eth0']);
    assert.deepEqual(parseAvailable('reno bbr cubic\n'), ['reno', 'bbr', 'cubic']);
    const ss = 'ESTAB 0      0      10.0.0.3:8081 10.0.0.12:40112\n\t ts sack bbr wscale:9,9 rto:204 rtt:1.2/0.6 bbr:(bw:9.1Mbps,mrtt:0.4)\nESTAB 0 0 10.0.0.3:8081 10.0.0.12:40114\n\t cubic wscale:7,7 rto:204\nESTAB 0 0 10.0.0.3:8081 10.0.0.12:40116\n\t ts sack bbr wscale:9,9 rto:208\n';
    assert.deepEqual(congestionSeen(ss), { bbr: 2, cubic: 1 });
    checkOffered(cs, ['reno', 'bbr', 'cubic']);
    assert.throws(() => checkOffered(cs, ['reno', 'cubic']), /bbr is not offered/);
  });
  it('goals: interactive p99 congested vs calm within 1.5×, batch keeping 80% of its throughput without prioritisation', () => {
    const v = (variant: VariantSummary['variant'], p99Ms: number, batchMbps: number): VariantSummary => {
      const p = { count: 100, errors: 0, errorRate: 0, p50Ms: 1, p99Ms, p999Ms: p99Ms, maxMs: p99Ms, check: { checked: 100, classMismatches: 0, traceMismatches: 0 } };
      return { variant, layers: { sidecar: true, network: true, host: true, compute: true, transport: true, queue: true }, congested: variant !== 'calm', batchMbps, classes: { high: p, low: p }, tc: [], dscpRules: 0, queueChanges: 0 };
    };
    assert.equal(goalsOf([v('off', 900, 6), v('on', 40, 6)]), undefined, 'the short run has no calm yardstick');
    const g = goalsOf([v('off', 900, 6), v('on', 40, 5), v('calm', 30, 0)]);
    assert.ok(g);
    assert.equal(g.p99Met, true);
    assert.equal(g.batchMet, true);
    assert.ok(Math.abs(g.p99Ratio - 40 / 30) < 1e-9);
    const bad = goalsOf([v('off', 900, 6), v('on', 50, 4), v('calm', 30, 0)]);
    assert.equal(bad?.p99Met, false);
    assert.equal(bad?.batchMet, false);
  });
  it('host kernel: an HTB at the host link rate on B\'s interface, packets to the high class\'s address in the prio 0 class', () => {
    assert.deepEqual(hostPrioCommands('eth0', 20e6, ['10.0.0.12']).map((c) => c.join(' ')), [
      'qdisc del dev eth0 root',
      'qdisc add dev eth0 root handle 5: htb default 20',
      'class add dev eth0 parent 5: classid 5:1 htb rate 20000kbit ceil 20000kbit burst 15k',
      'class add dev eth0 parent 5:1 classid 5:10 htb rate 14000kbit ceil 20000kbit burst 15k prio 0',
      'class add dev eth0 parent 5:1 classid 5:20 htb rate 6000kbit ceil 20000kbit burst 15k prio 1',
      'filter add dev eth0 parent 5: protocol ip prio 1 u32 match ip dst 10.0.0.12/32 flowid 5:10',
    ]);
    assert.deepEqual(hostPlainCommands('eth0', 20e6).map((c) => c.join(' ')), ['qdisc del dev eth0 root', 'qdisc add dev eth0 root handle 5: htb default 1', 'class add dev eth0 parent 5: classid 5:1 htb rate 20000kbit burst 15k']);
  });
  it('batch throughput counts answered bytes only; the ablation table has a row per variant', () => {
    const r = (bytes: number, status: number): RequestRecord => ({ due: 0, latencyMs: 1, status, tag: 'low', bytes });
    assert.equal(batchMbps([r(1_000_000, 200), r(1_000_000, 200), r(5_000_000, 0)], 4), 4);
    assert.equal(batchMbps([], 0), 0);
    const p = { count: 10, errors: 1, errorRate: 0.1, p50Ms: 12, p99Ms: 340, p999Ms: 400, maxMs: 400, check: { checked: 9, classMismatches: 0, traceMismatches: 0 } };
    const layers = { sidecar: true, network: false, host: true, compute: true, transport: true, queue: false };
    const rows = ablationRows([
      { variant: 'no-network', layers, congested: true, batchMbps: 3.456, classes: { high: p, low: p }, tc: [], dscpRules: 0, queueChanges: 0 },
      { variant: 'calm', layers, congested: false, batchMbps: 0, classes: { high: p, low: { ...p, count: 0 } }, tc: [], dscpRules: 0, queueChanges: 0 },
    ]);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]?.[0], '**no-network**');
    assert.equal(rows[0]?.[1], '✓ – ✓ ✓ ✓ –');
    assert.equal(rows[0]?.[6], '3.46 Mbit/s');
    assert.equal(rows[1]?.[0], '**calm** (interactive alone)');
    assert.equal(rows[1]?.[6], '—', 'no batch ran: no throughput to show');
    assert.equal(rows[0]?.[10], '—', 'no CPU pressure reading: none shown');
    const measured = ablationRows([{ variant: 'on', layers, congested: true, batchMbps: 1, classes: { high: p, low: p }, tc: [], dscpRules: 0, queueChanges: 0, durationSec: 60, cpuWait: 0.25 }])[0];
    assert.deepEqual(measured?.slice(9), ['60 s', pct(0.25)]);
  });
  it('CPU wait: the share of a stretch in which some task waited for a CPU, from two PSI readings', () => {
    const psi = (us: number): string => `some avg10=9.11 avg60=13.47 avg300=21.09 total=${us}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;
    assert.equal(cpuWaitTotalUs(psi(10391752798)), 10391752798);
    assert.equal(cpuWaitTotalUs(''), undefined, 'a kernel without PSI');
    assert.equal(cpuWaitShare(cpuWaitTotalUs(psi(1_000_000)), cpuWaitTotalUs(psi(4_000_000)), 30_000), 0.1);
    assert.equal(cpuWaitShare(0, 90_000_000, 30_000), 1, 'never above the whole stretch');
    assert.equal(cpuWaitShare(undefined, 5, 30_000), undefined);
    assert.equal(cpuWaitShare(0, 5, 0), undefined);
  });
});


describe('labs: priority (real Mininet, ~80 s)', function () {
  this.timeout(240_000);
  let dir: string;
  let result: LabRunResult;
  let summary: PrioritySummary;
  const DURATION = 20;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'mf-lab-prio-'));
    result = await runLab(priority, { durationSec: DURATION, outDir: dir, log: () => undefined });
    // The run's own numbers, so a CI log shows what was measured.
    for (const line of result.headline) process.stdout.write(`      ${line}\n`);
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as PrioritySummary;
  });

  after(() => {
    if (dir && !process.env['KEEP_LAB_RUNS']) rmSync(dir, { recursive: true, force: true });
  });

  it('writes report.md, charts, summary and raw data', () => {
    for (const f of ['report.md', 'summary.json', 'latency-high.svg', 'latency-low.svg', 'links-off.svg', 'links-on.svg']) assert.ok(existsSync(join(dir, f)), `${f} missing`);
    for (const f of ['latency-high.svg', 'latency-low.svg', 'links-off.svg', 'links-on.svg']) {
      const svg = readFileSync(join(dir, f), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\n$/);
      // A line: a path of at least two points (Vega writes its aria attributes before `d`).
      assert.match(svg, /<path [^>]*\bd="M[-\d.,]+L/, `${f} draws no line`);
    }
    for (const v of ['off', 'on']) {
      for (const f of ['requests-high.jsonl', 'requests-low.jsonl', 'seconds-high.csv', 'seconds-low.csv', 'tc.txt', 'links.json', 'intents.json', 'dscp-flows.json']) assert.ok(existsSync(join(dir, v, f)), `${v}/${f} missing`);
      assert.equal(readFileSync(join(dir, v, 'seconds-high.csv'), 'utf8').trim().split('\n').length, DURATION + 1, 'one header and one row per second');
    }
    const md = readFileSync(result.reportPath, 'utf8');
    for (const img of ['latency-high.svg', 'latency-low.svg', 'links-off.svg', 'links-on.svg']) assert.ok(md.includes(`](${img})`), `report does not show ${img}`);
  });

  it('the class and the traceparent reach service B on every answered request', () => {
    for (const v of summary.variants) {
      for (const c of ['high', 'low'] as const) {
        const s = v.classes[c];
        assert.ok(s.check.checked > 0, `${v.variant}/${c}: nothing answered`);
        assert.equal(s.check.classMismatches, 0, `${v.variant}/${c}: class mismatches`);
        assert.equal(s.check.traceMismatches, 0, `${v.variant}/${c}: traceparent lost`);
      }
    }
  });

  it('DSCP evidence: marking rules in OVS, and both of the controller\'s HTB classes carry packets only when prioritised', () => {
    const on = summary.variants.find((v) => v.variant === 'on');
    const off = summary.variants.find((v) => v.variant === 'off');
    assert.ok(on && off);
    assert.ok(on.dscpRules >= 4, `only ${on.dscpRules} rules set ip_dscp`);
    // Counters are read before and after: a tree rebuilt in between (a path lost and found) starts from zero.
    assert.equal(on.queueChanges, 0, `the controller rebuilt queue trees ${on.queueChanges} times while measuring`);
    for (const t of on.tc) {
      const high = t.classes.find((c) => c.classid === HIGH_CLASS);
      const low = t.classes.find((c) => c.classid === LOW_CLASS);
      assert.ok(high && high.sentPackets > 100, `${t.intf}: high class saw ${high?.sentPackets} packets`);
      assert.ok(low && low.sentPackets > 100, `${t.intf}: low class saw ${low?.sentPackets} packets`);
    }
    for (const t of off.tc) assert.ok(!t.classes.some((c) => c.classid === HIGH_CLASS), 'the FIFO baseline has no high class');
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.match(md, /set_field:46->ip_dscp/);
  });

  it('prioritisation beats FIFO on the high class p99, and the report says so with the numbers', () => {
    const off = summary.variants.find((v) => v.variant === 'off');
    const on = summary.variants.find((v) => v.variant === 'on');
    assert.ok(off && on);
    assert.ok(off.classes.high.count >= 300 && on.classes.high.count >= 300, 'too few high requests');
    assert.equal(summary.verdict.prioritisationWins, true, `high p99: FIFO ${off.classes.high.p99Ms} ms, prioritised ${on.classes.high.p99Ms} ms`);
    assert.ok(on.classes.high.p99Ms < off.classes.high.p99Ms);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.ok(md.includes(`**${ms(off.classes.high.p99Ms)}**`) && md.includes(`**${ms(on.classes.high.p99Ms)}**`), 'report lacks the p99 numbers');
    assert.ok(md.includes('prioritisation wins'));
  });

  it('leaves no bridge, link or interface of the run behind', async () => {
    assert.deepEqual(result.teardown, []);
    assert.deepEqual(await leftovers(result.runId), []);
    const brs = execFileSync('ovs-vsctl', ['list-br'], { encoding: 'utf8' });
    assert.ok(!brs.split('\n').some((b) => b.startsWith(`mf${result.runId}`)));
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    assert.ok(!links.includes(`mf${result.runId}`) && !links.includes(`mfm${result.runId}`), 'an interface of the run is left');
    // The HTB classes lived on the bottleneck's ports: gone with them.
    for (const t of summary.variants[0]?.tc ?? []) assert.equal(await interfaceExists(t.intf), false, `${t.intf} still exists`);
  });
});
