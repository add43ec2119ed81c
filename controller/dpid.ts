// Datapath ids travel as bigint inside and as 16 lower-case hex digits everywhere people read them.

export function formatDpid(dpid: bigint): string {
  return dpid.toString(16).padStart(16, '0');
}

export function parseDpid(text: string): bigint {
  const hex = text.replace(/[:]/g, '').replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) throw new Error(`not a datapath id: ${JSON.stringify(text)} (want up to 16 hex digits)`);
  return BigInt(`0x${hex}`);
}
