// Carrying out switch programs, each to its barrier. Programs are run in waves: consecutive programs
// for different switches run at the same time, and a program for a switch already in the current
// wave starts the next one. A plan "add on A, D, C; then delete on A, B, C" thus costs two round
// trips instead of six, and the deletes still land after the adds. Callers release a packet only
// after every wave, so it never overtakes its rules.
import type { Logger } from 'pino';
import type { Controller } from '../controller.ts';
import type { SwitchProgram } from './forwarding.ts';

export function waves(programs: readonly SwitchProgram[]): SwitchProgram[][] {
  const out: SwitchProgram[][] = [];
  let wave: SwitchProgram[] = [];
  for (const p of programs) {
    if (wave.some((q) => q.dpid === p.dpid)) {
      out.push(wave);
      wave = [];
    }
    wave.push(p);
  }
  if (wave.length > 0) out.push(wave);
  return out;
}

/** Runs the programs; returns how many failed. One switch refusing (or leaving) stops neither the rest nor later runs. */
export async function runPrograms(controller: Controller, programs: readonly SwitchProgram[], log: Logger | undefined, what: string): Promise<number> {
  let failed = 0;
  for (const wave of waves(programs)) {
    const results = await Promise.all(
      wave.map(async (p) => {
        const session = controller.switches.get(p.dpid);
        if (session === undefined) return true;
        try {
          await session.program(p.messages);
          return true;
        } catch (err) {
          log?.warn({ dpid: p.dpid, err: (err as Error).message }, `switch did not apply ${what}`);
          return false;
        }
      }),
    );
    failed += results.filter((ok) => !ok).length;
  }
  return failed;
}
