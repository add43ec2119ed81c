// The meshflow command line: one subcommand per piece, each registered by a module of its own.
import { Command } from 'commander';
import { register as controller, startControllerCommand } from './controller.ts';
import { register as bridge } from './bridge.ts';
import { register as decode } from './decode.ts';
import { register as hints } from './hints.ts';
import { register as replay } from './replay.ts';
import { register as sidecar } from './sidecar.ts';
import { ensureSystem } from './system.ts';

const program = new Command('meshflow')
  .description('OpenFlow 1.3 controller with a mesh-coordination bridge')
  .showHelpAfterError('(run with --help to see the commands and their flags)');

program
  .command('start')
  .description('set up what is missing, then run everything on embedded defaults')
  .action(async () => {
    ensureSystem();
    await startControllerCommand({ ofHost: '0.0.0.0', ofPort: 6653, apiHost: '127.0.0.1', apiPort: 8080, echoInterval: 5000 });
  });

controller(program);
bridge(program);
sidecar(program);
decode(program);
replay(program);
hints(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`meshflow: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
