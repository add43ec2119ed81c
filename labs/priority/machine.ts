// How busy the shared machine was while a variant ran: the kernel's CPU pressure (PSI,
// /proc/pressure/cpu), the share of the time at least one runnable task waited for a CPU. The
// lab's dozen processes, Open vSwitch's userspace datapath and whatever else runs on the machine
// share its cores, so a tail latency measured while this share was high says more about the
// machine than about the layers. Pure: the lab reads the file.

/** `some total=` of /proc/pressure/cpu: µs during which some task waited for a CPU; undefined if absent. */
export function cpuWaitTotalUs(text: string): number | undefined {
  const m = /^some .*\btotal=(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The share (0..1) of `elapsedMs` in which some task waited for a CPU, from two readings. */
export function cpuWaitShare(beforeUs: number | undefined, afterUs: number | undefined, elapsedMs: number): number | undefined {
  if (beforeUs === undefined || afterUs === undefined || !(elapsedMs > 0)) return undefined;
  return Math.min(1, Math.max(0, (afterUs - beforeUs) / 1000 / elapsedMs));
}
