// A packet-in storm against real Open vSwitch bridges: one host sends ARP with a new source MAC per
// frame as fast as it can, while the controller must keep answering its API and echoes, keep a quiet
// second switch connected, shed the excess (counted by admission, or dropped by the switch's own
// meter on the table-miss entry), and forward between hosts right after.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runController, type RunOptions, type RunningController } from '../../controller/run.ts';
import { TestBridge, cleanStale, ofctl, type TestHost } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';
import { parseProm, valueOf } from '../api/prom.ts';

const SENDER = fileURLToPath(new URL('./storm-sender.py', import.meta.url));
/** Each API and echo request of the storm gets this long to be answered; later counts as unanswered. */
const ANSWER_WITHIN_MS = 10_000;

interface StormResult {
  readonly sent: number;
}

async function innerInterface(bridge: TestBridge, host: TestHost): Promise<string> {
  const out = await bridge.inNs(host, 'ip', ['-o', 'link', 'show']);
  const name = out.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).find((n) => n !== undefined && n !== 'lo');
  if (!name) throw new Error(`no interface in ${host.ns}`);
  return name;
}

/** Runs the sender in the host's namespace: bounded by frame count and by seconds, whichever ends first. */
function storm(host: TestHost, iface: string, opts: { count: number; seconds: number }): Promise<StormResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ip',
      ['netns', 'exec', host.ns, '/usr/bin/python3', SENDER, '--iface', iface, '--count', String(opts.count), '--seconds', String(opts.seconds)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`storm sender exited with ${code}: ${err}`));
      resolve(JSON.parse(out) as StormResult);
    });
  });
}

async function ping(bridge: TestBridge, from: TestHost, to: TestHost): Promise<boolean> {
  // ping exits 0 when any reply came back.
  return bridge.inNs(from, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', to.ip]).then(
    () => true,
    () => false,
  );
}

async function metric(running: RunningController, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const res = await fetch(`${running.apiUrl}/metrics`);
  assert.equal(res.status, 200);
  return valueOf(parseProm(await res.text()), name, labels);
}

interface Variant {
  readonly title: string;
  readonly options: Pick<RunOptions, 'admission' | 'tableMiss'>;
  /** What shows that the excess was shed, checked after the storm. */
  shed(running: RunningController, stormy: TestBridge, dpid: string, quietDpid: string): Promise<void>;
}

const variants: Variant[] = [
  {
    title: 'admission alone (no meter): the controller drops the excess and counts it',
    options: { admission: { rate: 200, burst: 200 }, tableMiss: { meterRate: 0 } },
    async shed(running, stormy, dpid, quietDpid) {
      assert.doesNotMatch(await ofctl('dump-flows', stormy.name), /meter:/, 'no meter on the table-miss entry');
      const dropped = await metric(running, 'meshflow_packet_ins_dropped_total', { dpid });
      assert.ok(dropped !== undefined && dropped > 0, `dropped packet-ins of the stormy switch: ${dropped}`);
      const total = await metric(running, 'meshflow_admission_dropped_total');
      assert.ok(total !== undefined && total >= dropped, `dropped over every switch: ${total}`);
      assert.ok(((await metric(running, 'meshflow_packet_ins_dropped_total', { dpid: quietDpid })) ?? 0) === 0, 'the quiet switch lost nothing');
    },
  },
  {
    title: 'a meter on the table-miss entry: the switch drops the excess itself',
    options: { admission: { rate: 500, burst: 500 }, tableMiss: { meterRate: 200, meterBurst: 200 } },
    async shed(_running, stormy) {
      assert.match(await ofctl('dump-flows', stormy.name), /priority=0 actions=meter:1,CONTROLLER:65535/);
      const stats = await ofctl('meter-stats', stormy.name);
      const band = /meter:1 [^]*?0: packet_count:(\d+)/.exec(stats);
      assert.ok(band && Number(band[1]) > 0, `meter 1 dropped packets:\n${stats}`);
    },
  },
];

describe('a packet-in storm against real Open vSwitch bridges', function () {
  this.timeout(120_000);
  before(() => cleanStale());

  for (const variant of variants) {
    describe(variant.title, () => {
      let running: RunningController;
      let stormy: TestBridge;
      let quiet: TestBridge;
      const downs: string[] = [];

      before(async () => {
        running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000, lldpIntervalMs: 500, ...variant.options });
        running.controller.on('switch_down', (s, reason) => downs.push(`${s.dpid}: ${reason}`));
        stormy = await TestBridge.create({ controllerPort: running.ofPort, hosts: 3 });
        quiet = await TestBridge.create({ controllerPort: running.ofPort, hosts: 1, subnet: 250 - (process.pid % 200) });
      });

      after(async () => {
        await stormy?.destroy();
        await quiet?.destroy();
        await running?.stop();
      });

      it('keeps serving the API, echoes and a quiet switch, sheds the excess, and forwards right after', async () => {
        const [sender, a, b] = stormy.hosts as [TestHost, TestHost, TestHost];
        const dpid = await stormy.dpid();
        const quietDpid = await quiet.dpid();
        await waitFor('both switches to connect', () => running.controller.switches.has(dpid) && running.controller.switches.has(quietDpid), { timeoutMs: 30_000 });
        // Host ports forward only once settled: a ping that works shows they are.
        await waitFor('a ping between two hosts before the storm', () => ping(stormy, a, b), { timeoutMs: 30_000 });
        const sessions = [running.controller.switches.get(dpid), running.controller.switches.get(quietDpid)];
        downs.length = 0;

        const iface = await innerInterface(stormy, sender);
        let stormOver = false;
        const flood = storm(sender, iface, { count: 300_000, seconds: 5 }).finally(() => (stormOver = true));
        let healthz = 0;
        const healthzFailures: string[] = [];
        let echoes = 0;
        const echoFailures: string[] = [];
        const probeApi = async (): Promise<void> => {
          while (!stormOver) {
            const res = await fetch(`${running.apiUrl}/api/v1/healthz`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }).catch((e: Error) => e);
            healthz++;
            if (res instanceof Error || res.status !== 200) healthzFailures.push(res instanceof Error ? res.message : `status ${res.status}`);
            else await res.arrayBuffer();
          }
        };
        const probeEchoes = async (): Promise<void> => {
          while (!stormOver) {
            for (const s of sessions) {
              const reply = await Promise.race([
                s!.request({ type: 'echo_request', data: Buffer.from('storm') }).catch((e: Error) => e),
                new Promise<Error>((r) => setTimeout(() => r(new Error('no echo reply')), ANSWER_WITHIN_MS).unref()),
              ]);
              echoes++;
              if (reply instanceof Error || reply.type !== 'echo_reply') echoFailures.push(`${s!.dpid}: ${reply instanceof Error ? reply.message : reply.type}`);
            }
          }
        };
        const [result] = await Promise.all([flood, probeApi(), probeEchoes()]);

        assert.ok(result.sent > 10_000, `the storm sent ${result.sent} frames`);
        assert.ok(healthz > 0, 'healthz was asked during the storm');
        assert.deepEqual(healthzFailures, [], `healthz unanswered ${healthzFailures.length} of ${healthz} times`);
        assert.ok(echoes > 0, 'echoes were sent during the storm');
        assert.deepEqual(echoFailures, [], `echoes unanswered ${echoFailures.length} of ${echoes} times`);
        await variant.shed(running, stormy, dpid, quietDpid);

        // Right after: a pair that never spoke needs the controller (ARP, a new flow) and gets it.
        assert.ok(await ping(stormy, b, sender), 'a ping from a quiet host to the storm host right after the storm');
        assert.deepEqual(downs, [], 'no switch went down');
        assert.equal(running.controller.switches.get(dpid), sessions[0], 'the stormy switch kept its session');
        assert.equal(running.controller.switches.get(quietDpid), sessions[1], 'the quiet switch kept its session');
        const health = await fetch(`${running.apiUrl}/api/v1/healthz`);
        assert.deepEqual(await health.json(), { ok: true, switches: 2 });
      });
    });
  }
});
