// The congestion of the quickstart and failover labs, on the s1–s2 link of their topology: iperf3
// from h2 to bg, UDP just under the link rate s1→s2 (full from the first moment: requests, ACKs)
// and TCP in reverse mode s2→s1, sharing the responses' direction as any bulk transfer would.
import type { LabEnv } from './env.ts';

const IPERF_PORT = 5201;
const SERVER = 'bg';
const CLIENT = 'h2';

/** The two iperf3 servers on bg (UDP and TCP), started once per run. */
export async function startIperfServers(env: LabEnv): Promise<void> {
  await env.spawn(SERVER, 'iperf3-server-udp', `exec iperf3 -s -p ${IPERF_PORT}`);
  await env.spawn(SERVER, 'iperf3-server-tcp', `exec iperf3 -s -p ${IPERF_PORT + 1}`);
}

export interface CongestionSettings {
  readonly secs: number;
  readonly udpMbps: number;
  readonly tcpStreams: number;
  /** Names the processes and their logs (e.g. the variant). */
  readonly tag: string;
}

/** Starts both flows; resolves with what stops them. */
export async function startCongestion(env: LabEnv, c: CongestionSettings): Promise<() => Promise<void>> {
  const bg = env.ipOf(SERVER);
  const fwd = await env.spawn(CLIENT, `iperf-fwd${c.tag}`, `exec iperf3 -c ${bg} -p ${IPERF_PORT} -t ${c.secs} -u -b ${c.udpMbps}M -l 1400`);
  const rev = await env.spawn(CLIENT, `iperf-rev${c.tag}`, `exec iperf3 -c ${bg} -p ${IPERF_PORT + 1} -t ${c.secs} -R -P ${c.tcpStreams}`);
  return async () => {
    await fwd.stop();
    await rev.stop();
  };
}
