// A switch connection (see session/): the step that runs the protocol, the socket adapter that
// callers use, and the errors they may see.
export { SwitchSession, type Outgoing, type SessionOptions, type SessionEvents, type TableMissPolicy } from './session/session.ts';
export { SwitchRequestError, SwitchTimeoutError, SessionClosedError, UnexpectedReplyError } from './session/errors.ts';
export type { SessionState, SessionCounters, PacketInGate } from './session/machine.ts';
export type { MeterFeatures } from './session/requests.ts';
