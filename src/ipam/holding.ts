/**
 * What the allocator keeps per address and per Service. Internal to src/ipam: callers see
 * Holding only through the Assignment interface.
 */
import type { IPFamily } from "../net/ip.js";
import type { PoolRange, PoolState } from "./poolState.js";
import type { ServiceRequest } from "./service.js";

/** One Service's addresses, as the allocator holds them. */
export interface Assignment {
  /** "namespace/name" */
  readonly key: string;
  /** The request the addresses were allocated or loaded for. */
  readonly service: ServiceRequest;
  /** Canonical address text, in the order of the Service's ipFamilies. */
  readonly ips: readonly string[];
  readonly pool: string;
}

/** Ordinals up to here are stored as numbers: they fit a V8 small integer on every platform. */
const SMALL = 0x3fffffffn;

export interface Address {
  readonly family: IPFamily;
  readonly value: bigint;
  readonly text: string;
}

/** An address chosen for a Service, with the pool range it lies in. */
export interface Placement extends Address {
  readonly range: PoolRange;
}

/** An address in use and the Services on it. */
export class AddressState implements Placement {
  /**
   * The first holder inline and any sharers in an array made only when needed: most addresses
   * have one holder, and every object saved per address shows in memory and GC time.
   */
  private holder: Holding | undefined;
  private sharers: Holding[] | undefined;
  /** Keys every holder shares (a sole holder's own keys). */
  sharingKey: string | undefined;
  backendKey = "";

  /** The address's ordinal in its range; a small integer for any IPv4 range, so no heap object. */
  private readonly ord: number | bigint;

  constructor(
    readonly family: IPFamily,
    readonly text: string,
    readonly range: PoolRange,
    ordinal: bigint,
  ) {
    this.ord = ordinal <= SMALL ? Number(ordinal) : ordinal;
  }

  get ordinal(): bigint {
    return typeof this.ord === "number" ? BigInt(this.ord) : this.ord;
  }

  get value(): bigint {
    return this.range.range.addressOf(this.ordinal);
  }

  get holderCount(): number {
    return (this.holder === undefined ? 0 : 1) + (this.sharers?.length ?? 0);
  }

  holders(): Holding[] {
    if (this.holder === undefined) return [];
    return this.sharers === undefined ? [this.holder] : [this.holder, ...this.sharers];
  }

  addHolder(h: Holding): void {
    if (this.holder === undefined) this.holder = h;
    else (this.sharers ??= []).push(h);
  }

  removeHolder(h: Holding): void {
    if (this.holder === h) {
      this.holder = this.sharers?.shift();
    } else if (this.sharers !== undefined) {
      const at = this.sharers.indexOf(h);
      if (at >= 0) this.sharers.splice(at, 1);
    }
    if (this.sharers?.length === 0) this.sharers = undefined;
  }
}

/**
 * A Service's assignment together with the allocator's links to it; handed out typed as
 * Assignment (one object per Service instead of two) and never mutated: a change makes a new one.
 */
export class Holding implements Assignment {
  constructor(
    readonly key: string,
    readonly service: ServiceRequest,
    readonly ips: readonly string[],
    readonly pool: string,
    readonly poolState: PoolState,
    /** The addresses as two fields rather than an array: one object less per Service. */
    readonly first: AddressState,
    readonly second: AddressState | undefined,
  ) {}

  get addresses(): AddressState[] {
    return this.second === undefined ? [this.first] : [this.first, this.second];
  }

  /** Logs and JSON show the Assignment, not the allocator's internal links (which are cyclic). */
  toJSON(): Assignment {
    return { key: this.key, service: this.service, ips: this.ips, pool: this.pool };
  }
}
