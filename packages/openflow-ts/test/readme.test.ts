// The README's examples are the files in examples/, and they run: the stream decoder prints
// what it decoded, the flow-mod is what Open vSwitch reads back, and the minimal controller
// programs a real Open vSwitch bridge (skipped, saying why, where Open vSwitch is not usable).
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decode } from 'openflow-ts';
import { waitFor } from '../../../test/support/wait.ts';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const exec = promisify(execFile);
const runExample = async (file: string): Promise<string> =>
  (await exec(process.execPath, ['--import', 'tsx', path.join('examples', file)], { cwd: pkg })).stdout;

function ovsUsable(): boolean {
  try {
    execFileSync('ovs-vsctl', ['--timeout=5', 'show'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('openflow-ts: README examples', () => {
  it('shows exactly the example files, in order', () => {
    const blocks = [...readFileSync(path.join(pkg, 'README.md'), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    const files = ['decode-stream.js', 'flow-mod.js', 'controller.js'].map((f) => readFileSync(path.join(pkg, 'examples', f), 'utf8'));
    assert.deepStrictEqual(blocks, files);
  });

  it('decodes the split stream', async () => {
    assert.equal(await runExample('decode-stream.js'), 'hello 1\necho_request 2\n');
  });

  it('builds the flow-mod the README describes', async () => {
    const hex = (await runExample('flow-mod.js')).trim();
    const msg = decode(Buffer.from(hex, 'hex'));
    assert.equal(msg.type, 'flow_mod');
    assert.equal(msg.priority, 1000);
    assert.deepStrictEqual(msg.match.map((f) => f.field), ['in_port', 'eth_type', 'ip_proto', 'ipv4_dst', 'tcp_dst']);
    if (ovsUsable()) {
      const printed = execFileSync('ovs-ofctl', ['ofp-print', hex, '4'], { encoding: 'utf8' });
      assert.match(printed, /ADD priority=1000,tcp,in_port=1,nw_dst=10\.0\.1\.7,tp_dst=80 idle:30 send_flow_rem actions=output:2/);
    }
  });

  describe('the minimal controller, against Open vSwitch', function () {
    const bridge = `oftr-${process.pid.toString(36)}`;
    let controller: ChildProcess | undefined;
    let output = '';

    before(function () {
      if (!ovsUsable()) this.skip();
    });

    after(async () => {
      if (controller?.pid !== undefined && controller.exitCode === null) controller.kill();
      await exec('ovs-vsctl', ['--timeout=10', '--if-exists', 'del-br', bridge]).catch(() => undefined);
    });

    it('installs its table-miss flow on a bridge that connects to it', async () => {
      controller = spawn(process.execPath, ['--import', 'tsx', 'examples/controller.js'], { cwd: pkg, env: { ...process.env, PORT: '0' } });
      controller.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      controller.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const port = await waitFor('the controller to listen', () => /listening on (\d+)/.exec(output)?.[1]);
      await exec('ovs-vsctl', ['--timeout=10', 'add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev', 'protocols=OpenFlow13',
        'other-config:datapath-id=00000000000000a1', '--', 'set-controller', bridge, `tcp:127.0.0.1:${port}`]);
      await waitFor('the switch to connect', () => /switch a1 connected/.test(output), { timeoutMs: 30_000 });
      const flows = await waitFor('the table-miss flow', async () => {
        const { stdout } = await exec('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', bridge]);
        return /priority=0 actions=CONTROLLER:65535/.test(stdout) && stdout;
      });
      assert.match(flows, /priority=0 actions=CONTROLLER:65535/);
      assert.doesNotMatch(output, /closing:/);
    });
  });
});
