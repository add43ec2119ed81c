// Cookie tags: the top byte of every rule's cookie says which part of the controller owns it, so
// each part deletes, counts and recognises only its own rules.
//   forwarding: 0xf1 | 56-bit flow number
//   intents:    0xf2 | 32-bit intent number | 24-bit path version
// Each intent install uses a fresh version, so the rules of the path left behind are deleted
// exactly (an add with the same match takes the new cookie in place); removing the intent deletes
// every version through the mask.

/** The tag byte of any cookie. */
export const COOKIE_TAG_MASK = 0xffn << 56n;

export const FORWARDING_COOKIE_TAG = 0xf1n << 56n;
export const INTENT_COOKIE_TAG = 0xf2n << 56n;

/** Tag and intent number: every version of one intent's rules. */
export const INTENT_COOKIE_MASK = 0xffff_ffff_ff00_0000n;
const FLOW_BITS = (1n << 56n) - 1n;
const VERSION_BITS = 0xff_ffffn;

export function forwardingCookie(flowId: bigint): bigint {
  return FORWARDING_COOKIE_TAG | (flowId & FLOW_BITS);
}

/** The flow number inside a forwarding cookie. */
export function flowIdOf(cookie: bigint): bigint {
  return cookie & FLOW_BITS;
}

export function isForwardingCookie(cookie: bigint): boolean {
  return (cookie & COOKIE_TAG_MASK) === FORWARDING_COOKIE_TAG;
}

export function intentCookie(num: number, version = 0): bigint {
  return INTENT_COOKIE_TAG | (BigInt(num) << 24n) | (BigInt(version) & VERSION_BITS);
}

export function isIntentCookie(cookie: bigint): boolean {
  return (cookie & COOKIE_TAG_MASK) === INTENT_COOKIE_TAG;
}
