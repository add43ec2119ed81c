// The priority lab: latency-sensitive and batch requests share one bottleneck, two service hops
// deep. The client's sidecar on c classifies each request by path (/interactive → high,
// /batch → low) into x-meshflow-priority; service A on a calls service B on b through its own
// sidecar, forwarding the class and traceparent, and every A→B call crosses the 10 Mbit/s link
// s1–s2. It runs twice on the same network: off (no intents, Mininet's single FIFO per port) and
// on (priority intents mark DSCP in OVS, and the bottleneck's ports get DSCP-keyed HTB classes).
//
// Why classes are told apart by port: the network sees packets, not HTTP headers (and would see
// nothing of them under mTLS), and a keep-alive connection carries many requests. So, as a mesh
// does with one listener per traffic class, B serves each class on its own port, A's sidecar
// knows one upstream service name per class, and A picks the name from the class it was handed;
// an intent per (A, B, port) then tells the network the class's priority.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SidecarConfig } from '../../bridge/sidecar/config.ts';
import { loadTopology } from '../../topologies/topology.ts';
import { readRecords, sampleLinks } from '../collect.ts';
import type { HostProcess, LabEnv } from '../env.ts';
import type { Lab, MeasureOptions } from '../lab.ts';
import { totalRequests } from '../loadgen/schedule.ts';
import { fabricLinkNames } from '../quickstart/lab.ts';
import { ADMIN_PORT, drive, SIDECAR_PORT, startSidecar, variantDir } from '../variant.ts';
import { classDelta, dscpRules, type DscpRule } from './htb.ts';
import { applyQueueing, deleteIntent, dumpFlows, postIntent, readTc, type IntentSeen, type PriorityIntentRequest } from './netops.ts';
import { writePriorityReport } from './report.ts';
import { PRIORITY, type ClassName, type PriorityData, type VariantData, type VariantName } from './params.ts';

const TOPOLOGY = fileURLToPath(new URL('./topology.json', import.meta.url));

function clientSidecar(env: LabEnv): SidecarConfig {
  const { serviceA, classes, client } = PRIORITY;
  return {
    id: 'client',
    host: client,
    listen: { host: '127.0.0.1', port: SIDECAR_PORT },
    admin: { host: env.mgmt.addressOf(client), port: ADMIN_PORT },
    services: { [serviceA.name]: { replicas: [{ id: 'a', host: env.ipOf(serviceA.host), port: serviceA.port }] } },
    // The edge of the mesh decides the class; every later hop keeps it.
    ingress: { defaultClass: 'normal', rules: (['high', 'low'] as const).map((c) => ({ class: c, pathPrefix: classes[c].pathPrefix })) },
    connectTimeoutMs: 2000,
  };
}

function serviceASidecar(env: LabEnv): SidecarConfig {
  const { serviceA, serviceB, classes } = PRIORITY;
  const b = env.ipOf(serviceB.host);
  return {
    id: 'svc-a',
    host: serviceA.host,
    listen: { host: '127.0.0.1', port: SIDECAR_PORT },
    admin: { host: env.mgmt.addressOf(serviceA.host), port: ADMIN_PORT },
    services: {
      [classes.high.upstream]: { replicas: [{ id: 'b-high', host: b, port: classes.high.port }] },
      [classes.low.upstream]: { replicas: [{ id: 'b-low', host: b, port: classes.low.port }] },
      'b-normal': { replicas: [{ id: 'b-normal', host: b, port: serviceB.normalPort }] },
    },
    connectTimeoutMs: 2000,
  };
}

/** One intent per class port between A and B (the rules cover both directions), plus the bulk transfer. */
function intentRequests(): PriorityIntentRequest[] {
  const { serviceA, serviceB, classes, iperf } = PRIORITY;
  const one = (dstPort: number, priority: 'high' | 'low'): PriorityIntentRequest => ({ src: serviceA.host, dst: serviceB.host, policy: 'shortest', ipProto: 6, dstPort, priority });
  return [one(classes.high.port, 'high'), one(classes.low.port, 'low'), ...(iperf.streams > 0 ? [one(iperf.port, 'low')] : [])];
}

async function runVariant(env: LabEnv, o: MeasureOptions, variant: VariantName, bottleneck: PriorityData['bottleneck'], linkIds: ReadonlySet<string>): Promise<VariantData> {
  const dir = await variantDir(o.runDir, variant);
  const { classes, client, serviceA, iperf } = PRIORITY;
  const intents: IntentSeen[] = [];
  for (const intf of [bottleneck.s1, bottleneck.s2]) await applyQueueing(intf, PRIORITY.htb, variant === 'on');
  if (variant === 'on') {
    for (const req of intentRequests()) {
      const seen = await postIntent(env.ctl.apiUrl, req);
      intents.push(seen);
      env.teardown.push(`intent ${seen.id}`, () => deleteIntent(env.ctl.apiUrl, seen.id).catch(() => undefined));
    }
  }
  const sidecars = [await startSidecar(env, dir, clientSidecar(env), `sidecar-client-${variant}`), await startSidecar(env, dir, serviceASidecar(env), `sidecar-a-${variant}`)];
  // Warm both paths (ARP, flows, keep-alive connections) before anything is measured.
  for (const c of ['high', 'low'] as const) {
    await env.net.cmd(client, `for i in $(seq 4); do curl -s -o /dev/null -H 'Host: ${serviceA.name}' 'http://127.0.0.1:${SIDECAR_PORT}${classes[c].pathPrefix}?size=1000'; done`, { timeoutMs: 30_000 });
  }
  // Counters from here on: the report shows what the measured traffic did, not the warm-up's.
  const before = await Promise.all([bottleneck.s1, bottleneck.s2].map(readTc));
  const links = sampleLinks(env.ctl.monitor, linkIds);
  const D = o.durationSec;
  const startMs = Date.now() + 2500;
  const endMs = startMs + D * 1000;
  let bulk: HostProcess | undefined;
  if (iperf.streams > 0) {
    // From b to a (reverse mode): the responses' direction, started before the first request so
    // that the queue is already there when measuring begins.
    bulk = await env.spawn(serviceA.host, `iperf-${variant}`, `exec iperf3 -c ${env.ipOf(PRIORITY.serviceB.host)} -p ${iperf.port} -t ${D + 8} -R -P ${iperf.streams}`);
  }
  const outs: Record<ClassName, string> = { high: join(dir, 'requests-high.jsonl'), low: join(dir, 'requests-low.jsonl') };
  const gens: HostProcess[] = [];
  for (const c of ['high', 'low'] as const) {
    const k = classes[c];
    gens.push(
      await env.node(client, `loadgen-${c}-${variant}`, 'labs/loadgen/main.ts', [
        '--url', `http://127.0.0.1:${SIDECAR_PORT}${k.pathPrefix}?size=${k.sizeBytes}`,
        '--service', serviceA.name,
        '--rate', String(k.rate),
        '--duration', String(D),
        '--tag', c,
        '--out', outs[c],
        '--start-at', String(startMs),
        '--timeout-ms', String(PRIORITY.timeoutMs),
        '--trace',
      ]),
    );
  }
  await drive(env, o.progress, {
    lab: 'priority',
    variant,
    startMs,
    endMs,
    outputs: [outs.high, outs.low],
    expected: totalRequests(classes.high.rate, D * 1000) + totalRequests(classes.low.rate, D * 1000),
    graceMs: PRIORITY.timeoutMs + 3000,
    phases: [{ name: variant === 'on' ? 'prioritised' : 'fifo', from: startMs }],
    actions: [],
  });
  const after = await Promise.all([bottleneck.s1, bottleneck.s2].map(readTc));
  const flows: Record<string, DscpRule[]> = {};
  if (variant === 'on') for (const sw of ['s1', 's2']) flows[sw] = dscpRules(await dumpFlows(env.net.bridgeOf(sw)));
  await bulk?.stop();
  for (const g of gens) await g.stop();
  for (const s of sidecars) await s.stop();
  const linkSamples = links.stop();
  return {
    variant,
    dir,
    startMs,
    durationSec: D,
    records: { high: await readRecords([outs.high]), low: await readRecords([outs.low]) },
    links: linkSamples,
    tc: after.map((a, i) => ({ ...a, classes: classDelta(before[i]?.classes ?? [], a.classes) })),
    flows,
    intents,
  };
}

export const priority: Lab<PriorityData> = {
  name: 'priority',
  description: 'interactive and batch requests share a bottleneck two service hops deep; FIFO vs DSCP intents + HTB classes (p99 per class)',
  defaultDurationSec: 30,
  topology: () => loadTopology(TOPOLOGY),
  mgmtHosts: ['c', 'a', 'b'],
  async measure(env, o) {
    const topo = env.net.topology;
    const { serviceA, serviceB, classes, iperf } = PRIORITY;
    await env.waitForNetwork(topo.hosts.map((h) => h.name));
    const ports = [classes.high.port, classes.low.port, serviceB.normalPort];
    await env.node(serviceB.host, 'service-b', 'labs/service.ts', [...ports.flatMap((p) => ['--port', String(p)]), '--name', 'svc-b', '--work-ms', '1']);
    for (const p of ports) await env.waitHttp(`http://${env.mgmt.addressOf(serviceB.host)}:${p}/?size=1`);
    // A calls B through its own sidecar; the class it was handed picks B's port.
    await env.node(serviceA.host, 'service-a', 'labs/service.ts', [
      '--port', String(serviceA.port),
      '--name', serviceA.name,
      '--upstream', `http://127.0.0.1:${SIDECAR_PORT}/`,
      '--route', `high=${classes.high.upstream}`,
      '--route', `low=${classes.low.upstream}`,
      '--route', 'default=b-normal',
    ]);
    if (iperf.streams > 0) await env.spawn(serviceB.host, 'iperf3-server', `exec iperf3 -s -p ${iperf.port}`);
    const link = env.net.ports().links.find((l) => l.a === 's1' && l.b === 's2');
    if (!link) throw new Error('priority: the topology has no s1–s2 link');
    const bottleneck = { s1: link.aIntf, s2: link.bIntf };
    const linkNames = fabricLinkNames(topo);
    const variants: VariantData[] = [];
    for (const v of ['off', 'on'] as const) {
      variants.push(await runVariant(env, o, v, bottleneck, new Set(Object.keys(linkNames))));
      // The queue drains and the last batch answers finish before the next variant.
      await sleep(3000, undefined, { signal: env.signal });
    }
    return { topology: topo, variants, linkNames, bottleneck };
  },
  report: (m, ctx) => writePriorityReport(m, ctx),
};
