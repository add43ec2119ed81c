// A network whose driving process dies without a word (SIGKILL) does not outlive it: the builder
// notices (its stdin closes, or failing that its parent changes) and removes the run's bridges,
// namespaces and links by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sh, vsctl } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';

const DRIVER = `
import { MininetNetwork } from './topologies/network.ts';
const net = await MininetNetwork.start('linear-4', { failMode: 'standalone' });
console.log(JSON.stringify({ runId: net.runId, builderPid: net.builderPid }));
setInterval(() => undefined, 1000);
`;

describe('topologies: a driver killed with SIGKILL', function () {
  this.timeout(120_000);

  it('takes its network with it', async () => {
    const driver = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', DRIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: driver.stdout! }).once('line', resolve);
      driver.once('exit', (code) => reject(new Error(`driver exited with ${code}`)));
    });
    const { runId, builderPid } = JSON.parse(line) as { runId: string; builderPid: number };
    const ours = async (): Promise<string[]> => (await vsctl('list-br')).split('\n').filter((b) => b.startsWith(`mf${runId}`));
    assert.equal((await ours()).length, 4, 'the four bridges of linear-4 exist');
    driver.kill('SIGKILL');
    await waitFor('the builder to remove the bridges', async () => (await ours()).length === 0, { timeoutMs: 60_000 });
    await waitFor('the builder to exit', () => {
      try {
        process.kill(builderPid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const links = await sh('ip', ['-o', 'link']);
    assert.ok(!links.includes(`mf${runId}`), 'no link of the run is left');
  });
});
