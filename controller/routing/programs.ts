// Carrying out switch programs: each switch's messages to its barrier, one switch after another in
// the order given (egress first, as planners order them).
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchProgram } from './forwarding.ts';

/** Runs the programs; returns how many failed. One switch refusing (or leaving) stops neither the rest nor later runs. */
export async function runPrograms(controller: Controller, programs: readonly SwitchProgram[], log: Logger | undefined, what: string): Promise<number> {
  let failed = 0;
  for (const p of programs) {
    const session = controller.switches.get(p.dpid);
    if (session === undefined) continue;
    try {
      await session.program(p.messages);
    } catch (err) {
      failed++;
      log?.warn({ dpid: p.dpid, err: (err as Error).message }, `switch did not apply ${what}`);
    }
  }
  return failed;
}
