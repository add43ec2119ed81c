// The priority lab: latency-sensitive and batch requests share one bottleneck, two service hops
// deep. The client's sidecar on c classifies each request by path (/interactive → high,
// /batch → low) into x-meshflow-priority; service A on a calls service B on b through its own
// sidecar, forwarding the class and traceparent, and every A→B call crosses the 10 Mbit/s link
// s1–s2. It runs twice on the same network: off (no intents, one FIFO per port) and on (priority
// intents: OVS marks DSCP, and the controller puts DSCP-keyed HTB classes on the ports of the high
// intent's path, controller/qos/; the lab only waits for them). The ablation runs every layer on,
// then each off in turn (params.ts).
//
// How the network tells classes apart: by source address. The network sees packets, not HTTP
// headers (and would see nothing of them under mTLS), and a keep-alive connection carries many
// requests, so each class needs connections of its own: A's sidecar opens them from the class's
// own address (its per-class `sourceAddress`; transport.ts gives host a the addresses), and one
// intent per class address tells the network the class's priority. B's kernel classifies its
// answers by the same address (host.ts), and B's route to it picks the class's TCP congestion
// control (transport.ts). So B serves every class on one port, as one service name.
import { readFile } from 'node:fs/promises';
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
import { ABLATION_ENV, PRIORITY, SPAN_FILES, variantPlan, type ClassName, type Layers, type PriorityData, type VariantData, type VariantName, type VariantPlan } from './params.ts';
import { startRabbitmq } from '../rabbitmq.ts';
import { cpuWaitShare, cpuWaitTotalUs } from './machine.ts';
import { checkOffered, classAddressCommands, congestionSeen, parseAvailable, receiverRouteCommands, senderRouteCommands, type ClassRoute } from './transport.ts';

/** The data-plane interface of every Mininet host (topologies/builder.py). */
const HOST_INTF = 'eth0';

/** The classes' addresses, tables and congestion controls, as transport.ts takes them. */
const CLASS_ROUTES: readonly ClassRoute[] = (['high', 'low'] as const).map((c) => ({ name: c, address: PRIORITY.classes[c].address, table: PRIORITY.classes[c].table, congctl: PRIORITY.classes[c].congctl }));

const TOPOLOGY = fileURLToPath(new URL('./topology.json', import.meta.url));

function clientSidecar(env: LabEnv, layers: Layers, dir: string): SidecarConfig {
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
    tracing: { file: join(dir, SPAN_FILES[0]) },
    connectTimeoutMs: 2000,
  };
}

/**
 * A's sidecar: service B, one replica, and each class's connections to it from the class's own
 * address (the scheduler's per-class pools; no concurrency limit here, the client's sidecar is
 * where requests wait).
 */
function serviceASidecar(env: LabEnv, dir: string): SidecarConfig {
  const { serviceA, serviceB, classes } = PRIORITY;
  return {
    id: 'svc-a',
    host: serviceA.host,
    listen: { host: '127.0.0.1', port: SIDECAR_PORT },
    admin: { host: env.mgmt.addressOf(serviceA.host), port: ADMIN_PORT },
    services: { [serviceB.name]: { replicas: [{ id: 'b', host: env.ipOf(serviceB.host), port: serviceB.port }] } },
    scheduling: { classes: [{ name: 'high', sourceAddress: classes.high.address }, { name: 'normal' }, { name: 'low', sourceAddress: classes.low.address }] },
    tracing: { file: join(dir, SPAN_FILES[1]) },
    connectTimeoutMs: 2000,
  };
}

/** One intent per class address towards B (the rules cover both directions), plus the bulk transfer by its port. */
function intentRequests(): PriorityIntentRequest[] {
  const { serviceA, serviceB, classes, iperf } = PRIORITY;
  const one = (c: ClassName): PriorityIntentRequest => ({ src: classes[c].address, dst: serviceB.host, policy: 'shortest', ipProto: 6, priority: c });
  return [one('high'), one('low'), ...(iperf.streams > 0 ? [{ src: serviceA.host, dst: serviceB.host, policy: 'shortest', ipProto: 6, dstPort: iperf.port, priority: 'low' } as const] : [])];
}

/** Runs commands in a host's namespace; `mayFail` lets the deletes of state that may not be there fail. */
async function hostCmds(env: LabEnv, host: string, cmds: readonly (readonly string[])[], mayFail = (_: readonly string[]): boolean => false): Promise<void> {
  for (const args of cmds) {
    const r = await env.net.cmd(host, args.join(' '), { timeoutMs: 10_000 });
    if (r.code !== 0 && !mayFail(args)) throw new Error(`on ${host}: ${args.join(' ')}: ${r.output.trim()}`);
  }
}

/** The sending host's kernel: B's answers to the high class's address leave its interface first, or all in one FIFO. */
async function hostQueueing(env: LabEnv, on: boolean): Promise<void> {
  const cmds = on ? hostPrioCommands(HOST_INTF, PRIORITY.hostLinkMbit * 1e6, [PRIORITY.classes.high.address]) : hostPlainCommands(HOST_INTF, PRIORITY.hostLinkMbit * 1e6);
  await hostCmds(env, PRIORITY.serviceB.host, cmds.map((c) => ['tc', ...c]), (a) => a[1] === 'qdisc' && a[2] === 'del');
}

/** Transport per class: the class routes on a and b with the class's congestion control, or the kernel's default. */
async function classTransport(env: LabEnv, on: boolean): Promise<void> {
  await hostCmds(env, PRIORITY.serviceA.host, senderRouteCommands(CLASS_ROUTES, on));
  await hostCmds(env, PRIORITY.serviceB.host, receiverRouteCommands(HOST_INTF, CLASS_ROUTES, on));
}

/** Each class address sends a packet to B, so the controller knows it as a host (an intent names it) and B has its ARP entry. */
async function announceClassAddresses(env: LabEnv): Promise<void> {
  const b = env.ipOf(PRIORITY.serviceB.host);
  for (const c of CLASS_ROUTES) await hostCmds(env, PRIORITY.serviceA.host, [['ping', '-c', '2', '-i', '0.2', '-W', '2', '-I', c.address, b]]);
}

/** Service B, started per variant: its work and workers depend on the run and on the compute layer; in the ablation it also takes A's work from the queue. */
async function startServiceB(env: LabEnv, variant: VariantName, ablation: boolean, layers: Layers, queueUrl: string | undefined): Promise<HostProcess> {
  const { serviceB, queue } = PRIORITY;
  const work = ablation ? PRIORITY.ablation : PRIORITY.serviceWork;
  const b = await env.node(serviceB.host, `service-b-${variant}`, 'labs/service.ts', [
    '--port', String(serviceB.port),
    '--name', serviceB.name,
    '--work-ms', String(work.workMs),
    ...(work.workers > 0 ? ['--workers', String(work.workers), ...(layers.compute ? [] : ['--workers-fifo'])] : []),
    ...(queueUrl ? ['--consume-url', queueUrl, '--queue-name', queue.name, '--consumers', String(queue.consumers), '--consume-work-ms', String(queue.workMs)] : []),
  ]);
  await env.waitHttp(`http://${env.mgmt.addressOf(serviceB.host)}:${serviceB.port}/?size=1`);
  return b;
}

/** Service A, started per variant: in the ablation it hands each request's work to B through the queue first, the class as its priority when the queue layer is on. */
async function startServiceA(env: LabEnv, variant: VariantName, layers: Layers, queueUrl: string | undefined): Promise<HostProcess> {
  const { serviceA, serviceB, queue } = PRIORITY;
  const a = await env.node(serviceA.host, `service-a-${variant}`, 'labs/service.ts', [
    '--port', String(serviceA.port),
    '--name', serviceA.name,
    '--upstream', `http://127.0.0.1:${SIDECAR_PORT}/`,
    // Every class to the same service: its sidecar picks the class's source address.
    '--route', `default=${serviceB.name}`,
    ...(queueUrl ? ['--handoff-url', queueUrl, '--queue-name', queue.name, ...(layers.queue ? Object.entries(queue.priorities).flatMap(([c, p]) => ['--queue-priority', `${c}=${p}`]) : [])] : []),
  ]);
  await env.waitHttp(`http://${env.mgmt.addressOf(serviceA.host)}:${serviceA.port}/?size=1`);
  return a;
}

/** The machine's CPU pressure total at `atMs` (machine.ts); undefined where the kernel has no PSI. */
async function cpuWaitAt(atMs: number, signal: AbortSignal): Promise<number | undefined> {
  await sleep(Math.max(0, atMs - Date.now()), undefined, { signal });
  return cpuWaitTotalUs(await readFile('/proc/pressure/cpu', 'utf8').catch(() => ''));
}

async function runVariant(env: LabEnv, o: MeasureOptions, plan: VariantPlan, ablation: boolean, bottleneck: PriorityData['bottleneck'], linkIds: ReadonlySet<string>, queueUrl: string | undefined): Promise<VariantData> {
  const { name: variant, layers, congested } = plan;
  const dir = await variantDir(o.runDir, variant);
  const { classes, client, serviceA, iperf } = PRIORITY;
  const intents: IntentSeen[] = [];
  const serviceB = await startServiceB(env, variant, ablation, layers, queueUrl);
  // The baseline is set on every variant: the controller's queues, when they come, replace it at its rate.
  for (const intf of [bottleneck.s1, bottleneck.s2]) await applyFifo(intf, PRIORITY.htb);
  await hostQueueing(env, layers.host);
  await classTransport(env, layers.transport);
  await announceClassAddresses(env);
  if (layers.network) {
    for (const req of intentRequests()) {
      const seen = await postIntent(env.ctl.apiUrl, req);
      intents.push(seen);
      env.teardown.push(`intent ${seen.id}`, () => deleteIntent(env.ctl.apiUrl, seen.id).catch(() => undefined));
    }
    await awaitQueues([bottleneck.s1, bottleneck.s2], 10_000, env.signal);
  }
  const sidecars = [await startSidecar(env, dir, clientSidecar(env, layers, dir), `sidecar-client-${variant}`), await startSidecar(env, dir, serviceASidecar(env, dir), `sidecar-a-${variant}`)];
  const serviceAProc = await startServiceA(env, variant, layers, queueUrl);
  // The classes the run sends: calm has no batch and no bulk transfer.
  const sent: readonly ClassName[] = congested ? ['high', 'low'] : ['high'];
  // Warm both paths (ARP, flows, keep-alive connections) before anything is measured.
  for (const c of sent) {
    await env.net.cmd(client, `for i in $(seq 4); do curl -s -o /dev/null -H 'Host: ${serviceA.name}' 'http://127.0.0.1:${SIDECAR_PORT}${classes[c].pathPrefix}?size=1000'; done`, { timeoutMs: 30_000 });
  }
  // Counters from here on: the report shows what the measured traffic did, not the warm-up's.
  const before = await Promise.all([bottleneck.s1, bottleneck.s2].map(readTc));
  const queueCounts = (): number => (env.ctl.queues ? env.ctl.queues.counters.applied + env.ctl.queues.counters.removed : 0);
  const queuesBefore = queueCounts();
  const links = sampleLinks(env.ctl.monitor, linkIds);
  const D = o.durationSec * plan.lengthFactor;
  const startMs = Date.now() + 2500;
  const endMs = startMs + D * 1000;
  // An aborted run must not leave this promise rejected and unheard.
  const cpuWait = Promise.all([cpuWaitAt(startMs, env.signal), cpuWaitAt(endMs, env.signal)]).catch((): [undefined, undefined] => [undefined, undefined]);
  let bulk: HostProcess | undefined;
  if (iperf.streams > 0 && congested) {
    // From b to a (reverse mode): the responses' direction, started before the first request so
    // that the queue is already there when measuring begins.
    bulk = await env.spawn(serviceA.host, `iperf-${variant}`, `exec iperf3 -c ${env.ipOf(PRIORITY.serviceB.host)} -p ${iperf.port} -t ${D + 8} -R -P ${iperf.streams}`);
  }
  const outs: Record<ClassName, string> = { high: join(dir, 'requests-high.jsonl'), low: join(dir, 'requests-low.jsonl') };
  // The ablation's batch is a closed loop: its throughput then shows what prioritisation takes from it.
  const closedLoop = (c: ClassName): boolean => ablation && c === 'low';
  const gens: HostProcess[] = [];
  for (const c of sent) {
    const k = classes[c];
    const url = `http://127.0.0.1:${SIDECAR_PORT}${k.pathPrefix}?size=${k.sizeBytes}`;
    gens.push(
      closedLoop(c)
        ? await env.node(client, `closed-loop-${c}-${variant}`, 'labs/priority/closed-loop.ts', ['--url', url, '--service', serviceA.name, '--concurrency', String(PRIORITY.ablation.batchConcurrency), '--duration', String(D), '--tag', c, '--out', outs[c], '--start-at', String(startMs), '--timeout-ms', String(PRIORITY.timeoutMs), '--trace'])
        : await startLoadgen(env, client, `loadgen-${c}-${variant}`, { url, service: serviceA.name, rate: k.rate, durationSec: D, tag: c, out: outs[c], startMs, timeoutMs: PRIORITY.timeoutMs, trace: true }),
    );
  }
  await drive(env, o.progress, {
    lab: 'priority',
    variant,
    startMs,
    endMs,
    outputs: sent.map((c) => outs[c]),
    // A closed loop has no count known beforehand: the open-loop classes' count and the end decide.
    expected: sent.filter((c) => !closedLoop(c)).reduce((n, c) => n + totalRequests(classes[c].rate, D * 1000), 0),
    graceMs: PRIORITY.timeoutMs + 3000,
    phases: [{ name: variant === 'off' ? 'fifo' : variant === 'on' ? 'prioritised' : variant, from: startMs }],
    actions: [],
  });
  const after = await Promise.all([bottleneck.s1, bottleneck.s2].map(readTc));
  const queueChanges = queueCounts() - queuesBefore;
  const [cpuBefore, cpuAfter] = await cpuWait;
  const cpuShare = cpuWaitShare(cpuBefore, cpuAfter, endMs - startMs);
  // B's connections to each class address, while they are open: which congestion control they ride.
  const congestion = {} as Record<ClassName, Record<string, number>>;
  for (const c of ['high', 'low'] as const) {
    congestion[c] = congestionSeen((await env.net.cmd(PRIORITY.serviceB.host, `ss -tinH state established dst ${classes[c].address}`, { timeoutMs: 10_000 })).output);
  }
  const flows: Record<string, DscpRule[]> = {};
  if (layers.network) for (const sw of ['s1', 's2']) flows[sw] = dscpRules(await dumpFlows(env.net.bridgeOf(sw)));
  await bulk?.stop();
  for (const g of gens) await g.stop();
  await serviceAProc.stop();
  for (const s of sidecars) await s.stop();
  await serviceB.stop();
  // The next variant starts without this one's intents (and so without the controller's queues).
  for (const seen of intents) await deleteIntent(env.ctl.apiUrl, seen.id);
  const linkSamples = links.stop();
  return {
    variant,
    layers,
    congested,
    dir,
    startMs,
    durationSec: D,
    records: { high: await readRecords([outs.high]), low: sent.includes('low') ? await readRecords([outs.low]) : [] },
    links: linkSamples,
    tc: after.map((a, i) => ({ ...a, classes: classDelta(before[i]?.classes ?? [], a.classes) })),
    queueChanges,
    flows,
    intents,
    congestion,
    ...(cpuShare !== undefined ? { cpuWait: cpuShare } : {}),
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
    const { serviceA, serviceB, iperf } = PRIORITY;
    const ablation = process.env[ABLATION_ENV] === '1';
    await env.waitForNetwork(topo.hosts.map((h) => h.name));
    // Each class's own address on host a (transport.ts), and the congestion controls it will ask for.
    const available = parseAvailable((await env.net.cmd(serviceA.host, 'cat /proc/sys/net/ipv4/tcp_available_congestion_control', { timeoutMs: 5000 })).output);
    const defaultCongctl = (await env.net.cmd(serviceA.host, 'cat /proc/sys/net/ipv4/tcp_congestion_control', { timeoutMs: 5000 })).output.trim();
    checkOffered(CLASS_ROUTES, available);
    await hostCmds(env, serviceA.host, classAddressCommands(HOST_INTF, CLASS_ROUTES));
    // The queue hop only in the ablation: RabbitMQ takes seconds to start (startMs in the report).
    let queue: PriorityData['queue'];
    let queueUrl: string | undefined;
    if (ablation) {
      const rabbit = await startRabbitmq(env.mgmt.rootAddress, join(o.runDir, 'rabbitmq'), 'lab');
      env.teardown.push('rabbitmq', () => rabbit.stop());
      queueUrl = rabbit.url;
      queue = { startMs: rabbit.startMs };
    }
    if (iperf.streams > 0) await env.spawn(serviceB.host, 'iperf3-server', `exec iperf3 -s -p ${iperf.port}`);
    const link = env.net.ports().links.find((l) => l.a === 's1' && l.b === 's2');
    if (!link) throw new Error('priority: the topology has no s1–s2 link');
    const bottleneck = { s1: link.aIntf, s2: link.bIntf };
    const linkNames = fabricLinkNames(topo);
    const variants: VariantData[] = [];
    for (const plan of variantPlan(ablation)) {
      variants.push(await runVariant(env, o, plan, ablation, bottleneck, new Set(Object.keys(linkNames)), queueUrl));
      // The queue drains and the last batch answers finish before the next variant.
      await sleep(3000, undefined, { signal: env.signal });
    }
    return { ablation, topology: topo, variants, linkNames, bottleneck, transport: { available, default: defaultCongctl }, ...(queue ? { queue } : {}) };
  },
  report: (m, ctx) => writePriorityReport(m, ctx),
};
