// Public API of the OpenFlow 1.3 codec: decode/encode whole messages, frame a byte stream,
// one coded error type, the wire constants, and the message types.
export * from './constants.ts';
export { OpenFlowError, OF_ERROR_CODES, type OfErrorCode, type OfpErrorPair } from './errors.ts';
export { decode, encode, encodeAll } from './messages.ts';
export type * from './messages.ts';
export { FrameReader, type FrameReaderOptions } from './framing.ts';
export { flowMod, type FlowModFields } from './build.ts';
export type { Action, ActionType, ActionId } from './actions.ts';
export type { Instruction, InstructionType, InstructionId } from './instructions.ts';
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
} from './oxm.ts';
export type { Port } from './port.ts';
export type { Bucket } from './group.ts';
export type { MeterBand } from './meter.ts';
export type { PacketQueue, QueueProperty } from './queue.ts';
export type { TableFeatures, TableFeatureProp } from './table-features.ts';
export type * from './multipart.ts';
export { MULTIPART_CODES } from './multipart.ts';
