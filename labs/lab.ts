// What a lab is: a topology, the hosts that need the management network, a measurement that
// runs on a started environment, and a report written from the measurement after teardown.
import type { Topology } from '../topologies/topology.ts';
import type { LabEnv } from './env.ts';
import type { ProgressLine } from './progress.ts';

export interface MeasureOptions {
  /** Seconds of measured load per variant. */
  readonly durationSec: number;
  readonly runDir: string;
  readonly progress: ProgressLine;
}

export interface ReportContext {
  readonly runDir: string;
  readonly runId: string;
  /** Problems of teardown (empty: nothing left behind). */
  readonly teardown: readonly string[];
}

export interface LabReport {
  /** Path of report.md. */
  readonly reportPath: string;
  /** One line per key number, printed at the end of `meshflow lab`. */
  readonly headline: readonly string[];
}

export interface Lab<M> {
  readonly name: string;
  readonly description: string;
  readonly defaultDurationSec: number;
  topology(): Topology;
  readonly mgmtHosts: readonly string[];
  measure(env: LabEnv, opts: MeasureOptions): Promise<M>;
  report(m: M, ctx: ReportContext): Promise<LabReport>;
}
