// Errors that reach callers of a session: the switch refused, the switch did not answer in time, or
// the connection ended first. Each carries a stable code.
import type { ErrorMsg } from 'openflow-ts';

/** The switch answered a request (or a programmed message) with OFPT_ERROR. */
export class SwitchRequestError extends Error {
  readonly code = 'OF_ERR_SWITCH_REJECTED';
  constructor(readonly error: ErrorMsg) {
    super(`switch rejected the request: error type ${error.errorType} code ${error.code}`);
  }
}

/** No reply within the request timeout. */
export class SwitchTimeoutError extends Error {
  readonly code = 'OF_ERR_SWITCH_TIMEOUT';
}

/** The session closed before the reply came. */
export class SessionClosedError extends Error {
  readonly code = 'OF_ERR_SESSION_CLOSED';
}

/** A reply under the request's xid that does not answer it. */
export class UnexpectedReplyError extends Error {
  readonly code = 'OF_ERR_UNEXPECTED_REPLY';
}

/** A program offered while this controller is not the switch's master (a slave of a cluster): never sent. */
export class NotMasterError extends Error {
  readonly code = 'OF_ERR_NOT_MASTER';
}
