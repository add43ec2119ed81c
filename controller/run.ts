// Starts the controller process: the OpenFlow listener and the northbound API, stopped together.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Controller } from './controller.ts';
import { startApi } from './api/server.ts';
import { StreamHub } from './api/stream.ts';
import { ControllerMetrics } from './api/metrics.ts';
import { Network, type NetworkOptions } from './routing/network.ts';

export interface RunOptions {
  readonly ofHost?: string;
  readonly ofPort?: number;
  readonly apiHost?: string;
  readonly apiPort?: number;
  readonly echoIntervalMs?: number;
  readonly logger?: Logger;
  /** LLDP period; a link unheard for 3.5 periods goes down (default 1000 ms). */
  readonly lldpIntervalMs?: number;
  /** Link capacities in bit/s by sending port "<dpid>:<port>" (e.g. from a topology file). */
  readonly capacities?: NetworkOptions['capacities'];
  /** Spread flows over equal-cost paths (default true); false: one path per host pair. */
  readonly ecmp?: boolean;
  /** Host names by MAC, for the API (e.g. from a topology file). */
  readonly hostNames?: NetworkOptions['hostNames'];
}

export interface RunningController {
  readonly controller: Controller;
  readonly api: FastifyInstance;
  /** Publish here what clients of /api/v1/stream should see (link states, events, weights, lab progress). */
  readonly hub: StreamHub;
  /** The monitor reports link load here (setLink) for /metrics. */
  readonly metrics: ControllerMetrics;
  /** Link and host discovery, and forwarding between hosts. */
  readonly network: Network;
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
  const network = new Network(controller, {
    lldpIntervalMs: opts.lldpIntervalMs,
    capacities: opts.capacities,
    ecmp: opts.ecmp,
    hostNames: opts.hostNames,
    logger: opts.logger,
  });
  // Before listening, so no switch can join unseen.
  network.start();
  let ofPort: number;
  try {
    ({ port: ofPort } = await controller.listen());
  } catch (err) {
    network.stop();
    throw err;
  }
  const hub = new StreamHub();
  const metrics = new ControllerMetrics(controller, { hub });
  let api: FastifyInstance;
  try {
    api = await startApi(controller, { host: opts.apiHost, port: opts.apiPort, hub, metrics, network });
  } catch (err) {
    metrics.close();
    network.stop();
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
    network,
    ofPort,
    apiUrl: `http://${opts.apiHost ?? '127.0.0.1'}:${apiPort}`,
    async stop() {
      metrics.close();
      network.stop();
      await Promise.all([api.close(), controller.close()]);
    },
  };
}
