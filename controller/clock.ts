// Time is a parameter: sessions and monitors read it through a Clock, so tests can drive it.

export interface Clock {
  now(): number;
  setInterval(fn: () => void, ms: number): Cancel;
  setTimeout(fn: () => void, ms: number): Cancel;
}

export type Cancel = () => void;

export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};
