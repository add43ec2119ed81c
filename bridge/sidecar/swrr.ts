// Smooth weighted round robin (the scheme nginx uses): every pick adds each peer's weight
// to its running score, takes the highest, and charges it the total. Deterministic, and
// it interleaves (5:1:1 gives a a b a c a a, not a a a a a b c).

export class SmoothWeightedRoundRobin {
  private peers: { id: string; weight: number; current: number }[] = [];
  private key = '';

  /** Sets the weights; the running scores restart only when the weights really change. */
  setWeights(weights: Readonly<Record<string, number>>): void {
    const entries = Object.entries(weights).sort(([a], [b]) => a.localeCompare(b));
    const key = entries.map(([id, w]) => `${id}=${w}`).join(',');
    if (key === this.key) return;
    this.key = key;
    this.peers = entries.map(([id, weight]) => ({ id, weight: Math.max(0, weight), current: 0 }));
  }

  /** The next peer, skipping any in `exclude` (a retry must go elsewhere); undefined when none is left. */
  next(exclude?: ReadonlySet<string>): string | undefined {
    let total = 0;
    let best: { id: string; weight: number; current: number } | undefined;
    for (const p of this.peers) {
      if (p.weight === 0 || exclude?.has(p.id)) continue;
      p.current += p.weight;
      total += p.weight;
      if (!best || p.current > best.current) best = p;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.id;
  }
}
