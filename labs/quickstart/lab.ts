// The quickstart lab: one service with two replicas on different paths (ra behind s2, rb behind
// s3), a client on h1 calling it through its sidecar at a fixed rate, and, in the middle of the
// run, iperf3 between h2 and bg filling the s1–s2 link, the path to ra, in both directions. It runs twice on the same
// network: coordination off (no bridge; the sidecar splits evenly, a plain mesh) and on (the
// bridge turns the controller's cost rows into sidecar weights). report.ts compares them.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDpid, linkIdOf } from '../../bus/hints.ts';
import type { Registry } from '../../bridge/registry.ts';
import { loadTopology, type Topology } from '../../topologies/topology.ts';
import { pollWeights, readRecords, sampleLinks, startHintRecorder } from '../collect.ts';
import type { LabEnv } from '../env.ts';
import type { Lab, MeasureOptions } from '../lab.ts';
import { totalRequests } from '../loadgen/schedule.ts';
import { ADMIN_PORT, drive, SERVICE_PORT, SIDECAR_PORT, startClientSidecar, startBridge, startLoadgen, variantDir } from '../variant.ts';
import { startCongestion, startIperfServers } from '../congestion.ts';
import { writeQuickstartReport } from './report.ts';
import { QUICKSTART, type QuickstartData, type VariantData } from './params.ts';

const TOPOLOGY = fileURLToPath(new URL('./topology.json', import.meta.url));

/** Readable names for both directions of every fabric link. */
export function fabricLinkNames(t: Topology): Record<string, string> {
  const dpid = new Map(t.switches.map((s) => [s.name, formatDpid(s.dpid)]));
  const names: Record<string, string> = {};
  for (const l of t.links) {
    if (l.aPort === null || l.bPort === null) continue;
    const a = { dpid: dpid.get(l.a) as string, port: l.aPort };
    const b = { dpid: dpid.get(l.b) as string, port: l.bPort };
    names[linkIdOf(a, b)] = `${l.a}→${l.b}`;
    names[linkIdOf(b, a)] = `${l.b}→${l.a}`;
  }
  return names;
}

function registryFor(t: Topology): Registry {
  const pid = (host: string): string => formatDpid(t.switches.find((s) => s.name === t.hosts.find((h) => h.name === host)?.switch)?.dpid ?? '0');
  return {
    services: [{ name: QUICKSTART.service, port: SERVICE_PORT }],
    replicas: QUICKSTART.replicas.map((r) => ({ id: r.id, service: QUICKSTART.service, host: r.host, port: SERVICE_PORT })),
    sidecars: [{ id: 'client', host: 'h1', calls: [QUICKSTART.service] }],
    attachments: Object.fromEntries(['h1', ...QUICKSTART.replicas.map((r) => r.host)].map((h) => [h, pid(h)])),
  };
}

async function runVariant(env: LabEnv, o: MeasureOptions, variant: 'off' | 'on', linkIds: ReadonlySet<string>): Promise<VariantData> {
  const dir = await variantDir(o.runDir, variant);
  const topo = env.net.topology;
  const recorder = await startHintRecorder(env.broker.urlFor('reader'), join(dir, 'events.jsonl'));
  const stopRecorder = env.teardown.push(`recorder ${variant}`, () => recorder.stop());
  const links = sampleLinks(env.ctl.monitor, linkIds);
  const bridge = variant === 'on' ? await startBridge(env, registryFor(topo), QUICKSTART.policy) : undefined;
  const sidecar = await startClientSidecar(env, dir, `sidecar-${variant}`, { service: QUICKSTART.service, replicas: QUICKSTART.replicas, weights: variant === 'on' });
  const weights = pollWeights(`http://${env.mgmt.addressOf('h1')}:${ADMIN_PORT}`);

  const D = o.durationSec;
  const startMs = Date.now() + 1500;
  const endMs = startMs + D * 1000;
  const from = startMs + Math.round(D * QUICKSTART.congestion[0]) * 1000;
  const to = startMs + Math.round(D * QUICKSTART.congestion[1]) * 1000;
  const out = join(dir, 'requests.jsonl');
  const gen = await startLoadgen(env, 'h1', `loadgen-${variant}`, { url: `http://127.0.0.1:${SIDECAR_PORT}/`, service: QUICKSTART.service, rate: QUICKSTART.rate, durationSec: D, tag: 'all', out, startMs, timeoutMs: 10_000 });
  const marks: { ts: number; label: string }[] = [];
  let stopIperf: (() => Promise<void>) | undefined;
  await drive(env, o.progress, {
    lab: 'quickstart',
    variant,
    startMs,
    endMs,
    outputs: [out],
    expected: totalRequests(QUICKSTART.rate, D * 1000),
    graceMs: 15_000,
    phases: [
      { name: 'before', from: startMs },
      { name: 'congestion', from },
      { name: 'after', from: to },
    ],
    actions: [
      {
        at: startMs + Math.round(D * QUICKSTART.linkFailure.down * 1000),
        run: async () => {
          const { a, b } = QUICKSTART.linkFailure;
          marks.push({ ts: Date.now(), label: `${a}–${b} down` });
          await env.net.setLink(a, b, 'down');
        },
      },
      {
        at: startMs + Math.round(D * QUICKSTART.linkFailure.up * 1000),
        run: async () => {
          const { a, b } = QUICKSTART.linkFailure;
          marks.push({ ts: Date.now(), label: `${a}–${b} up` });
          await env.net.setLink(a, b, 'up');
        },
      },
      {
        at: from,
        run: async () => {
          marks.push({ ts: Date.now(), label: 'iperf3 on' });
          const secs = Math.ceil((to - from) / 1000) + 5;
          stopIperf = await startCongestion(env, { secs, udpMbps: QUICKSTART.iperfUdpMbps, tcpStreams: QUICKSTART.iperfTcpStreams, tag: `-${variant}` });
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
  const weightSamples = weights.stop();
  const linkSamples = links.stop();
  await sidecar.stop();
  await bridge?.stop();
  const hints = await (async () => {
    await sleep(300); // the last weights and events reach the recorder
    await stopRecorder();
    return recorder.stop();
  })();
  return {
    variant,
    dir,
    startMs,
    durationSec: D,
    congestion: { from, to },
    records: await readRecords([out]),
    links: linkSamples,
    weights: weightSamples,
    hints,
    marks,
  };
}

export const quickstart: Lab<QuickstartData> = {
  name: 'quickstart',
  description: 'two replicas on different paths, congestion on one path mid-run; coordination off vs on (p99 during congestion, reaction time)',
  defaultDurationSec: 30,
  topology: () => loadTopology(TOPOLOGY),
  mgmtHosts: ['h1', 'ra', 'rb'],
  async measure(env, o) {
    const topo = env.net.topology;
    await env.waitForNetwork(topo.hosts.map((h) => h.name));
    for (const r of QUICKSTART.replicas) {
      await env.node(r.host, `service-${r.id}`, 'labs/service.ts', ['--port', String(SERVICE_PORT), '--name', r.id, '--size', String(QUICKSTART.sizeBytes), '--work-ms', String(QUICKSTART.workMs)]);
      await env.waitHttp(`http://${env.mgmt.addressOf(r.host)}:${SERVICE_PORT}/?size=1`);
    }
    await startIperfServers(env);
    const linkNames = fabricLinkNames(topo);
    const s1 = formatDpid('1');
    const s2 = formatDpid('2');
    // Both directions of s1–s2: the onset of either is the network noticing the congestion.
    const congestedLinks = Object.keys(linkNames).filter((id) => (id.startsWith(`${s1}:`) && id.includes(`-${s2}:`)) || (id.startsWith(`${s2}:`) && id.includes(`-${s1}:`)));
    const variants: VariantData[] = [];
    for (const v of ['off', 'on'] as const) {
      variants.push(await runVariant(env, o, v, new Set(Object.keys(linkNames))));
      // Let the links and their levels settle back to quiet before the next variant.
      await sleep(4000, undefined, { signal: env.signal });
    }
    return { topology: topo, variants, linkNames, congestedLinks };
  },
  report: (m, ctx) => writeQuickstartReport(m, ctx),
};
