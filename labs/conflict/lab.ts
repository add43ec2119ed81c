// The conflict lab: both levers matter. Two replicas behind different leaves of a two-spine
// leaf-spine (web-a on l2, web-b behind l3 through the access switch a3), a client on l1 calling
// them through its sidecar. First bulk traffic fills the sp1–l2 cable (a path move fixes it: the
// path via sp2 avoids it), then the l3–a3 cable in front of web-b (no path avoids it: only weights
// fix it). Four variants on the same network, one after the other: weights only, paths only, both
// uncoordinated (each lever its own loop), and arbitrated (bridge/arbiter.ts). report.ts compares them.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDpid } from '../../bus/hints.ts';
import { defaultKeyDir, loadOrCreateSigner } from '../../bus/signing.ts';
import { Bridge, type BridgeOptions } from '../../bridge/bridge.ts';
import { parseRegistry, type Registry } from '../../bridge/registry.ts';
import { RegistryStore } from '../../bridge/registry-store.ts';
import { loadTopology, type Topology } from '../../topologies/topology.ts';
import { pollWeights, readRecords, sampleLinks, startHintRecorder } from '../collect.ts';
import type { HostProcess, LabEnv } from '../env.ts';
import type { Lab, MeasureOptions } from '../lab.ts';
import { totalRequests } from '../loadgen/schedule.ts';
import { fabricLinkNames } from '../quickstart/lab.ts';
import { ADMIN_PORT, drive, SERVICE_PORT, SIDECAR_PORT, startClientSidecar, startLoadgen, variantDir } from '../variant.ts';
import { pathChanges, weightChanges } from './changes.ts';
import { CONFLICT, PHASES, VARIANTS, type BulkResult, type ConflictData, type LeverChange, type PhaseName, type VariantData, type VariantName } from './params.ts';
import { parseIperf } from './iperf.ts';
import { writeConflictReport } from './report.ts';

const TOPOLOGY = fileURLToPath(new URL('../../topologies/leaf-spine-conflict.json', import.meta.url));
const UDP_PORT = 5201;
const TCP_PORT = 5202;

function registryFor(t: Topology): Registry {
  const pid = (host: string): string => formatDpid(t.switches.find((s) => s.name === t.hosts.find((h) => h.name === host)?.switch)?.dpid ?? '0');
  return {
    services: [{ name: CONFLICT.service, port: SERVICE_PORT }],
    replicas: CONFLICT.replicas.map((r) => ({ id: r.id, service: CONFLICT.service, host: r.host, port: SERVICE_PORT })),
    sidecars: [{ id: 'client', host: 'h1', calls: [CONFLICT.service] }],
    attachments: Object.fromEntries(['h1', ...CONFLICT.replicas.map((r) => r.host)].map((h) => [h, pid(h)])),
  };
}

/** Which levers each variant pulls, and how. */
async function bridgeOptions(env: LabEnv, v: VariantName, registry: Registry): Promise<BridgeOptions> {
  const base = {
    // Sidecars take weights signed by the keys in the lab's key directory (variant.ts starts them so).
    signer: (await loadOrCreateSigner(defaultKeyDir(), 'bridge')).signer,
    mqttUrl: env.broker.urlFor('bridge'),
    registry: new RegistryStore(parseRegistry(registry)),
    weightsTtlMs: 15_000,
    source: `lab-bridge-${env.runId}-${v}`,
  };
  // A mesh with no path lever reads the most loaded path: its flows are hashed onto any of them.
  const plain = { ...CONFLICT.policy, roomBasis: 'worst' as const };
  switch (v) {
    case 'weights':
      return { ...base, params: plain, levers: 'independent' };
    case 'paths':
      return { ...base, params: CONFLICT.policy, levers: 'independent', controllerUrl: env.ctl.apiUrl, adapters: [] };
    case 'uncoordinated':
      return { ...base, params: plain, levers: 'independent', controllerUrl: env.ctl.apiUrl };
    case 'arbitrated':
      return { ...base, params: CONFLICT.policy, levers: 'arbitrated', arbiter: CONFLICT.arbiter, controllerUrl: env.ctl.apiUrl };
  }
}

/** Polls the bridge's intents: each create and withdraw is a path change of the client's traffic.
 *  A new intent's path is read from the controller, so a later move back to it shows as a reversal. */
function watchIntents(bridge: Bridge, apiUrl: string, everyMs = 200): { stop(): LeverChange[] } {
  const out: LeverChange[] = [];
  let held = new Set<string>();
  const pathOf = async (id: string): Promise<string> => {
    const r = await fetch(`${apiUrl}/api/v1/intents/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    const body = (await r?.json().catch(() => undefined)) as { switches?: unknown } | undefined;
    return Array.isArray(body?.switches) && body.switches.length > 0 ? body.switches.join('>') : 'pinned';
  };
  const timer = setInterval(() => {
    const current = bridge.currentIntents;
    const now = new Set(current.map((i) => i.key));
    const ts = Date.now();
    for (const i of current) {
      if (held.has(i.key)) continue;
      const change = { ts, lever: 'path' as const, key: i.key, state: 'pinned' };
      out.push(change);
      void pathOf(i.id).then((state) => (out[out.indexOf(change)] = { ...change, state }));
    }
    for (const k of held) if (!now.has(k)) out.push({ ts, lever: 'path', key: k, state: 'ecmp' });
    held = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return out;
    },
  };
}

async function runVariant(env: LabEnv, o: MeasureOptions, variant: VariantName, linkIds: ReadonlySet<string>): Promise<VariantData> {
  const dir = await variantDir(o.runDir, variant);
  const topo = env.net.topology;
  const recorder = await startHintRecorder(env.broker.urlFor('reader'), join(dir, 'events.jsonl'));
  const stopRecorder = env.teardown.push(`recorder ${variant}`, () => recorder.stop());
  const links = sampleLinks(env.ctl.monitor, linkIds);
  const bridge = new Bridge(await bridgeOptions(env, variant, registryFor(topo)));
  await bridge.start();
  const stopBridge = env.teardown.push(`bridge ${variant}`, () => bridge.stop());
  const intents = watchIntents(bridge, env.ctl.apiUrl);
  const withWeights = variant !== 'paths';
  const sidecar = await startClientSidecar(env, dir, `sidecar-${variant}`, { service: CONFLICT.service, replicas: CONFLICT.replicas, weights: withWeights });
  const weights = pollWeights(`http://${env.mgmt.addressOf('h1')}:${ADMIN_PORT}`);

  const D = o.durationSec;
  const startMs = Date.now() + 1500;
  const endMs = startMs + D * 1000;
  const at = (f: number): number => startMs + Math.round(D * f * 1000);
  const phases: Record<PhaseName, number> = { before: startMs, spine: at(CONFLICT.phases.spine), gap: at(CONFLICT.phases.gap), access: at(CONFLICT.phases.access), after: at(CONFLICT.phases.after) };
  const out = join(dir, 'requests.jsonl');
  const gen = await startLoadgen(env, 'h1', `loadgen-${variant}`, { url: `http://127.0.0.1:${SIDECAR_PORT}/`, service: CONFLICT.service, rate: CONFLICT.rate, durationSec: D, tag: 'all', out, startMs, timeoutMs: 10_000 });
  const running: HostProcess[] = [];
  const bulkFiles: { phase: 'spine' | 'access'; udp: string; tcp: string }[] = [];
  const bulk = (phase: 'spine' | 'access', from: number, to: number) => {
    const { from: src, to: dst } = CONFLICT.bulk[phase];
    const secs = Math.max(1, Math.floor((to - from) / 1000));
    const udp = join(dir, `iperf-${phase}-udp.json`);
    const tcp = join(dir, `iperf-${phase}-tcp.json`);
    bulkFiles.push({ phase, udp, tcp });
    return [
      {
        at: from,
        run: async () => {
          const ip = env.ipOf(dst);
          // Requests' direction: UDP just under the link rate, full at once; the other way TCP (reverse mode).
          running.push(await env.spawn(src, `iperf-${phase}-udp-${variant}`, `exec iperf3 -c ${ip} -p ${UDP_PORT} -t ${secs} -u -b ${CONFLICT.iperfUdpMbps}M -l 1400 -J --logfile ${udp}`));
          running.push(await env.spawn(src, `iperf-${phase}-tcp-${variant}`, `exec iperf3 -c ${ip} -p ${TCP_PORT} -t ${secs} -R -P ${CONFLICT.iperfTcpStreams} -J --logfile ${tcp}`));
        },
      },
      {
        // iperf3 ends on its own after -t and writes its result; stop whatever is left a little later.
        at: to + 2500,
        run: async () => {
          for (const p of running.splice(0)) await p.stop();
        },
      },
    ];
  };
  await drive(env, o.progress, {
    lab: 'conflict',
    variant,
    startMs,
    endMs,
    outputs: [out],
    expected: totalRequests(CONFLICT.rate, D * 1000),
    graceMs: 15_000,
    phases: PHASES.map((name) => ({ name, from: phases[name] })),
    actions: [...bulk('spine', phases.spine, phases.gap), ...bulk('access', phases.access, phases.after)],
  });
  for (const p of running.splice(0)) await p.stop();
  await gen.stop();
  const weightSamples = weights.stop();
  const linkSamples = links.stop();
  const intentChanges = intents.stop();
  await sidecar.stop();
  await stopBridge();
  await sleep(300); // the last weights and events reach the recorder
  await stopRecorder();
  const hints = await recorder.stop();
  const bulkResults: BulkResult[] = [];
  for (const f of bulkFiles) bulkResults.push({ phase: f.phase, ...(await parseIperf(f.udp, f.tcp)) });
  const changes = [...weightChanges(hints, 'client', CONFLICT.service), ...pathChanges(intentChanges, hints, 'h1')].sort((a, b) => a.ts - b.ts);
  return { variant, dir, startMs, durationSec: D, phases, records: await readRecords([out]), links: linkSamples, weights: weightSamples, hints, changes, bulk: bulkResults };
}

export const conflict: Lab<ConflictData> = {
  name: 'conflict',
  description: 'two levers, one network: a spine link (a path move fixes it), then a replica access link (only weights fix it); weights only, paths only, uncoordinated, arbitrated',
  defaultDurationSec: 80,
  topology: () => loadTopology(TOPOLOGY),
  mgmtHosts: ['h1', 'ra', 'rb'],
  async measure(env, o) {
    const topo = env.net.topology;
    await env.waitForNetwork(topo.hosts.map((h) => h.name));
    for (const r of CONFLICT.replicas) {
      await env.node(r.host, `service-${r.id}`, 'labs/service.ts', ['--port', String(SERVICE_PORT), '--name', r.id, '--size', String(CONFLICT.sizeBytes), '--work-ms', String(CONFLICT.workMs)]);
      await env.waitHttp(`http://${env.mgmt.addressOf(r.host)}:${SERVICE_PORT}/?size=1`);
    }
    for (const phase of ['spine', 'access'] as const) {
      const dst = CONFLICT.bulk[phase].to;
      await env.spawn(dst, `iperf3-server-udp-${dst}`, `exec iperf3 -s -p ${UDP_PORT}`);
      await env.spawn(dst, `iperf3-server-tcp-${dst}`, `exec iperf3 -s -p ${TCP_PORT}`);
    }
    const linkNames = fabricLinkNames(topo);
    const cableIds = (a: string, b: string): string[] => Object.keys(linkNames).filter((id) => linkNames[id] === `${a}→${b}` || linkNames[id] === `${b}→${a}`);
    const cables = { spine: cableIds(...CONFLICT.bulk.spine.cable), access: cableIds(...CONFLICT.bulk.access.cable) };
    const variants: VariantData[] = [];
    for (const v of VARIANTS) {
      variants.push(await runVariant(env, o, v, new Set(Object.keys(linkNames))));
      // Links and levels settle back to quiet before the next variant.
      await sleep(4000, undefined, { signal: env.signal });
    }
    return { topology: topo, variants, linkNames, cables };
  },
  report: (m, ctx) => writeConflictReport(m, ctx),
};
