// Public API of openflow-ts, an OpenFlow 1.3 codec: decode/encode whole messages, frame a
// byte stream, one coded error type, the wire constants, the message types, and builders.
// The building blocks (cursors, per-structure readers and writers, the codec tables) are
// in 'openflow-ts/wire'.
export * from './constants.ts';
export { OpenFlowError, OF_ERROR_CODES, type OfErrorCode, type OfpErrorPair } from './errors.ts';
export { decode, encode, encodeAll } from './messages/index.ts';
export type * from './messages/index.ts';
export { FrameReader, type FrameReaderOptions } from './framing.ts';
export { flowMod, type FlowModFields } from './build.ts';
export type { Action, ActionType, ActionId } from './structures/actions.ts';
export type { Instruction, InstructionType, InstructionId } from './structures/instructions.ts';
export {
  OXM_BASIC_FIELDS,
  oxmCodeOf,
  oxmNameOf,
  type Match,
  type OxmField,
  type OxmBasicField,
  type OxmBasicName,
  type OxmValue,
  type OxmExperimenterField,
  type OxmUnknownField,
  type OxmId,
} from './structures/oxm.ts';
export type { Port } from './structures/port.ts';
export type { Bucket } from './structures/group.ts';
export type { MeterBand } from './structures/meter.ts';
export type { PacketQueue, QueueProperty } from './structures/queue.ts';
export type { TableFeatures, TableFeatureProp } from './structures/table-features.ts';
export type * from './multipart/index.ts';
export { MULTIPART_CODES } from './multipart/index.ts';
