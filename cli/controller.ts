// meshflow controller: the OpenFlow 1.3 controller and its northbound API.
import type { Command } from 'commander';
import { runController } from '../controller/run.ts';
import { createLogger } from './logger.ts';
import { intOption } from './options.ts';

export function register(program: Command): void {
  program
    .command('controller')
    .description('run the OpenFlow 1.3 controller and its REST API')
    .option('--of-host <host>', 'address the OpenFlow listener binds', '0.0.0.0')
    .option('--of-port <port>', 'OpenFlow TCP port', intOption, 6653)
    .option('--api-host <host>', 'address the REST API binds', '127.0.0.1')
    .option('--api-port <port>', 'REST API port', intOption, 8080)
    .option('--echo-interval <ms>', 'echo interval; a switch silent for three intervals is dead', intOption, 5000)
    .action(async (o: { ofHost: string; ofPort: number; apiHost: string; apiPort: number; echoInterval: number }) => {
      await startControllerCommand(o);
    });
}

export async function startControllerCommand(o: {
  ofHost: string;
  ofPort: number;
  apiHost: string;
  apiPort: number;
  echoInterval: number;
}): Promise<void> {
  const logger = createLogger('controller');
  const running = await runController({
    ofHost: o.ofHost,
    ofPort: o.ofPort,
    apiHost: o.apiHost,
    apiPort: o.apiPort,
    echoIntervalMs: o.echoInterval,
    logger,
  });
  logger.info({ ofPort: running.ofPort, api: running.apiUrl }, 'meshflow controller running (Ctrl-C stops it)');
  const stop = (): void => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
