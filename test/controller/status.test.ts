// The controller on the bus: it announces itself online (retained), and when it dies without a
// word its last will, delivered by a real Mosquitto, marks it offline.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { subscribeHints, type HintSubscription } from '../../bus/subscriber.ts';
import { patterns } from '../../bus/topics.ts';
import type { ControllerStatusHint } from '../../bus/hints.ts';
import { startMosquitto, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

describe('controller status on the bus (Mosquitto, a real controller process)', function () {
  this.timeout(30_000);
  let mosquitto: Service;
  let sub: HintSubscription;
  const seen: ControllerStatusHint[] = [];

  before(async () => {
    mosquitto = await startMosquitto();
    sub = await subscribeHints(mosquitto.url, [patterns.controllers], (h) => {
      if (h.kind === 'controller_status') seen.push(h);
    });
  });
  after(async () => {
    await sub?.close();
    await mosquitto?.stop();
  });

  it('is online while it runs and offline by its last will once killed', async () => {
    const id = `ctl-${process.pid}`;
    const child = spawn(
      process.execPath,
      ['bin/meshflow.js', 'controller', '--of-port', '0', '--api-port', '0', '--mqtt-url', mosquitto.url, '--controller-id', id, '--event-log', '/dev/null'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const online = await waitFor('online', () => seen.find((h) => h.controllerId === id && h.state === 'online'), { timeoutMs: 20_000 });
      assert.match(online.apiUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      child.kill('SIGKILL');
      const offline = await waitFor('offline by last will', () => seen.find((h) => h.controllerId === id && h.state === 'offline'), { timeoutMs: 20_000 });
      assert.ok(offline.seq < online.seq, 'the will was stamped at connect time, before the online announcement');
    } catch (err) {
      throw new Error(`${(err as Error).message}\ncontroller stderr:\n${stderr}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
