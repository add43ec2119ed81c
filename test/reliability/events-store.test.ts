// GET /api/v1/events with its store away: a real Redis the test started, paused (SIGSTOP) and then
// stopped. The answer is 503 with a reason, never a 500 and never a request left hanging.
import assert from 'node:assert/strict';
import { runController, type RunningController } from '../../controller/run.ts';
import { startRedis, type Service } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

async function getEvents(apiUrl: string): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = Date.now();
  // The client gives up long after the API should have answered: a hang fails the test, not the suite.
  const res = await fetch(`${apiUrl}/api/v1/events`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json(), ms: Date.now() - t0 };
}

describe('reliability: /api/v1/events with its store away', function () {
  this.timeout(60_000);
  let redis: Service | undefined;
  let running: RunningController | undefined;
  let paused = false;

  before(async () => {
    redis = await startRedis();
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, eventLog: redis.url, readShaping: false });
  });

  after(async () => {
    if (paused && redis) process.kill(redis.pid, 'SIGCONT');
    await running?.stop();
    await redis?.stop();
  });

  it('answers 200 while Redis is up', async () => {
    const r = await getEvents(running!.apiUrl);
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
  });

  it('answers 503 with a reason while Redis is paused (SIGSTOP), and 200 again after SIGCONT', async () => {
    process.kill(redis!.pid, 'SIGSTOP');
    paused = true;
    const r = await getEvents(running!.apiUrl);
    console.log(`      paused Redis: ${r.status} in ${r.ms} ms`);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.match((r.body as { message: string }).message, /event store did not answer/);
    process.kill(redis!.pid, 'SIGCONT');
    paused = false;
    await waitFor('events readable again', async () => (await getEvents(running!.apiUrl)).status === 200);
  });

  it('answers 503 with a reason once Redis is stopped', async () => {
    await redis!.stop();
    const r = await getEvents(running!.apiUrl);
    console.log(`      stopped Redis: ${r.status} in ${r.ms} ms`);
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal((r.body as { error: string }).error, 'unavailable');
  });
});
