// The priority lab: latency-sensitive and batch requests share one bottleneck, two service hops
// deep. The client's sidecar on c classifies each request by path (/interactive → high,
// /batch → low) into x-meshflow-priority; service A on a calls service B on b through its own
// sidecar, forwarding the class and traceparent, and every A→B call crosses the 10 Mbit/s link
// s1–s2. It runs twice on the same network: off (no intents, one FIFO per port) and on (priority
// intents: OVS marks DSCP, and the controller puts DSCP-keyed HTB classes on the ports of the high
// intent's path, controller/qos/; the lab only waits for them).
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
import { ADMIN_PORT, drive, SIDECAR_PORT, startLoadgen, startSidecar, variantDir } from '../variant.ts';
import { classDelta, dscpRules, type DscpRule } from './htb.ts';
import { applyFifo, awaitQueues, deleteIntent, dumpFlows, postIntent, readTc, type IntentSeen, type PriorityIntentRequest } from './netops.ts';
import { writePriorityReport } from './report.ts';
import { hostPlainCommands, hostPrioCommands } from './host.ts';

/** The data-plane interface of every Mininet host (topologies/builder.py). */
const HOST_INTF = 'eth0';
import { ABLATION_ENV, PRIORITY, variantPlan, type ClassName, type Layers, type PriorityData, type VariantData, type VariantName, type VariantPlan } from './params.ts';

const TOPOLOGY = fileURLToPath(new URL('./topology.json', import.meta.url));

function clientSidecar(env: LabEnv, layers: Layers): SidecarConfig {
  const { serviceA, classes, client, ablation } = PRIORITY;
  return {
    id: 'client',
    host: client,
    listen: { host: '127.0.0.1', port: SIDECAR_PORT },
    admin: { host: env.mgmt.addressOf(client), port: ADMIN_PORT },
    services: { [serviceA.name]: { replicas: [{ id: 'a', host: env.ipOf(serviceA.host), port: serviceA.port }] } },
    // The edge of the mesh decides the class; every later hop keeps it.
    ingress: { defaultClass: 'normal', rules: (['high', 'low'] as const).map((c) => ({ class: c, pathPrefix: classes[c].pathPrefix })) },
    // The sidecar layer: beyond a few requests in flight to A, the rest wait, highest class first.
    ...(layers.sidecar ? { scheduling: { classes: [{ name: 'high' }, { name: 'normal' }, { name: 'low' }], concurrencyPerReplica: ablation.sidecarConcurrency, queueLimit: ablation.sidecarQueueLimit, queueTimeoutMs: PRIORITY.timeoutMs } } : {}),
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

/** The sending host's kernel: B's answers of the high class leave its interface first, or all in one FIFO. */
async function hostQueueing(env: LabEnv, on: boolean): Promise<void> {
  const host = PRIORITY.serviceB.host;
  const cmds = on ? hostPrioCommands(HOST_INTF, PRIORITY.hostLinkMbit * 1e6, [PRIORITY.classes.high.port]) : hostPlainCommands(HOST_INTF, PRIORITY.hostLinkMbit * 1e6);
  for (const args of cmds) {
    const r = await env.net.cmd(host, `tc ${args.join(' ')}`, { timeoutMs: 10_000 });
    if (r.code !== 0 && !(args[0] === 'qdisc' && args[1] === 'del')) throw new Error(`on ${host}: tc ${args.join(' ')}: ${r.output.trim()}`);
  }
}

/** Service B, started per variant: its work and workers depend on the run and on the compute layer. */
async function startServiceB(env: LabEnv, variant: VariantName, ablation: boolean, layers: Layers): Promise<HostProcess> {
  const { classes, serviceB } = PRIORITY;
  const work = ablation ? PRIORITY.ablation : PRIORITY.serviceWork;
  const ports = [classes.high.port, classes.low.port, serviceB.normalPort];
  const b = await env.node(serviceB.host, `service-b-${variant}`, 'labs/service.ts', [
    ...ports.flatMap((p) => ['--port', String(p)]),
    '--name', 'svc-b',
    '--work-ms', String(work.workMs),
    ...(work.workers > 0 ? ['--workers', String(work.workers), ...(layers.compute ? [] : ['--workers-fifo'])] : []),
  ]);
  for (const p of ports) await env.waitHttp(`http://${env.mgmt.addressOf(serviceB.host)}:${p}/?size=1`);
  return b;
}

async function runVariant(env: LabEnv, o: MeasureOptions, plan: VariantPlan, ablation: boolean, bottleneck: PriorityData['bottleneck'], linkIds: ReadonlySet<string>): Promise<VariantData> {
  const { name: variant, layers } = plan;
  const dir = await variantDir(o.runDir, variant);
  const { classes, client, serviceA, iperf } = PRIORITY;
  const intents: IntentSeen[] = [];
  const serviceB = await startServiceB(env, variant, ablation, layers);
  // The baseline is set on every variant: the controller's queues, when they come, replace it at its rate.
  for (const intf of [bottleneck.s1, bottleneck.s2]) await applyFifo(intf, PRIORITY.htb);
  await hostQueueing(env, layers.host);
  if (layers.network) {
    for (const req of intentRequests()) {
      const seen = await postIntent(env.ctl.apiUrl, req);
      intents.push(seen);
      env.teardown.push(`intent ${seen.id}`, () => deleteIntent(env.ctl.apiUrl, seen.id).catch(() => undefined));
    }
    await awaitQueues([bottleneck.s1, bottleneck.s2], 10_000, env.signal);
  }
  const sidecars = [await startSidecar(env, dir, clientSidecar(env, layers), `sidecar-client-${variant}`), await startSidecar(env, dir, serviceASidecar(env), `sidecar-a-${variant}`)];
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
      await startLoadgen(env, client, `loadgen-${c}-${variant}`, { url: `http://127.0.0.1:${SIDECAR_PORT}${k.pathPrefix}?size=${k.sizeBytes}`, service: serviceA.name, rate: k.rate, durationSec: D, tag: c, out: outs[c], startMs, timeoutMs: PRIORITY.timeoutMs, trace: true }),
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
  if (layers.network) for (const sw of ['s1', 's2']) flows[sw] = dscpRules(await dumpFlows(env.net.bridgeOf(sw)));
  await bulk?.stop();
  for (const g of gens) await g.stop();
  for (const s of sidecars) await s.stop();
  await serviceB.stop();
  // The next variant starts without this one's intents (and so without the controller's queues).
  for (const seen of intents) await deleteIntent(env.ctl.apiUrl, seen.id);
  const linkSamples = links.stop();
  return {
    variant,
    layers,
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
  description: 'interactive and batch requests share a bottleneck two service hops deep; FIFO vs DSCP intents + HTB classes from the controller (p99 per class)',
  defaultDurationSec: 30,
  topology: () => loadTopology(TOPOLOGY),
  mgmtHosts: ['c', 'a', 'b'],
  async measure(env, o) {
    const topo = env.net.topology;
    const { serviceA, serviceB, classes, iperf } = PRIORITY;
    const ablation = process.env[ABLATION_ENV] === '1';
    await env.waitForNetwork(topo.hosts.map((h) => h.name));
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
    for (const plan of variantPlan(ablation)) {
      variants.push(await runVariant(env, o, plan, ablation, bottleneck, new Set(Object.keys(linkNames))));
      // The queue drains and the last batch answers finish before the next variant.
      await sleep(3000, undefined, { signal: env.signal });
    }
    return { ablation, topology: topo, variants, linkNames, bottleneck };
  },
  report: (m, ctx) => writePriorityReport(m, ctx),
};
