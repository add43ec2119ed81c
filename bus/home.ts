// Where meshflow keeps its state on this machine: bus accounts and signing keys.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $MESHFLOW_HOME, else ~/.meshflow. */
export function meshflowHome(): string {
  return process.env['MESHFLOW_HOME'] || join(homedir(), '.meshflow');
}
