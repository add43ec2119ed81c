// The meshflow command line: one subcommand per piece, each registered by a module of its own.
import { Command } from 'commander';
import { register as controller } from './controller.ts';
import { register as bridge } from './bridge.ts';
import { register as decode } from './decode.ts';
import { register as hints } from './hints.ts';
import { register as replay } from './replay.ts';
import { register as sidecar } from './sidecar.ts';
import { register as bus } from './bus.ts';
import { register as haproxyAgent } from './haproxy-agent.ts';
import { register as lab, startCommand } from './lab.ts';
import { intOption, portOption } from './options.ts';
import { applyConfig } from './config.ts';
import { explainFailure } from './failures.ts';

const program = new Command('meshflow')
  .description('OpenFlow 1.3 controller with a mesh-coordination bridge')
  .showHelpAfterError('(run with --help to see the commands and their flags)');

program
  .command('start')
  .description('set up what is missing, run the quickstart lab (coordination off vs on), print where its report is')
  .option('--duration <s>', 'seconds of measured load per variant', intOption)
  .option('--out <dir>', 'run folder (default runs/quickstart-<timestamp>/)')
  .option('--api-port <port>', 'port of the controller API and live dashboard during the run', portOption, 8080)
  .action(async (o: { duration?: number; out?: string; apiPort: number }) => startCommand(o));

controller(program);
bridge(program);
sidecar(program);
bus(program);
haproxyAgent(program);
decode(program);
replay(program);
hints(program);
lab(program);

// After every command is registered: each flag gets its MESHFLOW_<FLAG> variable and config-file key.
const config = applyConfig(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One place decides what a failure prints and its exit code (README "Exit codes").
  const failure = explainFailure(err, config.current());
  if (failure.message !== undefined) process.stderr.write(`meshflow: ${failure.message}\n`);
  // A command that failed half-way may hold sockets (an embedded broker, a listener) open: end here.
  if (failure.exitCode !== 0) process.exit(failure.exitCode);
}
