// The live stream checks Origin: a page from another site cannot open /api/v1/stream; the API's own
// pages, configured origins and clients that send no Origin (not browsers) can.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { runController, type RunningController } from '../../controller/run.ts';
import { originAllowed } from '../../controller/api/stream.ts';

/** Opens the stream with these headers: the first frame's kind, or the HTTP status it was refused with. */
function open(url: string, origin: string | undefined): Promise<{ kind?: string; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('message', (data: Buffer) => {
      ws.close();
      resolve({ kind: (JSON.parse(data.toString()) as { kind: string }).kind });
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('reliability: the stream checks Origin', function () {
  this.timeout(30_000);
  let running: RunningController | undefined;
  let streamUrl = '';

  before(async () => {
    running = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, readShaping: false, allowOrigins: ['https://dash.example:3000'] });
    streamUrl = `${running.apiUrl.replace(/^http/, 'ws')}/api/v1/stream`;
  });
  after(async () => running?.stop());

  it('refuses a foreign Origin with 403, before any socket, and counts it', async () => {
    assert.deepEqual(await open(streamUrl, 'http://evil.example'), { status: 403 });
    // Same host name, another port: another origin.
    assert.deepEqual(await open(streamUrl, 'http://127.0.0.1:1'), { status: 403 });
    assert.deepEqual(await open(streamUrl, 'null'), { status: 403 });
    const metrics = await (await fetch(`${running!.apiUrl}/metrics`)).text();
    assert.match(metrics, /meshflow_stream_refused_origin_total 3/);
  });

  it('accepts the API\'s own origin, a configured one, and no Origin at all', async () => {
    assert.deepEqual(await open(streamUrl, running!.apiUrl), { kind: 'hello' });
    assert.deepEqual(await open(streamUrl, 'https://dash.example:3000'), { kind: 'hello' });
    assert.deepEqual(await open(streamUrl, undefined), { kind: 'hello' });
  });

  it('compares origins, not strings', () => {
    const allowed = new Set(['https://dash.example:3000']);
    assert.equal(originAllowed('HTTPS://Dash.Example:3000', undefined, allowed), true);
    assert.equal(originAllowed('https://dash.example', undefined, allowed), false);
    assert.equal(originAllowed('http://localhost:8080', 'localhost:8080', allowed), true);
    assert.equal(originAllowed('http://localhost:8080', '127.0.0.1:8080', allowed), false);
    assert.equal(originAllowed('not a url', 'x', allowed), false);
  });
});
