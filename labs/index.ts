// The labs `meshflow lab` knows, by name.
import { conflict } from './conflict/lab.ts';
import { failover } from './failover/lab.ts';
import type { Lab } from './lab.ts';
import { priority } from './priority/lab.ts';
import { quickstart } from './quickstart/lab.ts';

// Each lab has its own measurement type; the runner only passes it from measure to report.
export const LABS: readonly Lab<unknown>[] = [quickstart as Lab<unknown>, priority as Lab<unknown>, conflict as Lab<unknown>, failover as Lab<unknown>];

export function findLab(name: string): Lab<unknown> | undefined {
  return LABS.find((l) => l.name === name);
}
