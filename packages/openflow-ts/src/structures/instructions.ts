// Instructions (spec 7.2.5): TLVs of a multiple of 8 bytes; the three action-list ones
// carry 4 bytes of padding and then their actions.
import {
  OFPIT_APPLY_ACTIONS,
  OFPIT_CLEAR_ACTIONS,
  OFPIT_EXPERIMENTER,
  OFPIT_GOTO_TABLE,
  OFPIT_METER,
  OFPIT_WRITE_ACTIONS,
  OFPIT_WRITE_METADATA,
} from '../constants.ts';
import { badInstructionLen, badInstructionType } from '../errors.ts';
import { actionsSize, readActions, writeActions, type Action } from './actions.ts';
import { pad8, type Reader, type Writer } from '../wire.ts';

export type Instruction =
  | { readonly type: 'goto_table'; readonly tableId: number }
  | { readonly type: 'write_metadata'; readonly metadata: bigint; readonly metadataMask: bigint }
  | { readonly type: 'write_actions'; readonly actions: readonly Action[] }
  | { readonly type: 'apply_actions'; readonly actions: readonly Action[] }
  | { readonly type: 'clear_actions'; readonly actions: readonly Action[] }
  | { readonly type: 'meter'; readonly meterId: number }
  /** data: everything after the experimenter id, padding included. */
  | { readonly type: 'experimenter'; readonly experimenter: number; readonly data: Buffer };

export type InstructionType = Instruction['type'];

export const INSTRUCTION_CODES = {
  goto_table: OFPIT_GOTO_TABLE,
  write_metadata: OFPIT_WRITE_METADATA,
  write_actions: OFPIT_WRITE_ACTIONS,
  apply_actions: OFPIT_APPLY_ACTIONS,
  clear_actions: OFPIT_CLEAR_ACTIONS,
  meter: OFPIT_METER,
  experimenter: OFPIT_EXPERIMENTER,
} as const satisfies Record<InstructionType, number>;

function fixedLen(type: number, len: number, want: number): void {
  if (len !== want) throw badInstructionLen(`instruction type ${type} has length ${len}, wants ${want}`);
}

export function readInstruction(r: Reader): Instruction {
  const start = r.pos;
  if (start + 4 > r.end) throw badInstructionLen('instruction header overruns its list');
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) throw badInstructionLen(`instruction type ${type} has length ${len}`);
  const end = start + len;
  if (end > r.end) throw badInstructionLen(`instruction type ${type} length ${len} overruns its list`);
  let ins: Instruction;
  switch (type) {
    case OFPIT_GOTO_TABLE:
      fixedLen(type, len, 8);
      ins = { type: 'goto_table', tableId: r.u8() };
      break;
    case OFPIT_WRITE_METADATA:
      fixedLen(type, len, 24);
      r.skip(4);
      ins = { type: 'write_metadata', metadata: r.u64(), metadataMask: r.u64() };
      break;
    case OFPIT_WRITE_ACTIONS:
    case OFPIT_APPLY_ACTIONS:
    case OFPIT_CLEAR_ACTIONS: {
      r.skip(4);
      const actions = readActions(r, end - r.pos);
      ins =
        type === OFPIT_WRITE_ACTIONS
          ? { type: 'write_actions', actions }
          : type === OFPIT_APPLY_ACTIONS
            ? { type: 'apply_actions', actions }
            : { type: 'clear_actions', actions };
      break;
    }
    case OFPIT_METER:
      fixedLen(type, len, 8);
      ins = { type: 'meter', meterId: r.u32() };
      break;
    case OFPIT_EXPERIMENTER:
      ins = { type: 'experimenter', experimenter: r.u32(), data: r.bytes(end - start - 8) };
      break;
    default:
      throw badInstructionType(type);
  }
  r.pos = end;
  return ins;
}

export function readInstructions(r: Reader, len: number): Instruction[] {
  const end = r.pos + len;
  if (end > r.end) throw badInstructionLen(`instruction list of ${len} bytes overruns its container`);
  const outer = r.end;
  r.end = end;
  const out: Instruction[] = [];
  while (r.pos < end) out.push(readInstruction(r));
  r.end = outer;
  return out;
}

export function instructionSize(i: Instruction): number {
  switch (i.type) {
    case 'goto_table':
    case 'meter':
      return 8;
    case 'write_metadata':
      return 24;
    case 'write_actions':
    case 'apply_actions':
    case 'clear_actions':
      return 8 + actionsSize(i.actions);
    case 'experimenter':
      return pad8(8 + i.data.length);
  }
}

export function instructionsSize(list: readonly Instruction[]): number {
  let n = 0;
  for (let k = 0; k < list.length; k++) n += instructionSize(list[k]!);
  return n;
}

export function writeInstruction(w: Writer, i: Instruction): void {
  const start = w.pos;
  const len = instructionSize(i);
  w.u16(INSTRUCTION_CODES[i.type]);
  w.u16(len);
  switch (i.type) {
    case 'goto_table':
      w.u8(i.tableId);
      break;
    case 'meter':
      w.u32(i.meterId);
      break;
    case 'write_metadata':
      w.pad(4);
      w.u64(i.metadata);
      w.u64(i.metadataMask);
      break;
    case 'write_actions':
    case 'apply_actions':
    case 'clear_actions':
      w.pad(4);
      writeActions(w, i.actions);
      break;
    case 'experimenter':
      w.u32(i.experimenter);
      w.bytes(i.data);
      break;
  }
  w.pos = start + len;
}

export function writeInstructions(w: Writer, list: readonly Instruction[]): void {
  for (let k = 0; k < list.length; k++) writeInstruction(w, list[k]!);
}

/** An instruction type as listed by table-features properties; data holds any bytes after the 4-byte header. */
export interface InstructionId {
  readonly type: number;
  readonly data: Buffer;
}
