// The one exception type of the codec. Errors are data (ws style): a stable code that
// callers and tests match on, plus, where the spec defines one, the OFPET/code pair the
// session should answer the switch with. Free-text messages are for humans only.
import {
  OFPET_BAD_ACTION,
  OFPET_BAD_INSTRUCTION,
  OFPET_BAD_MATCH,
  OFPET_BAD_REQUEST,
  OFPBAC_BAD_LEN,
  OFPBAC_BAD_TYPE,
  OFPBIC_BAD_LEN,
  OFPBIC_UNKNOWN_INST,
  OFPBMC_BAD_LEN,
  OFPBMC_BAD_TYPE,
  OFPBRC_BAD_LEN,
  OFPBRC_BAD_TYPE,
  OFPBRC_BAD_VERSION,
} from './constants.ts';

export const OF_ERROR_CODES = [
  /** A length field (frame header or an inner structure's own length) is impossible: too small, too big, not aligned. */
  'OF_ERR_BAD_LENGTH',
  /** A structure needs more bytes than its container holds. */
  'OF_ERR_TRUNCATED',
  /** The version byte is not 0x04 (hello is exempt: its layout is the same in every version). */
  'OF_ERR_BAD_VERSION',
  /** The message type is not an OpenFlow 1.3 message. */
  'OF_ERR_BAD_TYPE',
  /** A match is not an OXM match, or an OXM TLV has the wrong length for its field. */
  'OF_ERR_BAD_MATCH',
  /** An action has an unknown type or a bad length. */
  'OF_ERR_BAD_ACTION',
  /** An instruction has an unknown type or a bad length. */
  'OF_ERR_BAD_INSTRUCTION',
  /** A property-like TLV (hello element, queue property, meter band, table feature property) is malformed or unknown where the spec allows no unknowns. */
  'OF_ERR_BAD_PROPERTY',
  /** encode() was given a value that cannot be put on the wire (out of range, bad address text). */
  'OF_ERR_ENCODE',
  /** Safety net: an unexpected exception inside the codec, wrapped so callers only ever see OpenFlowError. */
  'OF_ERR_INTERNAL',
] as const;
export type OfErrorCode = (typeof OF_ERROR_CODES)[number];

export interface OfpErrorPair {
  readonly type: number;
  readonly code: number;
}

export class OpenFlowError extends Error {
  override readonly name = 'OpenFlowError';
  /** Stable 'OF_ERR_…' code: one of OF_ERROR_CODES from the codec; sessions may add their own. */
  readonly code: string;
  /** The OFPT_ERROR type/code to answer with, when the spec has one for this fault. */
  readonly ofpError?: OfpErrorPair;
  /** The xid of the offending message, once its header was readable. */
  xid?: number;

  constructor(code: OfErrorCode | (string & {}), message: string, ofpError?: OfpErrorPair, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    if (ofpError !== undefined) this.ofpError = ofpError;
  }
}

// Constructors, one per code, so call sites stay short and every throw names its fault.
const pair = (type: number, code: number): OfpErrorPair => ({ type, code });

export const badLength = (what: string, ofp: OfpErrorPair = pair(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN)): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_LENGTH', `bad length: ${what}`, ofp);
export const truncated = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_TRUNCATED', `truncated: ${what}`, pair(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN));
export const badVersion = (version: number): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_VERSION', `unsupported version 0x${version.toString(16)}`, pair(OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION));
export const badType = (type: number): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_TYPE', `unknown message type ${type}`, pair(OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE));
export const badMatchType = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_MATCH', what, pair(OFPET_BAD_MATCH, OFPBMC_BAD_TYPE));
export const badMatchLen = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_MATCH', what, pair(OFPET_BAD_MATCH, OFPBMC_BAD_LEN));
export const badActionType = (type: number): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_ACTION', `unknown action type ${type}`, pair(OFPET_BAD_ACTION, OFPBAC_BAD_TYPE));
export const badActionLen = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_ACTION', what, pair(OFPET_BAD_ACTION, OFPBAC_BAD_LEN));
export const badInstructionType = (type: number): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_INSTRUCTION', `unknown instruction type ${type}`, pair(OFPET_BAD_INSTRUCTION, OFPBIC_UNKNOWN_INST));
export const badInstructionLen = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_INSTRUCTION', what, pair(OFPET_BAD_INSTRUCTION, OFPBIC_BAD_LEN));
export const badProperty = (what: string): OpenFlowError =>
  new OpenFlowError('OF_ERR_BAD_PROPERTY', what, pair(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN));
export const encodeError = (what: string, cause?: unknown): OpenFlowError =>
  new OpenFlowError('OF_ERR_ENCODE', `cannot encode: ${what}`, undefined, { cause });

/** Whatever was thrown inside the codec, as an OpenFlowError (the public entry points promise no other type). */
export function asOpenFlowError(e: unknown): OpenFlowError {
  if (e instanceof OpenFlowError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new OpenFlowError('OF_ERR_INTERNAL', `internal codec error: ${text}`, pair(OFPET_BAD_REQUEST, OFPBRC_BAD_LEN), { cause: e });
}
