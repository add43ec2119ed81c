// The management network of a lab run: processes on Mininet hosts (sidecars, the load
// generator) must reach the broker and the runner in the root namespace, but never over the
// data-plane links being measured. So each host gets a second interface, `mgmt0`, a veth into a
// root-namespace Linux bridge `mfm<run>` that carries only control traffic (MQTT, admin scrapes).
// Addresses: 10.255.<n>.0/24 with n chosen per run so that runs side by side never share a
// subnet; the root side is .254. Everything is named after the run and removed by name.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MgmtHost {
  readonly name: string;
  /** The host's pinned network namespace (MininetNetwork.hostInfo(name).netns). */
  readonly netns: string;
}

export const MGMT_INTF = 'mgmt0';

async function ip(...args: string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

/** The subnets 10.255.n.0/24 already used in the root namespace. */
async function usedSubnets(): Promise<Set<number>> {
  const out = await ip('-4', '-o', 'addr', 'show');
  const used = new Set<number>();
  for (const m of out.matchAll(/inet 10\.255\.(\d+)\.\d+\//g)) used.add(Number(m[1]));
  return used;
}

/** Subnet number for a run: derived from its id, moved along past any that are taken. */
export function pickSubnet(runId: string, used: ReadonlySet<number>): number {
  let h = 0;
  for (const c of runId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  for (let i = 0; i < 250; i++) {
    const n = ((h + i) % 250) + 1;
    if (!used.has(n)) return n;
  }
  throw new Error('management network: no free 10.255.n.0/24 subnet');
}

export class ManagementNet {
  private readonly addrs = new Map<string, string>();
  private removed = false;

  private constructor(
    readonly bridge: string,
    readonly subnet: number,
    private readonly veths: string[],
  ) {}

  /** Address of the root namespace on the management bridge (the broker listens here). */
  get rootAddress(): string {
    return `10.255.${this.subnet}.254`;
  }

  addressOf(host: string): string {
    const a = this.addrs.get(host);
    if (a === undefined) throw new Error(`management network: no address for ${host}`);
    return a;
  }

  /** Creates the run's bridge with the root namespace's address; hosts are attached later. */
  static async create(runId: string): Promise<ManagementNet> {
    const bridge = `mfm${runId}`;
    const subnet = pickSubnet(runId, await usedSubnets());
    const net = new ManagementNet(bridge, subnet, []);
    try {
      await ip('link', 'add', bridge, 'type', 'bridge');
      await ip('addr', 'add', `${net.rootAddress}/24`, 'dev', bridge);
      await ip('link', 'set', bridge, 'up');
      return net;
    } catch (err) {
      await net.remove();
      throw err;
    }
  }

  /** Gives each host an interface `mgmt0` on the bridge: host i gets 10.255.n.i. */
  async attach(hosts: readonly MgmtHost[]): Promise<void> {
    for (const h of hosts) {
      const i = this.addrs.size + 1;
      const veth = `${this.bridge}-${i}`;
      const addr = `10.255.${this.subnet}.${i}`;
      await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', MGMT_INTF, 'netns', h.netns);
      this.veths.push(veth);
      await ip('link', 'set', veth, 'master', this.bridge, 'up');
      await ip('-n', h.netns, 'addr', 'add', `${addr}/24`, 'dev', MGMT_INTF);
      await ip('-n', h.netns, 'link', 'set', MGMT_INTF, 'up');
      await ip('-n', h.netns, 'link', 'set', 'lo', 'up');
      this.addrs.set(h.name, addr);
    }
  }

  /** Removes the veths and the bridge; idempotent, and quiet about parts already gone. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    for (const v of this.veths) await ip('link', 'del', v).catch(() => undefined);
    await ip('link', 'del', this.bridge).catch(() => undefined);
  }
}

/** Names of management bridges present now (tests check that none of a run is left). */
export async function mgmtBridges(): Promise<string[]> {
  const out = await ip('-o', 'link', 'show', 'type', 'bridge');
  return [...out.matchAll(/^\d+: (mfm[a-z0-9]{4})[:@]/gm)].map((m) => m[1] as string);
}
