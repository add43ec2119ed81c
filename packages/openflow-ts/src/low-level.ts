// 'openflow-ts/wire': the building blocks under decode/encode, for tools that read or
// write one structure at a time (dissectors, test generators, other OpenFlow versions'
// codecs): the bounds-checked cursors, address text, and each structure's size, reader
// and writer; plus the two description tables the codec dispatches on.
export { Reader, Writer, allocZeroed, pad8, formatMac, formatIpv6, writeMac, writeIpv4, writeIpv6 } from './wire.ts';
export {
  asOpenFlowError,
  badActionLen,
  badActionType,
  badInstructionLen,
  badInstructionType,
  badLength,
  badMatchLen,
  badMatchType,
  badProperty,
  badType,
  badVersion,
  encodeError,
  truncated,
} from './errors.ts';
export { readAction, readActions, actionSize, actionsSize, writeAction, writeActions, ACTION_CODES } from './structures/actions.ts';
export {
  readInstruction,
  readInstructions,
  instructionSize,
  instructionsSize,
  writeInstruction,
  writeInstructions,
  INSTRUCTION_CODES,
} from './structures/instructions.ts';
export { readOxm, oxmSize, writeOxm, readMatch, matchLength, writeMatch, readOxmId, oxmIdSize, writeOxmId } from './structures/oxm.ts';
export { OFP_PORT_LEN, OFP_MAX_PORT_NAME_LEN, readPort, writePort } from './structures/port.ts';
export { readQueues, queuesSize, writeQueues } from './structures/queue.ts';
export { readBucket, readBuckets, bucketSize, bucketsSize, writeBuckets } from './structures/group.ts';
export { readBand, readBands, bandSize, bandsSize, writeBands } from './structures/meter.ts';
export { TABLE_FEATURE_PROP_CODES, readTableFeatures, tableFeaturesSize, writeTableFeatures } from './structures/table-features.ts';
export { MESSAGE_CODECS, type MessageCodec, type MessageBase } from './messages/index.ts';
export {
  MULTIPART_ENTRIES,
  multipartCode,
  readMultipartRequestBody,
  readMultipartReplyBody,
  multipartRequestBodySize,
  multipartReplyBodySize,
  writeMultipartRequestBody,
  writeMultipartReplyBody,
  type BodyCodec,
  type MultipartEntry,
} from './multipart/index.ts';
// Everything of the main entry too, so a module that needs one building block imports
// all it needs from one place.
export * from './index.ts';
