/**
 * Values keyed by address ordinal within one range. Small ranges use a dense array (one memory
 * access, no hashing: this lookup sits on every allocate and release); large ones (an IPv6 /64)
 * a Map. Keys below 2^53 are stored as numbers, which hash and compare faster than bigints.
 */
const DENSE_MAX = 1n << 16n;

export class OrdinalTable<T> {
  private dense: (T | undefined)[] | undefined;
  private readonly sparse: Map<number | bigint, T> | undefined;
  private readonly capacity: number;

  constructor(capacity: bigint) {
    this.capacity = Number(capacity);
    if (capacity > DENSE_MAX) this.sparse = new Map();
  }

  get(ordinal: bigint): T | undefined {
    if (this.sparse !== undefined) return this.sparse.get(sparseKey(ordinal));
    return this.dense?.[Number(ordinal)];
  }

  set(ordinal: bigint, value: T): void {
    if (this.sparse !== undefined) {
      this.sparse.set(sparseKey(ordinal), value);
      return;
    }
    // Allocated on first use, so idle pools cost nothing.
    this.dense ??= new Array<T | undefined>(this.capacity).fill(undefined);
    this.dense[Number(ordinal)] = value;
  }

  delete(ordinal: bigint): void {
    if (this.sparse !== undefined) this.sparse.delete(sparseKey(ordinal));
    else if (this.dense !== undefined) this.dense[Number(ordinal)] = undefined;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function sparseKey(ordinal: bigint): number | bigint {
  return ordinal <= MAX_SAFE ? Number(ordinal) : ordinal;
}
