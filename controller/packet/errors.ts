// Errors are data: a parser returns a coded PacketError instead of throwing, so a malformed frame
// from the network can never take a packet-in handler (or the controller) down with it.

export const PACKET_ERROR_CODES = [
  /** The buffer ends before a header or a field the header announces. */
  'PKT_TRUNCATED',
  /** A field has a value the format does not allow (version, header length, address sizes). */
  'PKT_BAD_FIELD',
  /** The frame is well formed but is not the protocol the caller asked for. */
  'PKT_NOT_THIS_PROTOCOL',
] as const;
export type PacketErrorCode = (typeof PACKET_ERROR_CODES)[number];

export interface PacketError {
  readonly ok: false;
  readonly code: PacketErrorCode;
  readonly message: string;
}

export interface Parsed<T> {
  readonly ok: true;
  readonly value: T;
}

export type ParseResult<T> = Parsed<T> | PacketError;

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = (code: PacketErrorCode, message: string): PacketError => ({ ok: false, code, message });
export const truncated = (what: string, need: number, have: number): PacketError =>
  fail('PKT_TRUNCATED', `${what}: need ${need} bytes, have ${have}`);
