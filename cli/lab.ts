// `meshflow lab list` and `meshflow lab <name> [--duration s] [--out DIR]`: runnable experiments.
import type { Command } from 'commander';
import { findLab, LABS } from '../labs/index.ts';
import { runLab, type LabRunResult } from '../labs/runner.ts';
import { ensureSystem } from './system.ts';
import { intOption, portOption } from './options.ts';

export function register(program: Command): void {
  program
    .command('lab')
    .description('run a lab (topology, services, traffic, timeline) and write its report; `meshflow lab list` lists them')
    .argument('<name>', 'lab name, or "list"')
    .option('--duration <s>', 'seconds of measured load per variant (default: the lab\'s own)', intOption)
    .option('--out <dir>', 'run folder (default runs/<lab>-<timestamp>/)')
    .option('--no-system', 'do not run the system set-up first')
    .option('--api-port <port>', 'port of the controller API and live dashboard during the run', portOption, 8080)
    .action(async (name: string, o: { duration?: number; out?: string; system: boolean; apiPort: number }) => {
      if (name === 'list') {
        for (const l of LABS) process.stdout.write(`${l.name.padEnd(12)} ${l.description} (default ${l.defaultDurationSec} s per variant)\n`);
        return;
      }
      const lab = findLab(name);
      if (!lab) throw new Error(`no lab named ${JSON.stringify(name)}; try: ${LABS.map((l) => l.name).join(', ')}`);
      if (o.system) ensureSystem();
      const r = await runLab(lab, { apiPort: o.apiPort, ...(o.duration ? { durationSec: o.duration } : {}), ...(o.out ? { outDir: o.out } : {}) });
      printResult(r);
    });
}

export function printResult(r: LabRunResult): void {
  for (const line of r.headline) process.stdout.write(`${line}\n`);
  process.stdout.write(`report: ${r.reportPath}\n`);
}

/** Labs build Mininet networks and OVS bridges: that needs root. */
export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`${what} needs root (Mininet, Open vSwitch, network namespaces). Run it as root, e.g.: sudo npm start`);
  }
}

/** `meshflow start`: set up the system, run the quickstart lab, say where its report is. */
export async function startCommand(o: { duration?: number; out?: string; apiPort: number }): Promise<void> {
  requireRoot('meshflow start');
  ensureSystem();
  const lab = findLab('quickstart');
  if (!lab) throw new Error('the quickstart lab is missing');
  process.stderr.write(`meshflow start: running the quickstart lab (two runs of ${o.duration ?? lab.defaultDurationSec} s: coordination off, then on)…\n`);
  process.stderr.write(`meshflow start: watch it live at http://127.0.0.1:${o.apiPort}/\n`);
  const r = await runLab(lab, { apiPort: o.apiPort, ...(o.duration ? { durationSec: o.duration } : {}), ...(o.out ? { outDir: o.out } : {}) });
  printResult(r);
}
