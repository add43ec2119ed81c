// Starts the controller process: the OpenFlow listener and the northbound API, stopped together.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Controller } from './controller.ts';
import { startApi } from './api/server.ts';
import { StreamHub } from './api/stream.ts';
import { ControllerMetrics } from './api/metrics.ts';

export interface RunOptions {
  readonly ofHost?: string;
  readonly ofPort?: number;
  readonly apiHost?: string;
  readonly apiPort?: number;
  readonly echoIntervalMs?: number;
  readonly logger?: Logger;
}

export interface RunningController {
  readonly controller: Controller;
  readonly api: FastifyInstance;
  /** Publish here what clients of /api/v1/stream should see (link states, events, weights, lab progress). */
  readonly hub: StreamHub;
  /** The monitor reports link load here (setLink) for /metrics. */
  readonly metrics: ControllerMetrics;
  readonly ofPort: number;
  readonly apiUrl: string;
  stop(): Promise<void>;
}

export async function runController(opts: RunOptions = {}): Promise<RunningController> {
  const controller = new Controller({
    host: opts.ofHost,
    port: opts.ofPort,
    echoIntervalMs: opts.echoIntervalMs,
    logger: opts.logger,
  });
  const { port: ofPort } = await controller.listen();
  const hub = new StreamHub();
  const metrics = new ControllerMetrics(controller, { hub });
  let api: FastifyInstance;
  try {
    api = await startApi(controller, { host: opts.apiHost, port: opts.apiPort, hub, metrics });
  } catch (err) {
    metrics.close();
    await controller.close();
    throw err;
  }
  const addr = api.server.address();
  const apiPort = addr !== null && typeof addr === 'object' ? addr.port : 0;
  return {
    controller,
    api,
    hub,
    metrics,
    ofPort,
    apiUrl: `http://${opts.apiHost ?? '127.0.0.1'}:${apiPort}`,
    async stop() {
      metrics.close();
      await Promise.all([api.close(), controller.close()]);
    },
  };
}
