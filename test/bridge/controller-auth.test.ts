// The bridge talks to a real controller that requires a token: with the token its intent requests
// get through to the intents API (which judges the body), without it they are refused with 401.
import assert from 'node:assert/strict';
import { runController, type RunningController } from '../../controller/run.ts';
import { IntentsClient, IntentsError } from '../../bridge/intents-client.ts';

describe('bridge intents client against a controller with an API token', function () {
  this.timeout(20_000);
  let running: RunningController;
  before(async () => {
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, apiToken: 's3cret' });
  });
  after(() => running?.stop());

  const spec = { key: 'k', src: 'h1', dst: 'h3', policy: 'least-congested' } as const;

  it('is refused without the token', async () => {
    await assert.rejects(new IntentsClient(running.apiUrl).create(spec), (e: unknown) => e instanceof IntentsError && e.status === 401);
  });

  it('gets past authentication with the token (the unknown host is then the complaint)', async () => {
    await assert.rejects(
      new IntentsClient(running.apiUrl, { token: 's3cret' }).create(spec),
      (e: unknown) => e instanceof IntentsError && e.status === 400 && /unknown host/.test(e.message),
    );
  });
});
