// Address text <-> bytes. MACs travel as 'aa:bb:cc:dd:ee:ff' and IPv4 addresses as dotted quads,
// the same text the OpenFlow codec uses in matches, so values move between the two unchanged.

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

export function isMac(text: string): boolean {
  return MAC_RE.test(text.toLowerCase());
}

export function macToString(buf: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((buf[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Writes a MAC into buf at offset; throws on bad text, since only our own code builds frames. */
export function writeMac(buf: Buffer, offset: number, mac: string): void {
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m)) throw new TypeError(`not a MAC address: ${JSON.stringify(mac)}`);
  m.split(':').forEach((byte, i) => buf.writeUInt8(parseInt(byte, 16), offset + i));
}

export function isIpv4(text: string): boolean {
  const m = IPV4_RE.exec(text);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function ipv4ToString(buf: Uint8Array, offset = 0): string {
  return [0, 1, 2, 3].map((i) => buf[offset + i] ?? 0).join('.');
}

export function writeIpv4(buf: Buffer, offset: number, ip: string): void {
  if (!isIpv4(ip)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  ip.split('.').forEach((o, i) => buf.writeUInt8(Number(o), offset + i));
}

/** Group bit of the first octet: broadcast and multicast frames are never unicast-routed. */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 1;
}
