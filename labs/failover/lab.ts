// The failover lab: the quickstart's network and traffic with two controllers sharing the switches
// (OpenFlow roles, a Redis lease per switch); in the middle of the congestion the master is killed
// with SIGKILL. It measures the takeover per switch, pings lost between every host pair (10/s), the
// flow tables before and after (dump-flows) and the sidecar's weights over time.
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDpid } from '../../bus/hints.ts';
import type { Hint } from '../../bus/hints.ts';
import type { Registry } from '../../bridge/registry.ts';
import { loadTopology, type Topology } from '../../topologies/topology.ts';
import { pollWeights, startHintRecorder } from '../collect.ts';
import type { LabEnv } from '../env.ts';
import type { Lab, MeasureOptions } from '../lab.ts';
import { totalRequests } from '../loadgen/schedule.ts';
import { ADMIN_PORT, drive, SERVICE_PORT, SIDECAR_PORT, startClientSidecar, startBridge, startLoadgen, variantDir } from '../variant.ts';
import { startCongestion, startIperfServers } from '../congestion.ts';
import { join } from 'node:path';
import { diffFlows, dumpFlows, type DumpedFlow } from './flows.ts';
import { startPings, stopPings } from './pings.ts';
import { startController, startRedis, type ControllerChild } from './processes.ts';
import { FAILOVER, type FailoverData, type SwitchTakeover } from './params.ts';
import { writeFailoverReport } from './report.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOPOLOGY = fileURLToPath(new URL('../quickstart/topology.json', import.meta.url));

interface SwitchRoleJson {
  readonly dpid: string;
  readonly role?: { readonly role: string; readonly epoch: number; readonly since: string; readonly master?: string };
}

async function switches(c: ControllerChild): Promise<SwitchRoleJson[]> {
  const r = await fetch(`${c.apiUrl}/api/v1/switches`, { signal: AbortSignal.timeout(1000) });
  return (await r.json()) as SwitchRoleJson[];
}

async function linkCount(c: ControllerChild): Promise<number> {
  const r = await fetch(`${c.apiUrl}/api/v1/links`, { signal: AbortSignal.timeout(1000) });
  const links = (await r.json()) as { state?: string }[];
  return links.filter((l) => l.state === undefined || l.state === 'up').length;
}

async function until<T>(env: LabEnv, what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`failover lab: ${what} within ${timeoutMs} ms`);
    await sleep(everyMs, undefined, { signal: env.signal });
  }
}

function registryFor(t: Topology): Registry {
  const pid = (host: string): string => formatDpid(t.switches.find((s) => s.name === t.hosts.find((h) => h.name === host)?.switch)?.dpid ?? '0');
  return {
    services: [{ name: FAILOVER.service, port: SERVICE_PORT }],
    replicas: FAILOVER.replicas.map((r) => ({ id: r.id, service: FAILOVER.service, host: r.host, port: SERVICE_PORT })),
    sidecars: [{ id: 'client', host: 'h1', calls: [FAILOVER.service] }],
    attachments: Object.fromEntries(['h1', ...FAILOVER.replicas.map((r) => r.host)].map((h) => [h, pid(h)])),
  };
}

/** Points every switch of the run at the two controllers (and at nothing else). */
async function pointSwitches(env: LabEnv, ctls: readonly ControllerChild[]): Promise<void> {
  for (const s of env.net.topology.switches) {
    await run('ovs-vsctl', ['--timeout=10', 'set-controller', env.net.bridgeOf(s.name), ...ctls.map((c) => `tcp:127.0.0.1:${c.ofPort}`)]);
  }
}

async function measure(env: LabEnv, o: MeasureOptions): Promise<FailoverData> {
  const topo = env.net.topology;
  const hostNames = topo.hosts.map((h) => h.name);
  // The runner's own controller discovers the network and warms ARP; then it steps aside for the group.
  await env.waitForNetwork(hostNames);
  for (const r of FAILOVER.replicas) {
    await env.node(r.host, `service-${r.id}`, 'labs/service.ts', ['--port', String(SERVICE_PORT), '--name', r.id, '--size', String(FAILOVER.sizeBytes), '--work-ms', String(FAILOVER.workMs)]);
    await env.waitHttp(`http://${env.mgmt.addressOf(r.host)}:${SERVICE_PORT}/?size=1`);
  }
  await startIperfServers(env);
  const dir = await variantDir(o.runDir, 'failover');
  const recorder = await startHintRecorder(env.broker.urlFor('reader'), join(dir, 'events.jsonl'));
  const stopRecorder = env.teardown.push('recorder', () => recorder.stop());

  const redis = await startRedis(env);
  const ctlOpts = { redisUrl: redis.url, leaseMs: FAILOVER.leaseMs, pollIntervalMs: FAILOVER.pollIntervalMs, topologyFile: TOPOLOGY };
  // a first, alone: it takes the group's voice, so it masters the switches when they come.
  const a = await startController(env, { id: 'a', ...ctlOpts });
  await sleep(FAILOVER.leaseMs, undefined, { signal: env.signal });
  const b = await startController(env, { id: 'b', ...ctlOpts });
  await env.ctl.stop();
  await pointSwitches(env, [a, b]);
  const fabric = topo.links.filter((l) => l.aPort !== null && l.bPort !== null).length * 2;
  await until(env, 'a masters every switch and knows every link', async () => {
    const sw = await switches(a);
    return sw.length === topo.switches.length && sw.every((s) => s.role?.role === 'master') && (await linkCount(a)) >= fabric ? true : undefined;
  }, 30_000, 250);
  await until(env, 'b is a slave of every switch', async () => {
    const sw = await switches(b);
    return sw.length === topo.switches.length && sw.every((s) => s.role?.role === 'slave') ? true : undefined;
  }, 30_000, 250);
  const epochsBefore = new Map((await switches(a)).map((s) => [s.dpid, s.role?.epoch ?? 0]));

  const bridge = await startBridge(env, registryFor(topo), FAILOVER.policy);
  const sidecar = await startClientSidecar(env, dir, 'sidecar', { service: FAILOVER.service, replicas: FAILOVER.replicas, weights: true });

  const D = o.durationSec;
  const startMs = Date.now() + 1500;
  const endMs = startMs + D * 1000;
  const from = startMs + Math.round(D * FAILOVER.congestion[0] * 1000);
  const to = startMs + Math.round(D * FAILOVER.congestion[1] * 1000);
  const killAt = startMs + Math.round(D * FAILOVER.killAt * 1000);
  const pings = await startPings(env, hostNames);
  const pingsStarted = Date.now();
  const weights = pollWeights(`http://${env.mgmt.addressOf('h1')}:${ADMIN_PORT}`, 250);
  const out = join(dir, 'requests.jsonl');
  const gen = await startLoadgen(env, 'h1', 'loadgen', { url: `http://127.0.0.1:${SIDECAR_PORT}/`, service: FAILOVER.service, rate: FAILOVER.rate, durationSec: D, tag: 'all', out, startMs, timeoutMs: 10_000 });
  const marks: { ts: number; label: string }[] = [];
  let stopIperf: (() => Promise<void>) | undefined;
  let killTs = 0;
  let before = new Map<string, DumpedFlow[]>();
  let earlier = new Map<string, DumpedFlow[]>();
  let takeover: Promise<SwitchTakeover[]> | undefined;
  const bridges = topo.switches.map((s) => ({ name: s.name, bridge: env.net.bridgeOf(s.name), dpid: formatDpid(s.dpid) }));
  await drive(env, o.progress, {
    lab: 'failover',
    variant: 'a+b',
    startMs,
    endMs,
    outputs: [out],
    expected: totalRequests(FAILOVER.rate, D * 1000),
    graceMs: 15_000,
    phases: [
      { name: 'before', from: startMs },
      { name: 'congestion', from },
      { name: 'master killed', from: killAt },
      { name: 'after', from: to },
    ],
    actions: [
      {
        at: from,
        run: async () => {
          marks.push({ ts: Date.now(), label: 'iperf3 on' });
          const secs = Math.ceil((to - from) / 1000) + 5;
          stopIperf = await startCongestion(env, { secs, udpMbps: FAILOVER.iperfUdpMbps, tcpStreams: FAILOVER.iperfTcpStreams, tag: '' });
        },
      },
      {
        at: killAt - 1400,
        run: async () => {
          earlier = new Map(await Promise.all(bridges.map(async (s) => [s.dpid, await dumpFlows(s.bridge)] as const)));
        },
      },
      {
        at: killAt - 400,
        run: async () => {
          before = new Map(await Promise.all(bridges.map(async (s) => [s.dpid, await dumpFlows(s.bridge)] as const)));
        },
      },
      {
        at: killAt,
        run: async () => {
          killTs = Date.now();
          a.kill();
          marks.push({ ts: killTs, label: 'master a SIGKILLed' });
          takeover = watchTakeover(env, b, killTs, bridges, earlier, before, epochsBefore);
        },
      },
      {
        at: to,
        run: async () => {
          marks.push({ ts: Date.now(), label: 'iperf3 off' });
          await stopIperf?.();
        },
      },
    ],
  });
  await stopIperf?.();
  await gen.stop();
  const switchTakeovers = (await takeover) ?? [];
  const pingResults = await stopPings(pings, pingsStarted);
  const weightSamples = weights.stop();
  const takeoversMetric = await fetch(`${b.apiUrl}/metrics`)
    .then((r) => r.text())
    .then((t) => Number(/^meshflow_cluster_takeovers_total (\d+)/m.exec(t)?.[1]))
    .catch(() => undefined);
  await sidecar.stop();
  await bridge.stop();
  await sleep(300);
  await stopRecorder();
  const hints: Hint[] = await recorder.stop();
  const rows = hints.flatMap((h) => (h.kind === 'cost_row' ? [{ ts: h.ts, controller: h.controller, epoch: h.epoch }] : []));
  return {
    startMs,
    durationSec: D,
    killTs,
    congestion: { from, to },
    switches: switchTakeovers,
    pings: pingResults,
    weights: weightSamples,
    rows,
    marks,
    takeoversMetric: Number.isFinite(takeoversMetric) ? takeoversMetric : undefined,
  };
}

/** Polls the survivor until it masters every switch, then dumps the flow tables again. */
async function watchTakeover(
  env: LabEnv,
  b: ControllerChild,
  killTs: number,
  bridges: readonly { name: string; bridge: string; dpid: string }[],
  earlier: ReadonlyMap<string, DumpedFlow[]>,
  before: ReadonlyMap<string, DumpedFlow[]>,
  epochsBefore: ReadonlyMap<string, number>,
): Promise<SwitchTakeover[]> {
  const done = new Map<string, { at: number; epoch: number }>();
  const deadline = killTs + 15_000;
  while (done.size < bridges.length && Date.now() < deadline) {
    const sw = await switches(b).catch(() => []);
    for (const s of sw) {
      if (s.role?.role === 'master' && !done.has(s.dpid)) done.set(s.dpid, { at: Date.parse(s.role.since), epoch: s.role.epoch });
    }
    await sleep(50, undefined, { signal: env.signal });
  }
  // Room for the new master's adoption and its first LLDP round, then the tables again.
  await sleep(FAILOVER.windowAfterMs, undefined, { signal: env.signal });
  const out: SwitchTakeover[] = [];
  for (const s of bridges) {
    const after = await dumpFlows(s.bridge);
    const t = done.get(s.dpid);
    out.push({
      switchName: s.name,
      dpid: s.dpid,
      takeoverMs: t === undefined ? undefined : t.at - killTs,
      epochBefore: epochsBefore.get(s.dpid) ?? 0,
      epochAfter: t?.epoch,
      flows: diffFlows(earlier.get(s.dpid) ?? [], before.get(s.dpid) ?? [], after),
    });
  }
  return out;
}

export const failover: Lab<FailoverData> = {
  name: 'failover',
  description: 'two controllers share the switches (OpenFlow roles, Redis lease); the master is SIGKILLed mid-congestion (takeover time, lost pings, flows kept, weights)',
  defaultDurationSec: 40,
  topology: () => loadTopology(TOPOLOGY),
  mgmtHosts: ['h1', 'ra', 'rb'],
  measure,
  report: (m, ctx) => writeFailoverReport(m, ctx),
};
