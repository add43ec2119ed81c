// Makes sure the system parts (Debian packages, Open vSwitch daemons) are there before a command needs them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/system.sh', import.meta.url));

export function ensureSystem(): void {
  const r = spawnSync('bash', [script], { stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error('system set-up failed: see the message above for the command to run');
  }
}
