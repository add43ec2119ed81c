// The meshflow command line: one subcommand per piece, each in a module of its own.
import { Command } from 'commander';

const program = new Command('meshflow')
  .description('OpenFlow 1.3 controller with a mesh-coordination bridge')
  .showHelpAfterError('(run with --help to see the commands and their flags)');

await program.parseAsync(process.argv);
