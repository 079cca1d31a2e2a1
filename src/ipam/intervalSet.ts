/**
 * A set of bigints stored as disjoint, non-adjacent closed intervals in an AVL tree keyed by
 * interval start. Membership, insertion, removal and "smallest non-member ≥ x" each cost
 * O(log k), where k is the number of intervals (not the number of members): a /64 filled from
 * its start is one interval. The allocator keeps one per address range, holding the ordinals
 * of the addresses in use.
 */

interface IntervalNode {
  lo: bigint;
  hi: bigint;
  left: IntervalNode | undefined;
  right: IntervalNode | undefined;
  height: number;
}

const heightOf = (n: IntervalNode | undefined): number => (n === undefined ? 0 : n.height);

function update(n: IntervalNode): void {
  n.height = Math.max(heightOf(n.left), heightOf(n.right)) + 1;
}

function rotateRight(n: IntervalNode): IntervalNode {
  const l = n.left as IntervalNode;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft(n: IntervalNode): IntervalNode {
  const r = n.right as IntervalNode;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function rebalance(n: IntervalNode): IntervalNode {
  update(n);
  const balance = heightOf(n.left) - heightOf(n.right);
  if (balance > 1) {
    const l = n.left as IntervalNode;
    if (heightOf(l.left) < heightOf(l.right)) n.left = rotateLeft(l);
    return rotateRight(n);
  }
  if (balance < -1) {
    const r = n.right as IntervalNode;
    if (heightOf(r.right) < heightOf(r.left)) n.right = rotateRight(r);
    return rotateLeft(n);
  }
  return n;
}

function insertNode(root: IntervalNode | undefined, node: IntervalNode): IntervalNode {
  if (root === undefined) return node;
  if (node.lo < root.lo) root.left = insertNode(root.left, node);
  else root.right = insertNode(root.right, node);
  return rebalance(root);
}

function removeMin(root: IntervalNode): { rest: IntervalNode | undefined; min: IntervalNode } {
  if (root.left === undefined) return { rest: root.right, min: root };
  const { rest, min } = removeMin(root.left);
  root.left = rest;
  return { rest: rebalance(root), min };
}

function removeNode(root: IntervalNode | undefined, lo: bigint): IntervalNode | undefined {
  if (root === undefined) return undefined;
  if (lo < root.lo) root.left = removeNode(root.left, lo);
  else if (lo > root.lo) root.right = removeNode(root.right, lo);
  else {
    if (root.left === undefined) return root.right;
    if (root.right === undefined) return root.left;
    const { rest, min } = removeMin(root.right);
    min.left = root.left;
    min.right = rest;
    return rebalance(min);
  }
  return rebalance(root);
}

export class IntervalSet {
  private root: IntervalNode | undefined;
  private members = 0n;
  private intervalCount = 0;

  /** Number of members (not intervals). */
  get size(): bigint {
    return this.members;
  }

  /** Number of stored intervals: the structure's memory footprint, for tests and benchmarks. */
  get intervals(): number {
    return this.intervalCount;
  }

  has(x: bigint): boolean {
    const f = this.floor(x);
    return f !== undefined && f.hi >= x;
  }

  /** Adds x; returns false when it was already a member. */
  add(x: bigint): boolean {
    const below = this.floor(x);
    if (below !== undefined && below.hi >= x) return false;
    this.members++;
    const joinsBelow = below !== undefined && below.hi === x - 1n;
    const above = this.startingAt(x + 1n);
    if (joinsBelow && above !== undefined) {
      below.hi = above.hi;
      this.root = removeNode(this.root, above.lo);
      this.intervalCount--;
    } else if (joinsBelow) {
      below.hi = x;
    } else if (above !== undefined) {
      // Lowering a start by one keeps the tree ordered: nothing lies between x and x + 1.
      above.lo = x;
    } else {
      this.root = insertNode(this.root, { lo: x, hi: x, left: undefined, right: undefined, height: 1 });
      this.intervalCount++;
    }
    return true;
  }

  /** Removes x; returns false when it was not a member. */
  delete(x: bigint): boolean {
    const n = this.floor(x);
    if (n === undefined || n.hi < x) return false;
    this.members--;
    if (n.lo === n.hi) {
      this.root = removeNode(this.root, n.lo);
      this.intervalCount--;
    } else if (x === n.lo) {
      n.lo = x + 1n; // still below the next interval's start, so the order holds
    } else if (x === n.hi) {
      n.hi = x - 1n;
    } else {
      const hi = n.hi;
      n.hi = x - 1n;
      this.root = insertNode(this.root, { lo: x + 1n, hi, left: undefined, right: undefined, height: 1 });
      this.intervalCount++;
    }
    return true;
  }

  /** The smallest y ≥ x that is not a member (may lie beyond the caller's domain). */
  firstAbsentFrom(x: bigint): bigint {
    const f = this.floor(x);
    // Intervals never touch, so the value right after the one covering x is free.
    return f !== undefined && f.hi >= x ? f.hi + 1n : x;
  }

  /** The member intervals in ascending order, as [first, last] pairs. */
  *entries(): IterableIterator<readonly [bigint, bigint]> {
    const stack: IntervalNode[] = [];
    let n = this.root;
    while (n !== undefined || stack.length > 0) {
      while (n !== undefined) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop() as IntervalNode;
      yield [top.lo, top.hi];
      n = top.right;
    }
  }

  /** Tree height, for tests that check the balance. */
  get height(): number {
    return heightOf(this.root);
  }

  /** The interval with the greatest start ≤ x. */
  private floor(x: bigint): IntervalNode | undefined {
    let n = this.root;
    let best: IntervalNode | undefined;
    while (n !== undefined) {
      if (n.lo <= x) {
        best = n;
        n = n.right;
      } else {
        n = n.left;
      }
    }
    return best;
  }

  private startingAt(x: bigint): IntervalNode | undefined {
    let n = this.root;
    while (n !== undefined) {
      if (x === n.lo) return n;
      n = x < n.lo ? n.left : n.right;
    }
    return undefined;
  }
}
