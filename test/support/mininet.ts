// A controller and a Mininet network of one shipped topology, started together and stopped
// together: the set-up every network-level integration test shares.
import { runController, type RunOptions, type RunningController } from '../../controller/run.ts';
import { networkOptionsFromTopology } from '../../controller/routing/network.ts';
import { edgePorts } from '../../controller/topology/snapshot.ts';
import { MininetNetwork } from '../../topologies/network.ts';
import { loadTopology, type Topology } from '../../topologies/topology.ts';
import { waitFor } from './wait.ts';

export interface ControlledNetwork {
  readonly running: RunningController;
  readonly net: MininetNetwork;
  readonly topo: Topology;
  /** dpid of a switch by its topology name */
  dpid(switchName: string): string;
  /** a host's IPv4 address without its prefix length */
  ip(host: string): string;
  ping(from: string, to: string, count?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startControlledNetwork(name: string, opts: RunOptions = {}): Promise<ControlledNetwork> {
  const topo = loadTopology(name);
  const running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, lldpIntervalMs: 500, ...networkOptionsFromTopology(topo), ...opts });
  let net: MininetNetwork | undefined;
  const stop = async (): Promise<void> => {
    try {
      await net?.stop();
    } finally {
      await running.stop();
    }
  };
  try {
    net = await MininetNetwork.start(topo, { controller: { host: '127.0.0.1', port: running.ofPort } });
    const n = net;
    await waitFor('every switch to connect', () => running.controller.switches.size === topo.switches.length, { timeoutMs: 30_000 });
    // Host ports flood and learn only once settled (a port that is really a cable must not flood),
    // so traffic sent before that would lose its first packets by design.
    const hostPorts = topo.hosts.map((h) => {
      const info = n.hostInfo(h.name);
      return `${n.ports().switches.find((s) => s.name === info.switch)?.dpid}:${info.port}`;
    });
    await waitFor('every host port to be a settled edge port', () => {
      const edges = new Set(edgePorts(running.network.discovery.snapshot()).map((e) => `${e.dpid}:${e.port}`));
      return hostPorts.every((p) => edges.has(p));
    }, { timeoutMs: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  const n = net;
  const dpids = new Map(n.ports().switches.map((s) => [s.name, s.dpid]));
  const ip = (host: string): string => n.hostInfo(host).ip.split('/')[0] ?? '';
  return {
    running,
    net: n,
    topo,
    dpid: (s) => {
      const d = dpids.get(s);
      if (!d) throw new Error(`no switch ${s} in ${name}`);
      return d;
    },
    ip,
    async ping(from, to, count = 3) {
      const r = await n.cmd(from, `ping -c ${count} -i 0.2 -W 2 ${ip(to)}`, { timeoutMs: 20_000 });
      return r.code === 0 && / 0% packet loss/.test(r.output);
    },
    stop,
  };
}
