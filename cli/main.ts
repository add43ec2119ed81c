// The meshflow command line: one subcommand per piece, each registered by a module of its own.
import { Command } from 'commander';
import { addControllerOptions, register as controller, startControllerCommand, type ControllerFlags } from './controller.ts';
import { register as bridge } from './bridge.ts';
import { register as decode } from './decode.ts';
import { register as hints } from './hints.ts';
import { register as replay } from './replay.ts';
import { register as sidecar } from './sidecar.ts';
import { ensureSystem } from './system.ts';

const program = new Command('meshflow')
  .description('OpenFlow 1.3 controller with a mesh-coordination bridge')
  .showHelpAfterError('(run with --help to see the commands and their flags)');

addControllerOptions(
  program.command('start').description('set up what is missing, then run everything on embedded defaults'),
).action(async (o: ControllerFlags) => {
  ensureSystem();
  await startControllerCommand(o);
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
