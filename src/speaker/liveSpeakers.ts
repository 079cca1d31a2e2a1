/**
 * Which nodes have a working speaker. The announcement decision only considers these nodes.
 * Today the answer comes from Leases (src/membership/leaseLiveSpeakers.ts); the membership
 * protocol will provide another implementation of the same interface.
 */
export interface LiveSpeakers {
  /** Node names whose speaker is alive now. */
  current(): ReadonlySet<string>;
  /** Called after every change of current(); returns an unsubscribe function. */
  onChange(callback: (live: ReadonlySet<string>) => void): () => void;
}

/** A fixed set, for tests and single-node use. */
export function staticLiveSpeakers(nodes: Iterable<string>): LiveSpeakers {
  const set: ReadonlySet<string> = new Set(nodes);
  return { current: () => set, onChange: () => () => undefined };
}

export function sameNodeSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const node of a) if (!b.has(node)) return false;
  return true;
}
