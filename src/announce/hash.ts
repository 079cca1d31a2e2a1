/**
 * Rendezvous (highest-random-weight) hashing: each node gets a score for a key and the highest
 * score wins. Every speaker computes the same scores from the same strings, adding or removing a
 * node moves only the keys that node wins, and keys spread evenly over nodes.
 *
 * The score is a 53-bit hash (two 32-bit multiply-xor lanes with murmur3's finaliser), so it fits
 * a JavaScript number exactly and needs no BigInt or crypto on the hot path.
 */

function finalise32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const LANE_A_SEED = 0x811c9dc5;
const LANE_B_SEED = 0x2545f491;

function finish(a: number, b: number): number {
  const hi = finalise32(a ^ Math.imul(b, 0x27d4eb2f));
  const lo = finalise32(b ^ Math.imul(hi, 0x165667b1));
  return (hi & 0x1fffff) * 0x100000000 + lo;
}

/** A well-mixed hash of `text` in [0, 2^53). Stable across processes and releases: do not change. */
export function hash53(text: string): number {
  let a = LANE_A_SEED;
  let b = LANE_B_SEED;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return finish(a, b);
}

/**
 * The score of `node` for `key`: hash53(node + NUL + key), computed without building the string
 * (it runs once per node and address on every decision). NUL keeps ("ab","c") and ("a","bc") apart.
 */
export function rendezvousScore(node: string, key: string): number {
  let a = LANE_A_SEED;
  let b = LANE_B_SEED;
  for (let i = 0; i < node.length; i++) {
    const c = node.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a = Math.imul(a, 0x01000193); // the NUL separator (a ^ 0 === a)
  b = Math.imul(b, 0x5bd1e995);
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return finish(a, b);
}

/**
 * The node with the highest score for `key`; ties (astronomically rare) go to the smaller name so
 * the answer never depends on the order of `nodes`. Undefined for no nodes.
 */
export function rendezvousWinner(nodes: Iterable<string>, key: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const node of nodes) {
    const score = rendezvousScore(node, key);
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
