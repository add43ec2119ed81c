// Carrying out a plan's switch programs through each switch's programmer. Programs run in waves:
// consecutive programs for different switches go out together, and a program for a switch already
// in the current wave starts the next one, which waits for the previous wave's barriers. A plan
// "add on A, D, C; then delete on A, B, C" thus costs two round trips, and the deletes still land
// after the adds. Packets go out after the last wave, so a packet never overtakes its rules; the
// one exception is a plan whose rules are all on the packet's own switch (see sameSwitchOnly).
//
// Plans are not serialized against each other: each switch's programmer keeps the order in which
// programs were submitted, and that is all correctness needs (cookies are unique per path version,
// so a delete by cookie never hits a newer rule).
import type { Logger } from 'pino';
import type { Programmer } from '../programmer.ts';
import type { Outgoing } from '../session.ts';
import { OFPP_TABLE } from 'openflow-ts';
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

/** Messages for one switch that need no barrier, only their place in the switch's order. */
export interface SwitchMessages {
  readonly dpid: string;
  readonly messages: readonly Outgoing[];
}

/** Where plans find each connected switch's programmer (the controller's switches). */
export interface Programmers {
  readonly switches: ReadonlyMap<string, { readonly programmer: Programmer }>;
}

export interface PlanOutcome {
  /** Programs the switch refused or could not confirm (its session ended). */
  readonly failed: number;
  /** Packet-outs handed to a connected switch. */
  readonly sent: number;
}

/**
 * Runs the programs in waves, then sends the packets. One switch refusing (or leaving) stops neither
 * the rest of the plan nor other plans; a switch that is not connected is skipped.
 */
export async function runPlan(
  controller: Programmers,
  programs: readonly SwitchProgram[],
  packets: readonly SwitchMessages[],
  log: Logger | undefined,
  what: string,
): Promise<PlanOutcome> {
  let failed = 0;
  if (programs.length > 0 && packets.length > 0 && sameSwitchOnly(programs, packets)) {
    // Every rule goes to the switch the packet leaves from, and the packet names its ports: nothing
    // it needs is elsewhere, so it rides behind its rules in the same batch instead of a round trip later.
    const confirmed = runWave(controller, programs, log, what);
    const sent = sendPackets(controller, packets);
    return { failed: await confirmed, sent };
  }
  if (programs.length > 0) {
    // A plan of one wave (the common case: a new flow's rules) needs no split.
    const list = programs.length === 1 ? [programs] : waves(programs);
    for (const wave of list) failed += await runWave(controller, wave, log, what);
  }
  return { failed, sent: sendPackets(controller, packets) };
}

function sendPackets(controller: Programmers, packets: readonly SwitchMessages[]): number {
  let sent = 0;
  for (const p of packets) {
    const session = controller.switches.get(p.dpid);
    if (session === undefined) continue;
    session.programmer.send(p.messages);
    sent++;
  }
  return sent;
}

/** True when all programs are for switches that packets leave from, one each, and no packet goes through a table. */
function sameSwitchOnly(programs: readonly SwitchProgram[], packets: readonly SwitchMessages[]): boolean {
  for (const p of packets) {
    for (const m of p.messages) {
      if (m.type !== 'packet_out' || m.actions.some((a) => a.type !== 'output' || a.port === OFPP_TABLE)) return false;
    }
  }
  const seen = new Set<string>();
  for (const p of programs) {
    if (seen.has(p.dpid) || !packets.some((q) => q.dpid === p.dpid)) return false;
    seen.add(p.dpid);
  }
  return true;
}

async function runWave(controller: Programmers, wave: readonly SwitchProgram[], log: Logger | undefined, what: string): Promise<number> {
  let failed = 0;
  const submitted: Promise<void>[] = [];
  for (const p of wave) {
    const session = controller.switches.get(p.dpid);
    if (session === undefined) continue;
    submitted.push(
      session.programmer.submit(p.messages).catch((err: Error) => {
        failed++;
        log?.warn({ dpid: p.dpid, err: err.message }, `switch did not apply ${what}`);
      }),
    );
  }
  if (submitted.length === 1) await submitted[0];
  else if (submitted.length > 1) await Promise.all(submitted);
  return failed;
}

/** Runs the programs (no packets); returns how many failed. */
export async function runPrograms(controller: Programmers, programs: readonly SwitchProgram[], log: Logger | undefined, what: string): Promise<number> {
  return (await runPlan(controller, programs, [], log, what)).failed;
}

/** Plans in flight, so that tests and shutdown can wait for every plan made so far. */
export class PlanTracker {
  private readonly running = new Set<Promise<void>>();

  get size(): number {
    return this.running.size;
  }

  /** Follows a plan's execution; one that throws is reported to onError (a bug: plans count their failures). */
  track(p: Promise<void>, onError: (err: unknown) => void): void {
    const tracked: Promise<void> = p.catch(onError).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Resolves once every plan tracked so far has finished (plans tracked later are not waited for). */
  settled(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return Promise.all([...this.running]).then(() => undefined);
  }
}
