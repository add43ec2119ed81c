// Switch configuration and state (spec 7.3.1-7.3.4, 7.3.6-7.3.9, 7.4.3): the handshake,
// switch and table configuration, port changes, queue configuration, barriers, roles and
// the asynchronous-message filter. Fixed layouts, mostly, so each entry names its size.
import {
  OFPT_BARRIER_REPLY,
  OFPT_BARRIER_REQUEST,
  OFPT_FEATURES_REPLY,
  OFPT_FEATURES_REQUEST,
  OFPT_GET_ASYNC_REPLY,
  OFPT_GET_ASYNC_REQUEST,
  OFPT_GET_CONFIG_REPLY,
  OFPT_GET_CONFIG_REQUEST,
  OFPT_PORT_MOD,
  OFPT_PORT_STATUS,
  OFPT_QUEUE_GET_CONFIG_REPLY,
  OFPT_QUEUE_GET_CONFIG_REQUEST,
  OFPT_ROLE_REPLY,
  OFPT_ROLE_REQUEST,
  OFPT_SET_ASYNC,
  OFPT_SET_CONFIG,
  OFPT_TABLE_MOD,
} from '../constants.ts';
import { OFP_PORT_LEN, readPort, writePort, type Port } from '../structures/port.ts';
import { queuesSize, readQueues, writeQueues, type PacketQueue } from '../structures/queue.ts';
import type { Reader } from '../wire.ts';
import { expectBody, headerOnly, type MessageCodec } from './codec.ts';

// Body sizes, after the 8-byte header (the spec's struct sizes minus 8).
/** ofp_switch_features: datapath_id, n_buffers, n_tables, auxiliary_id, pad(2), capabilities, reserved. */
const FEATURES_REPLY_BODY_LEN = 24;
/** ofp_switch_config: flags, miss_send_len. */
const SWITCH_CONFIG_BODY_LEN = 4;
/** ofp_port_status: reason, pad(7), then an ofp_port. */
const PORT_STATUS_FIXED_LEN = 8;
/** ofp_port_mod: port_no, pad(4), hw_addr, pad(2), config, mask, advertise, pad(4). */
const PORT_MOD_BODY_LEN = 32;
/** ofp_table_mod: table_id, pad(3), config. */
const TABLE_MOD_BODY_LEN = 8;
/** ofp_queue_get_config_request / the fixed part of its reply: port, pad(4). */
const QUEUE_GET_CONFIG_FIXED_LEN = 8;
/** ofp_role_request: role, pad(4), generation_id. */
const ROLE_BODY_LEN = 16;
/** ofp_async_config: three [master, slave] pairs of u32 masks. */
const ASYNC_CONFIG_BODY_LEN = 24;

export interface FeaturesRequest { readonly type: 'features_request'; readonly xid: number }
export interface FeaturesReply {
  readonly type: 'features_reply';
  readonly xid: number;
  readonly datapathId: bigint;
  readonly nBuffers: number;
  readonly nTables: number;
  readonly auxiliaryId: number;
  readonly capabilities: number;
}
export interface GetConfigRequest { readonly type: 'get_config_request'; readonly xid: number }
export interface GetConfigReply { readonly type: 'get_config_reply'; readonly xid: number; readonly flags: number; readonly missSendLen: number }
export interface SetConfig { readonly type: 'set_config'; readonly xid: number; readonly flags: number; readonly missSendLen: number }
export interface PortStatus { readonly type: 'port_status'; readonly xid: number; readonly reason: number; readonly port: Port }
export interface PortMod {
  readonly type: 'port_mod';
  readonly xid: number;
  readonly portNo: number;
  readonly hwAddr: string;
  readonly config: number;
  readonly mask: number;
  readonly advertise: number;
}
export interface TableMod { readonly type: 'table_mod'; readonly xid: number; readonly tableId: number; readonly config: number }
export interface BarrierRequest { readonly type: 'barrier_request'; readonly xid: number }
export interface BarrierReply { readonly type: 'barrier_reply'; readonly xid: number }
export interface QueueGetConfigRequest { readonly type: 'queue_get_config_request'; readonly xid: number; readonly port: number }
export interface QueueGetConfigReply {
  readonly type: 'queue_get_config_reply';
  readonly xid: number;
  readonly port: number;
  readonly queues: readonly PacketQueue[];
}
export interface RoleRequest { readonly type: 'role_request'; readonly xid: number; readonly role: number; readonly generationId: bigint }
export interface RoleReply { readonly type: 'role_reply'; readonly xid: number; readonly role: number; readonly generationId: bigint }
export interface GetAsyncRequest { readonly type: 'get_async_request'; readonly xid: number }
/** Each mask pair is [master/equal role, slave role]. */
export interface AsyncConfig {
  readonly packetInMask: readonly [number, number];
  readonly portStatusMask: readonly [number, number];
  readonly flowRemovedMask: readonly [number, number];
}
export interface GetAsyncReply extends AsyncConfig { readonly type: 'get_async_reply'; readonly xid: number }
export interface SetAsync extends AsyncConfig { readonly type: 'set_async'; readonly xid: number }

// ---- handshake and switch configuration ----------------------------------------------

export const featuresRequest: MessageCodec<FeaturesRequest> = headerOnly(OFPT_FEATURES_REQUEST, 'features_request');

export const featuresReply: MessageCodec<FeaturesReply> = {
  code: OFPT_FEATURES_REPLY,
  tag: 'features_reply',
  size: () => FEATURES_REPLY_BODY_LEN,
  read(r, xid) {
    expectBody(r, FEATURES_REPLY_BODY_LEN, 'features_reply');
    const datapathId = r.u64();
    const nBuffers = r.u32();
    const nTables = r.u8();
    const auxiliaryId = r.u8();
    r.skip(2);
    const capabilities = r.u32();
    r.skip(4); // reserved
    return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
  },
  write(w, m) {
    w.u64(m.datapathId);
    w.u32(m.nBuffers);
    w.u8(m.nTables);
    w.u8(m.auxiliaryId);
    w.pad(2);
    w.u32(m.capabilities);
    w.pad(4);
  },
};

export const getConfigRequest: MessageCodec<GetConfigRequest> = headerOnly(OFPT_GET_CONFIG_REQUEST, 'get_config_request');

/** get_config_reply and set_config share ofp_switch_config. */
function switchConfig<T extends 'get_config_reply' | 'set_config'>(
  code: number,
  tag: T,
): MessageCodec<{ readonly type: T; readonly xid: number; readonly flags: number; readonly missSendLen: number }> {
  return {
    code,
    tag,
    size: () => SWITCH_CONFIG_BODY_LEN,
    read(r, xid) {
      expectBody(r, SWITCH_CONFIG_BODY_LEN, tag);
      return { type: tag, xid, flags: r.u16(), missSendLen: r.u16() };
    },
    write(w, m) {
      w.u16(m.flags);
      w.u16(m.missSendLen);
    },
  };
}

export const getConfigReply: MessageCodec<GetConfigReply> = switchConfig(OFPT_GET_CONFIG_REPLY, 'get_config_reply');
export const setConfig: MessageCodec<SetConfig> = switchConfig(OFPT_SET_CONFIG, 'set_config');

export const tableMod: MessageCodec<TableMod> = {
  code: OFPT_TABLE_MOD,
  tag: 'table_mod',
  size: () => TABLE_MOD_BODY_LEN,
  read(r, xid) {
    expectBody(r, TABLE_MOD_BODY_LEN, 'table_mod');
    const tableId = r.u8();
    r.skip(3);
    return { type: 'table_mod', xid, tableId, config: r.u32() };
  },
  write(w, m) {
    w.u8(m.tableId);
    w.pad(3);
    w.u32(m.config);
  },
};

// ---- ports and queues ----------------------------------------------------------------

export const portStatus: MessageCodec<PortStatus> = {
  code: OFPT_PORT_STATUS,
  tag: 'port_status',
  size: () => PORT_STATUS_FIXED_LEN + OFP_PORT_LEN,
  read(r, xid) {
    expectBody(r, PORT_STATUS_FIXED_LEN + OFP_PORT_LEN, 'port_status');
    const reason = r.u8();
    r.skip(7);
    return { type: 'port_status', xid, reason, port: readPort(r) };
  },
  write(w, m) {
    w.u8(m.reason);
    w.pad(7);
    writePort(w, m.port);
  },
};

export const portMod: MessageCodec<PortMod> = {
  code: OFPT_PORT_MOD,
  tag: 'port_mod',
  size: () => PORT_MOD_BODY_LEN,
  read(r, xid) {
    expectBody(r, PORT_MOD_BODY_LEN, 'port_mod');
    const portNo = r.u32();
    r.skip(4);
    const hwAddr = r.mac();
    r.skip(2);
    const config = r.u32();
    const mask = r.u32();
    const advertise = r.u32();
    r.skip(4);
    return { type: 'port_mod', xid, portNo, hwAddr, config, mask, advertise };
  },
  write(w, m) {
    w.u32(m.portNo);
    w.pad(4);
    w.mac(m.hwAddr);
    w.pad(2);
    w.u32(m.config);
    w.u32(m.mask);
    w.u32(m.advertise);
    w.pad(4);
  },
};

export const queueGetConfigRequest: MessageCodec<QueueGetConfigRequest> = {
  code: OFPT_QUEUE_GET_CONFIG_REQUEST,
  tag: 'queue_get_config_request',
  size: () => QUEUE_GET_CONFIG_FIXED_LEN,
  read(r, xid) {
    expectBody(r, QUEUE_GET_CONFIG_FIXED_LEN, 'queue_get_config_request');
    const port = r.u32();
    r.skip(4);
    return { type: 'queue_get_config_request', xid, port };
  },
  write(w, m) {
    w.u32(m.port);
    w.pad(4);
  },
};

export const queueGetConfigReply: MessageCodec<QueueGetConfigReply> = {
  code: OFPT_QUEUE_GET_CONFIG_REPLY,
  tag: 'queue_get_config_reply',
  size: (m) => QUEUE_GET_CONFIG_FIXED_LEN + queuesSize(m.queues),
  read(r, xid) {
    r.need(QUEUE_GET_CONFIG_FIXED_LEN, 'queue_get_config_reply');
    const port = r.u32();
    r.skip(4);
    return { type: 'queue_get_config_reply', xid, port, queues: readQueues(r) };
  },
  write(w, m) {
    w.u32(m.port);
    w.pad(4);
    writeQueues(w, m.queues);
  },
};

// ---- barrier, role, asynchronous configuration ---------------------------------------

export const barrierRequest: MessageCodec<BarrierRequest> = headerOnly(OFPT_BARRIER_REQUEST, 'barrier_request');
export const barrierReply: MessageCodec<BarrierReply> = headerOnly(OFPT_BARRIER_REPLY, 'barrier_reply');

/** role_request and role_reply share ofp_role_request. */
function role<T extends 'role_request' | 'role_reply'>(
  code: number,
  tag: T,
): MessageCodec<{ readonly type: T; readonly xid: number; readonly role: number; readonly generationId: bigint }> {
  return {
    code,
    tag,
    size: () => ROLE_BODY_LEN,
    read(r, xid) {
      expectBody(r, ROLE_BODY_LEN, 'role message');
      const roleValue = r.u32();
      r.skip(4);
      return { type: tag, xid, role: roleValue, generationId: r.u64() };
    },
    write(w, m) {
      w.u32(m.role);
      w.pad(4);
      w.u64(m.generationId);
    },
  };
}

export const roleRequest: MessageCodec<RoleRequest> = role(OFPT_ROLE_REQUEST, 'role_request');
export const roleReply: MessageCodec<RoleReply> = role(OFPT_ROLE_REPLY, 'role_reply');

export const getAsyncRequest: MessageCodec<GetAsyncRequest> = headerOnly(OFPT_GET_ASYNC_REQUEST, 'get_async_request');

const pairOf = (r: Reader): [number, number] => [r.u32(), r.u32()];

/** get_async_reply and set_async share ofp_async_config. */
function asyncConfig<T extends 'get_async_reply' | 'set_async'>(code: number, tag: T): MessageCodec<AsyncConfig & { readonly type: T; readonly xid: number }> {
  return {
    code,
    tag,
    size: () => ASYNC_CONFIG_BODY_LEN,
    read(r, xid) {
      expectBody(r, ASYNC_CONFIG_BODY_LEN, 'async config');
      const packetInMask = pairOf(r);
      const portStatusMask = pairOf(r);
      const flowRemovedMask = pairOf(r);
      return { type: tag, xid, packetInMask, portStatusMask, flowRemovedMask };
    },
    write(w, m) {
      w.u32(m.packetInMask[0]);
      w.u32(m.packetInMask[1]);
      w.u32(m.portStatusMask[0]);
      w.u32(m.portStatusMask[1]);
      w.u32(m.flowRemovedMask[0]);
      w.u32(m.flowRemovedMask[1]);
    },
  };
}

export const getAsyncReply: MessageCodec<GetAsyncReply> = asyncConfig(OFPT_GET_ASYNC_REPLY, 'get_async_reply');
export const setAsync: MessageCodec<SetAsync> = asyncConfig(OFPT_SET_ASYNC, 'set_async');
