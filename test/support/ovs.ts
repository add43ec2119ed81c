// Real Open vSwitch bridges for tests, with names of their own: "mt-<pid>-<n>" (pid in base 36).
// Everything a test creates is named after the creating process, so a crashed run's leftovers are
// found by name and removed once that process is gone, and two runs never touch each other's parts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const PREFIX = 'mt-';
const tag = `${PREFIX}${process.pid.toString(36)}-`;
let counter = 0;

export async function sh(cmd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await exec(cmd, args, { maxBuffer: 16 << 20 });
  return stdout;
}

export const vsctl = (...args: string[]): Promise<string> => sh('ovs-vsctl', ['--timeout=10', ...args]);
export const ofctl = (...args: string[]): Promise<string> => sh('ovs-ofctl', ['-O', 'OpenFlow13', ...args]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function staleOwner(name: string): boolean {
  const m = /^mt-([0-9a-z]+)-/.exec(name);
  if (!m?.[1]) return false;
  const pid = parseInt(m[1], 36);
  return pid !== process.pid && !alive(pid);
}

/** Removes bridges, namespaces and links left by test processes that no longer exist. */
export async function cleanStale(): Promise<void> {
  for (const br of (await vsctl('list-br')).split('\n').filter(staleOwner)) await vsctl('--if-exists', 'del-br', br);
  for (const ns of (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0] ?? '').filter(staleOwner)) {
    await sh('ip', ['netns', 'del', ns]);
  }
  for (const line of (await sh('ip', ['-o', 'link'])).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    if (name && staleOwner(name)) await sh('ip', ['link', 'del', name]).catch(() => undefined);
  }
}

export interface TestHost {
  readonly ns: string;
  readonly ofport: number;
  readonly bridgeIf: string;
  readonly ip: string;
}

/**
 * A netdev bridge speaking OpenFlow 1.3 to a controller, with hosts: each host is a network namespace
 * joined to the bridge by a veth pair on OpenFlow port 1, 2, ...
 */
export class TestBridge {
  private constructor(
    readonly name: string,
    readonly hosts: readonly TestHost[],
  ) {}

  static async create(opts: { controllerPort: number; hosts: number; subnet?: number }): Promise<TestBridge> {
    const n = counter++;
    const name = `${tag}${n.toString(36)}`;
    const subnet = opts.subnet ?? 10 + (process.pid % 200);
    const hosts: TestHost[] = [];
    const bridge = new TestBridge(name, hosts);
    try {
      await vsctl(
        'add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail_mode=secure',
        `other-config:datapath-id=${(0xfe0000000000n + BigInt(process.pid) * 256n + BigInt(n)).toString(16).padStart(16, '0')}`,
      );
      for (let i = 1; i <= opts.hosts; i++) {
        const host: TestHost = { ns: `${name}n${i}`, ofport: i, bridgeIf: `${name}v${i}`, ip: `10.${subnet}.0.${i}` };
        const inner = `${name}h${i}`;
        await sh('ip', ['netns', 'add', host.ns]);
        hosts.push(host);
        await sh('ip', ['link', 'add', host.bridgeIf, 'type', 'veth', 'peer', 'name', inner]);
        await sh('ip', ['link', 'set', inner, 'netns', host.ns]);
        await sh('ip', ['link', 'set', host.bridgeIf, 'up']);
        await sh('ip', ['netns', 'exec', host.ns, 'ip', 'addr', 'add', `${host.ip}/24`, 'dev', inner]);
        await sh('ip', ['netns', 'exec', host.ns, 'ip', 'link', 'set', inner, 'up']);
        await sh('ip', ['netns', 'exec', host.ns, 'ip', 'link', 'set', 'lo', 'up']);
        await vsctl('add-port', name, host.bridgeIf, '--', 'set', 'interface', host.bridgeIf, `ofport_request=${i}`);
      }
      await bridge.setController(opts.controllerPort);
    } catch (err) {
      await bridge.destroy();
      throw err;
    }
    return bridge;
  }

  async setController(port: number): Promise<void> {
    // A short backoff so a restarted controller is found again within a second or two.
    await vsctl('set-controller', this.name, `tcp:127.0.0.1:${port}`, '--', 'set', 'controller', this.name, 'max_backoff=1000');
  }

  async dpid(): Promise<string> {
    return (await vsctl('get', 'bridge', this.name, 'datapath_id')).trim().replace(/"/g, '');
  }

  inNs(host: TestHost, cmd: string, args: readonly string[]): Promise<string> {
    return sh('ip', ['netns', 'exec', host.ns, cmd, ...args]);
  }

  async destroy(): Promise<void> {
    await vsctl('--if-exists', 'del-br', this.name);
    for (const h of this.hosts) {
      await sh('ip', ['netns', 'del', h.ns]).catch(() => undefined);
      await sh('ip', ['link', 'del', h.bridgeIf]).catch(() => undefined);
    }
  }
}
