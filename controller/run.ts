// Starts the controller process: the OpenFlow listener and the northbound API, stopped together.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Controller } from './controller.ts';
import { startApi } from './api/server.ts';

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
  let api: FastifyInstance;
  try {
    api = await startApi(controller, { host: opts.apiHost, port: opts.apiPort });
  } catch (err) {
    await controller.close();
    throw err;
  }
  const addr = api.server.address();
  const apiPort = addr !== null && typeof addr === 'object' ? addr.port : 0;
  return {
    controller,
    api,
    ofPort,
    apiUrl: `http://${opts.apiHost ?? '127.0.0.1'}:${apiPort}`,
    async stop() {
      await Promise.all([api.close(), controller.close()]);
    },
  };
}
