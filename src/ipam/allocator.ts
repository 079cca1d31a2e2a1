/**
 * The address allocator: pure, deterministic state (no I/O, no clock) that decides which
 * Service holds which address. The controller feeds it pools and Service requests and turns
 * its answers into Service status, Events and conditions.
 *
 * Cost: allocate, assign and release are O(log n) in the pool size (used addresses are kept as
 * runs in balanced trees) and O(log p) in the number of pools without a serviceAllocation
 * (full pools are skipped through an index); pools with a serviceAllocation are found through
 * a namespace index and sorted per request. Pool counters are plain fields. Who holds an
 * address is found through a per-range table indexed by the address's ordinal.
 */
import { formatIP, tryParseIP, type IPFamily } from "../net/ip.js";
import type { PoolSpec } from "./pool.js";
import { PoolQueue, type FamilyNeed } from "./poolQueue.js";
import { AllocatorInvariantError, FAMILIES, PoolState, type PoolRange } from "./poolState.js";
import { failure, type AllocationFailure, type IPSource } from "./reasons.js";
import { portKey, serviceKey, type IPFamilyPolicy, type ServiceRequest } from "./service.js";
import { AddressState, Holding, type Address, type Assignment, type Placement } from "./holding.js";

export type { Assignment } from "./holding.js";

export type AllocateResult =
  | {
      readonly ok: true;
      readonly ips: readonly string[];
      readonly pool: string;
      /** False when the Service keeps exactly the addresses and pool it held before. */
      readonly changed: boolean;
    }
  | { readonly ok: false; readonly reason: AllocationFailure };

export type AssignResult =
  | { readonly ok: true; readonly ips: readonly string[]; readonly pool: string }
  | { readonly ok: false; readonly reason: AllocationFailure };

/** A Service that lost its addresses in a configuration change; the caller re-allocates it. */
export interface Eviction {
  readonly assignment: Assignment;
  readonly reason: AllocationFailure;
}

/** The counters behind IPAddressPool status. Shared addresses count once. */
export interface PoolStats {
  readonly assignedIPv4: bigint;
  readonly assignedIPv6: bigint;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

/** The configuration handed to setPools breaks the loader's guarantees (a bug upstream). */
export class PoolConfigError extends Error {
  override readonly name = "PoolConfigError";
  readonly code = "PoolConfig";
}

interface FamilyPlan {
  /** The families to allocate, primary first. */
  readonly wanted: readonly IPFamily[];
  readonly policy: IPFamilyPolicy;
  /** What to look for in pools, in order: both families first when the policy wants both. */
  readonly needs: readonly FamilyNeed[];
}

/** The ordinal of an address its range hands out (callers have checked it is not avoided). */
function ordinalIn(range: PoolRange, value: bigint): bigint {
  const ordinal = range.range.ordinalOf(value);
  if (ordinal === undefined) throw new AllocatorInvariantError(`address ${value} is avoided by its range`);
  return ordinal;
}

/** The state of an address in use, if it is. */
function liveState(range: PoolRange, value: bigint): AddressState | undefined {
  const ordinal = range.range.ordinalOf(value);
  return ordinal === undefined ? undefined : range.states.get(ordinal);
}

const NO_POOLS: readonly PoolState[] = [];
const NOTHING_SHAREABLE: ReadonlyMap<PoolState, Set<IPFamily>> = new Map();

/** Whether a pool can give the need: free addresses, or addresses the Service may share. */
function satisfies(
  p: PoolState,
  need: FamilyNeed,
  shareable: ReadonlyMap<PoolState, ReadonlySet<IPFamily>>,
): boolean {
  if (need !== "both") return p.free(need) > 0n || (shareable.get(p)?.has(need) ?? false);
  return satisfies(p, "IPv4", shareable) && satisfies(p, "IPv6", shareable);
}

const isFailure = (x: object): x is AllocationFailure => "code" in x && "message" in x;

export class Allocator {
  private pools = new Map<string, PoolState>();
  /** Every pool range per family, sorted by first address, for address → pool lookups. */
  private ranges: Record<IPFamily, PoolRange[]> = { IPv4: [], IPv6: [] };
  /** autoAssign pools with a serviceAllocation, indexed by the namespaces they name. */
  private scopedByNamespace = new Map<string, PoolState[]>();
  /** autoAssign pools with a serviceAllocation that selects namespaces by label. */
  private scopedBySelector: PoolState[] = [];
  /** autoAssign pools with a serviceAllocation that does not restrict namespaces. */
  private scopedOpen: PoolState[] = [];
  /** Try order of scoped pools: priority (unset last), then name. */
  private scopedRank = new Map<PoolState, number>();
  /** autoAssign pools without a serviceAllocation, by name. */
  private unscoped = new PoolQueue([]);

  /** Addresses in use per sharing key, to find a shareable address without a scan. */
  private sharedByKey = new Map<string, Set<AddressState>>();
  private holdings = new Map<string, Holding>();

  /**
   * Replaces the pool configuration. Assignments whose addresses still lie in one pool the
   * Service may use stay (a renamed or split pool keeps them); the rest are released and
   * returned so the caller can re-allocate those Services.
   */
  setPools(specs: readonly PoolSpec[]): Eviction[] {
    this.buildPools(specs);
    const previous = [...this.holdings.values()];
    this.sharedByKey = new Map();
    this.holdings = new Map();
    const evicted: Eviction[] = [];
    for (const old of previous) {
      const { service, key } = old;
      const placed = this.place(key, service, old.addresses, "assigned", false);
      if (isFailure(placed)) {
        evicted.push({ assignment: old, reason: placed });
        continue;
      }
      // Holders of one address were compatible before; a pool change cannot change that.
      this.commit(key, service, placed.pool, placed.placements);
    }
    return evicted;
  }

  /**
   * Loads an assignment that already exists (from Service status at restart). It succeeds
   * without changing anything else when the addresses fit the request, lie in one pool the
   * Service may use and can be shared with their other holders; otherwise the reason says
   * why and the allocator is left as it was.
   */
  assign(service: ServiceRequest, ips: readonly string[]): AssignResult {
    const key = serviceKey(service);
    const plan = familyPlan(service);
    if (isFailure(plan)) return { ok: false, reason: plan };
    const addrs = parseAddresses(ips, "assigned", plan, service.ipFamilies);
    if (isFailure(addrs)) return { ok: false, reason: addrs };
    if (service.requestedIPs.length > 0) {
      const requested = parseAddresses(service.requestedIPs, "requested", plan, service.ipFamilies);
      if (isFailure(requested)) return { ok: false, reason: requested };
      if (!sameAddresses(addrs, requested)) {
        return {
          ok: false,
          reason: failure.assignedIPsNotRequested(
            addrs.map((a) => a.text),
            requested.map((a) => a.text),
          ),
        };
      }
    }
    const placed = this.place(key, service, addrs, "assigned", true);
    if (isFailure(placed)) return { ok: false, reason: placed };
    const existing = this.holdings.get(key);
    if (existing !== undefined) this.uncommit(existing);
    const held = this.commit(key, service, placed.pool, placed.placements);
    return { ok: true, ips: held.ips, pool: held.pool };
  }

  /**
   * Gives the Service addresses, keeping those it holds when they still satisfy its request
   * (its ports and sharing key are updated in place). On failure the Service holds nothing.
   */
  allocate(service: ServiceRequest): AllocateResult {
    const key = serviceKey(service);
    const existing = this.holdings.get(key);
    const plan = familyPlan(service);
    if (!isFailure(plan) && existing !== undefined) {
      const kept = this.keep(existing, service, plan);
      if (kept !== undefined) return kept;
    }
    if (existing !== undefined) this.uncommit(existing);
    if (isFailure(plan)) return { ok: false, reason: plan };
    const fresh = this.allocateFresh(key, service, plan);
    if (isFailure(fresh)) return { ok: false, reason: fresh };
    const held = this.commit(key, service, fresh.pool, fresh.placements);
    const { ips, pool } = held;
    const changed = existing === undefined || existing.pool !== pool || !sameText(existing.ips, ips);
    return { ok: true, ips, pool, changed };
  }

  /** Releases the Service's addresses; returns false when it held none. */
  release(key: string): boolean {
    const held = this.holdings.get(key);
    if (held === undefined) return false;
    this.uncommit(held);
    return true;
  }

  assignmentOf(key: string): Assignment | undefined {
    return this.holdings.get(key);
  }

  /** Every assignment, in the order they were made. */
  *assignments(): IterableIterator<Assignment> {
    yield* this.holdings.values();
  }

  /** Number of Services holding addresses. */
  get size(): number {
    return this.holdings.size;
  }

  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  poolStats(name: string): PoolStats | undefined {
    const p = this.pools.get(name);
    if (p === undefined) return undefined;
    return {
      assignedIPv4: BigInt(p.assigned("IPv4")),
      assignedIPv6: BigInt(p.assigned("IPv6")),
      availableIPv4: p.free("IPv4"),
      availableIPv6: p.free("IPv6"),
    };
  }

  /** The pool that hands out this address, or undefined (also for an avoided .0/.255). */
  poolOf(ip: string): string | undefined {
    const addr = tryParseIP(ip);
    if (addr === undefined) return undefined;
    const found = this.locate({ ...addr, text: ip }, "requested");
    return isFailure(found) ? undefined : found.pool.name;
  }

  /** The Services holding an address, sorted. */
  holdersOf(ip: string): string[] {
    const addr = tryParseIP(ip);
    if (addr === undefined) return [];
    const found = this.locate({ ...addr, text: ip }, "requested");
    const state = isFailure(found) ? undefined : liveState(found, addr.value);
    return state === undefined
      ? []
      : state
          .holders()
          .map((h) => h.key)
          .sort();
  }

  // ── configuration ────────────────────────────────────────────────────────────────────

  private buildPools(specs: readonly PoolSpec[]): void {
    const pools = new Map<string, PoolState>();
    for (const spec of specs) {
      if (pools.has(spec.name)) throw new PoolConfigError(`duplicate pool name "${spec.name}"`);
      pools.set(spec.name, new PoolState(spec));
    }
    const ranges: Record<IPFamily, PoolRange[]> = { IPv4: [], IPv6: [] };
    for (const family of FAMILIES) {
      const all = [...pools.values()].flatMap((p) => p.rangesOf(family));
      all.sort((a, b) => (a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : 0));
      for (let i = 1; i < all.length; i++) {
        const prev = all[i - 1] as PoolRange;
        const cur = all[i] as PoolRange;
        if (cur.range.first <= prev.range.last) {
          throw new PoolConfigError(`pools "${prev.pool.name}" and "${cur.pool.name}" overlap`);
        }
      }
      ranges[family] = all;
    }

    const byName = (a: PoolState, b: PoolState): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const scoped = [...pools.values()].filter(
      (p) => p.spec.autoAssign && p.spec.serviceAllocation !== undefined,
    );
    const priority = (p: PoolState): number => {
      // 0 is Go's zero value: MetalLB treats it as "no priority", and so do we.
      const v = p.spec.serviceAllocation?.priority ?? 0;
      return v === 0 ? Number.POSITIVE_INFINITY : v;
    };
    scoped.sort((a, b) => priority(a) - priority(b) || byName(a, b));
    this.scopedRank = new Map(scoped.map((p, i) => [p, i]));
    this.scopedByNamespace = new Map();
    this.scopedBySelector = [];
    this.scopedOpen = [];
    for (const p of scoped) {
      const sa = p.spec.serviceAllocation;
      const namespaces = sa?.namespaces ?? [];
      const selectors = sa?.namespaceSelectors ?? [];
      for (const ns of namespaces) {
        const list = this.scopedByNamespace.get(ns) ?? [];
        list.push(p);
        this.scopedByNamespace.set(ns, list);
      }
      if (selectors.length > 0) this.scopedBySelector.push(p);
      if (namespaces.length === 0 && selectors.length === 0) this.scopedOpen.push(p);
    }
    const unscoped = [...pools.values()].filter(
      (p) => p.spec.autoAssign && p.spec.serviceAllocation === undefined,
    );
    unscoped.sort(byName);

    this.pools = pools;
    this.ranges = ranges;
    this.unscoped = new PoolQueue(unscoped);
  }

  // ── keeping, placing and choosing addresses ───────────────────────────────────────────

  /** Keeps (and possibly completes) the Service's current addresses, or returns undefined. */
  private keep(existing: Holding, service: ServiceRequest, plan: FamilyPlan): AllocateResult | undefined {
    const key = existing.key;
    let kept: AddressState[];
    if (service.requestedIPs.length > 0) {
      const requested = parseAddresses(service.requestedIPs, "requested", plan, service.ipFamilies);
      if (isFailure(requested) || !sameAddresses(existing.addresses, requested)) return undefined;
      kept = requested.flatMap((r) =>
        existing.addresses.filter((a) => a.value === r.value && a.family === r.family),
      );
    } else {
      kept = plan.wanted.flatMap((f) => existing.addresses.filter((a) => a.family === f));
      if (kept.length === 0) return undefined;
    }
    const pool = existing.poolState;
    if (this.vet(key, service, pool, kept, "assigned") !== undefined) return undefined;

    const placements: Placement[] = [...kept];
    if (service.requestedIPs.length === 0 && kept.length < plan.wanted.length) {
      // A dual-stack Service holding one family: add the other from the same pool if it can.
      for (const family of plan.wanted) {
        if (kept.some((a) => a.family === family)) continue;
        const extra = this.pick(pool, family, key, service);
        if (extra !== undefined) placements.push(extra);
        else if (plan.policy === "RequireDualStack") return undefined;
      }
      placements.sort((a, b) => plan.wanted.indexOf(a.family) - plan.wanted.indexOf(b.family));
    }
    this.uncommit(existing);
    const held = this.commit(key, service, pool, placements);
    const { ips } = held;
    const changed = !sameText(existing.ips, ips);
    return { ok: true, ips, pool: pool.name, changed };
  }

  private allocateFresh(
    key: string,
    service: ServiceRequest,
    plan: FamilyPlan,
  ): { pool: PoolState; placements: Placement[] } | AllocationFailure {
    if (service.requestedIPs.length > 0) {
      const addrs = parseAddresses(service.requestedIPs, "requested", plan, service.ipFamilies);
      if (isFailure(addrs)) return addrs;
      return this.place(key, service, addrs, "requested", true);
    }
    if (service.requestedPool !== undefined) {
      const pool = this.pools.get(service.requestedPool);
      if (pool === undefined) return failure.requestedPoolNotFound(service.requestedPool);
      const exclusion = pool.exclusionFor(service);
      if (exclusion !== undefined)
        return failure.poolNotAllowed(pool.name, exclusion, "pool", service.namespace);
      const placements = this.fillFrom(pool, key, service, plan);
      return isFailure(placements) ? placements : { pool, placements };
    }
    return this.allocateAutomatically(key, service, plan);
  }

  /** Pools with a matching serviceAllocation first, then pools without one. */
  private allocateAutomatically(
    key: string,
    service: ServiceRequest,
    plan: FamilyPlan,
  ): { pool: PoolState; placements: Placement[] } | AllocationFailure {
    const scoped = this.scopedPoolsFor(service);
    if (scoped.length === 0 && this.unscoped.pools.length === 0)
      return failure.noPoolMatches(service.namespace);
    const needs = plan.needs;
    const shareable = this.shareablePools(key, service);

    for (const need of needs) {
      let pool: PoolState | undefined;
      for (const p of scoped) {
        if (satisfies(p, need, shareable)) {
          pool = p;
          break;
        }
      }
      if (pool !== undefined) {
        const placements = this.fillFrom(pool, key, service, plan);
        if (!isFailure(placements)) return { pool, placements };
      }
    }
    for (const need of needs) {
      let best = this.unscoped.first(need);
      let bestAt = best === undefined ? Infinity : (this.unscoped.positionOf(best) ?? Infinity);
      for (const p of shareable.keys()) {
        const at = this.unscoped.positionOf(p);
        if (at !== undefined && at < bestAt && satisfies(p, need, shareable)) {
          best = p;
          bestAt = at;
        }
      }
      if (best !== undefined) {
        const placements = this.fillFrom(best, key, service, plan);
        if (!isFailure(placements)) return { pool: best, placements };
      }
    }
    return this.whyNothingFits([...scoped, ...this.unscoped.pools], plan);
  }

  /** The failure of an automatic allocation: no pool has the families at all, or all are full. */
  private whyNothingFits(candidates: readonly PoolState[], plan: FamilyPlan): AllocationFailure {
    const together = plan.policy === "RequireDualStack" && plan.wanted.length > 1;
    const fits = (p: PoolState): boolean =>
      together ? plan.wanted.every((f) => p.hasFamily(f)) : plan.wanted.some((f) => p.hasFamily(f));
    const withFamilies = candidates.filter(fits).map((p) => p.name);
    if (withFamilies.length === 0) return failure.familyNotAvailable(plan.wanted, undefined, together);
    return failure.poolExhausted(plan.wanted, withFamilies, together);
  }

  /** autoAssign pools whose serviceAllocation admits the Service, in try order. */
  private scopedPoolsFor(service: ServiceRequest): readonly PoolState[] {
    if (this.scopedRank.size === 0) return NO_POOLS;
    const found: PoolState[] = [];
    const lists = [
      this.scopedByNamespace.get(service.namespace) ?? [],
      this.scopedBySelector,
      this.scopedOpen,
    ];
    for (const list of lists) {
      for (const p of list) {
        if (!found.includes(p) && p.exclusionFor(service) === undefined) found.push(p);
      }
    }
    if (found.length > 1) found.sort(this.byScopedRank);
    return found;
  }

  private readonly byScopedRank = (a: PoolState, b: PoolState): number =>
    (this.scopedRank.get(a) ?? 0) - (this.scopedRank.get(b) ?? 0);

  /** Pools holding an address this Service could share, with the families of such addresses. */
  private shareablePools(key: string, service: ServiceRequest): ReadonlyMap<PoolState, Set<IPFamily>> {
    if (service.sharingKey === undefined) return NOTHING_SHAREABLE;
    const result = new Map<PoolState, Set<IPFamily>>();
    for (const state of this.sharedByKey.get(service.sharingKey) ?? []) {
      if (this.conflictAt(state, key, service, "requested") !== undefined) continue;
      const families = result.get(state.range.pool) ?? new Set<IPFamily>();
      families.add(state.family);
      result.set(state.range.pool, families);
    }
    return result;
  }

  /** Takes the Service's families from one pool, as its ipFamilyPolicy demands. */
  private fillFrom(
    pool: PoolState,
    key: string,
    service: ServiceRequest,
    plan: FamilyPlan,
  ): Placement[] | AllocationFailure {
    const picks: Placement[] = [];
    for (const family of plan.wanted) {
      const p = this.pick(pool, family, key, service);
      if (p !== undefined) picks.push(p);
    }
    const together = plan.policy !== "PreferDualStack";
    if (together ? picks.length === plan.wanted.length : picks.length > 0) return picks;
    const missing = plan.wanted.filter((f) => !pool.hasFamily(f));
    if (together ? missing.length > 0 : missing.length === plan.wanted.length) {
      return failure.familyNotAvailable(together ? missing : plan.wanted, pool.name, together);
    }
    const exhausted = plan.wanted.filter((f) => pool.hasFamily(f) && !picks.some((p) => p.family === f));
    return failure.poolExhausted(exhausted, [pool.name], together);
  }

  /**
   * One address of a family from a pool: an address the Service can share (lowest first) when
   * it carries a sharing key, else the lowest free one.
   */
  private pick(
    pool: PoolState,
    family: IPFamily,
    key: string,
    service: ServiceRequest,
  ): Placement | undefined {
    if (service.sharingKey !== undefined) {
      let best: AddressState | undefined;
      for (const state of this.sharedByKey.get(service.sharingKey) ?? []) {
        if (state.range.pool !== pool || state.family !== family) continue;
        if (best !== undefined && best.value < state.value) continue;
        if (this.conflictAt(state, key, service, "requested") === undefined) best = state;
      }
      if (best !== undefined) return best;
    }
    const free = pool.lowestFree(family);
    if (free === undefined) return undefined;
    return {
      family,
      value: free.address,
      text: addressText(family, free.address),
      range: free.range,
    };
  }

  /**
   * Checks explicitly given addresses (requested, being loaded, or kept over a configuration
   * change): each lies in a pool, all in one, which the Service may use and, with `checkSharing`,
   * whose current holders let the Service share.
   */
  private place(
    key: string,
    service: ServiceRequest,
    addrs: readonly Address[],
    source: IPSource,
    checkSharing: boolean,
  ): { pool: PoolState; placements: Placement[] } | AllocationFailure {
    const placements: Placement[] = [];
    for (const a of addrs) {
      const found = this.locate(a, source);
      if (isFailure(found)) return found;
      const live = liveState(found, a.value);
      placements.push(live ?? { family: a.family, value: a.value, text: a.text, range: found });
    }
    const pools = placements.map((p) => p.range.pool);
    const pool = pools[0];
    if (pool === undefined) throw new AllocatorInvariantError(`no addresses to place for ${key}`);
    if (pools.some((p) => p !== pool)) {
      return failure.requestedIPsInDifferentPools(
        placements.map((p) => p.text),
        pools.map((p) => p.name),
        source,
      );
    }
    const problem = checkSharing
      ? this.vet(key, service, pool, placements, source)
      : this.poolProblem(service, pool, placements, source);
    return problem ?? { pool, placements };
  }

  /** Whether the Service may hold these addresses of this pool: pool rules, then sharing. */
  private vet(
    key: string,
    service: ServiceRequest,
    pool: PoolState,
    placements: readonly Placement[],
    source: IPSource,
  ): AllocationFailure | undefined {
    const problem = this.poolProblem(service, pool, placements, source);
    if (problem !== undefined) return problem;
    for (const p of placements) {
      // Placements of addresses in use are their live AddressState (see place and keep).
      const conflict = p instanceof AddressState ? this.conflictAt(p, key, service, source) : undefined;
      if (conflict !== undefined) return conflict;
    }
    return undefined;
  }

  private poolProblem(
    service: ServiceRequest,
    pool: PoolState,
    addrs: readonly Address[],
    source: IPSource,
  ): AllocationFailure | undefined {
    const first = addrs[0];
    if (service.requestedPool !== undefined && service.requestedPool !== pool.name && first !== undefined) {
      return failure.requestedIPNotInRequestedPool(first.text, pool.name, service.requestedPool, source);
    }
    const exclusion = pool.exclusionFor(service);
    return exclusion === undefined
      ? undefined
      : failure.poolNotAllowed(pool.name, exclusion, source, service.namespace);
  }

  /** Why the Service may not join the holders of an address, or undefined when it may. */
  private conflictAt(
    state: AddressState,
    key: string,
    service: ServiceRequest,
    source: IPSource,
  ): AllocationFailure | undefined {
    let other: string | undefined;
    const holders = state.holders();
    for (const h of holders) {
      const holder = h.key;
      if (holder !== key && (other === undefined || holder < other)) other = holder;
    }
    // Alone on the address (or not on it at all): a sole owner may change its keys in place.
    if (other === undefined) return undefined;
    if (service.sharingKey === undefined || service.sharingKey !== state.sharingKey) {
      return failure.requestedIPInUse(state.text, other, "sharing-key", source, {
        ourKey: service.sharingKey,
        theirKey: state.sharingKey,
      });
    }
    if (service.backendKey !== state.backendKey) {
      return failure.requestedIPInUse(state.text, other, "backend", source);
    }
    for (const port of service.ports) {
      for (const h of holders) {
        if (h.key === key) continue;
        if (h.service.ports.some((p) => p.port === port.port && p.protocol === port.protocol)) {
          return failure.requestedIPInUse(state.text, h.key, "port", source, {
            port: portKey(port),
          });
        }
      }
    }
    return undefined;
  }

  /** Finds the pool range of an address by binary search over all ranges of its family. */
  private locate(addr: Address, source: IPSource): PoolRange | AllocationFailure {
    const ranges = this.ranges[addr.family];
    let lo = 0;
    let hi = ranges.length - 1;
    let found: PoolRange | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid] as PoolRange;
      if (r.range.first <= addr.value) {
        found = r;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found === undefined || !found.range.contains(addr.value)) {
      return failure.requestedIPNotInAnyPool(addr.text, source);
    }
    if (found.range.avoids(addr.value)) return failure.requestedIPAvoided(addr.text, found.pool.name, source);
    return found;
  }

  // ── bookkeeping ────────────────────────────────────────────────────────────────────────

  private commit(
    key: string,
    service: ServiceRequest,
    pool: PoolState,
    placements: readonly Placement[],
  ): Holding {
    const [p0, p1] = placements;
    if (p0 === undefined || placements.length > 2) {
      throw new AllocatorInvariantError(`${placements.length} addresses for ${key}`);
    }
    const first = this.stateFor(p0);
    const second = p1 === undefined ? undefined : this.stateFor(p1);
    const ips = second === undefined ? [first.text] : [first.text, second.text];
    const holding = new Holding(key, service, ips, pool.name, pool, first, second);
    this.join(holding, first);
    if (second !== undefined) this.join(holding, second);
    this.holdings.set(key, holding);
    return holding;
  }

  private join(holding: Holding, state: AddressState): void {
    const { sharingKey, backendKey } = holding.service;
    if (state.holderCount === 0) {
      state.sharingKey = sharingKey;
      state.backendKey = backendKey;
      if (sharingKey !== undefined) {
        const set = this.sharedByKey.get(sharingKey) ?? new Set();
        set.add(state);
        this.sharedByKey.set(sharingKey, set);
      }
    }
    state.addHolder(holding);
  }

  private stateFor(p: Placement): AddressState {
    // Addresses in use reach here as their AddressState; anything else is free. A state whose
    // last holder just left (a Service re-committing its own address) starts over.
    if (p instanceof AddressState && p.holderCount > 0) return p;
    const ordinal = ordinalIn(p.range, p.value);
    const state = new AddressState(p.family, p.text, p.range, ordinal);
    p.range.states.set(ordinal, state);
    if (p.range.pool.markUsed(p.range, ordinal)) this.unscoped.refresh(p.range.pool);
    return state;
  }

  private uncommit(holding: Holding): void {
    this.leave(holding, holding.first);
    if (holding.second !== undefined) this.leave(holding, holding.second);
    this.holdings.delete(holding.key);
  }

  private leave(holding: Holding, state: AddressState): void {
    state.removeHolder(holding);
    if (state.holderCount > 0) return;
    const ordinal = state.ordinal;
    state.range.states.delete(ordinal);
    if (state.sharingKey !== undefined) {
      const set = this.sharedByKey.get(state.sharingKey);
      set?.delete(state);
      if (set?.size === 0) this.sharedByKey.delete(state.sharingKey);
    }
    const pool = state.range.pool;
    if (pool.markFree(state.range, ordinal)) this.unscoped.refresh(pool);
  }
}

// ── request interpretation ─────────────────────────────────────────────────────────────

/** Every valid (policy, ipFamilies) combination, built once: planning a request allocates nothing. */
const PLANS: Partial<Record<string, Partial<Record<string, Partial<Record<string, FamilyPlan>>>>>> = {};
for (const policy of ["SingleStack", "PreferDualStack", "RequireDualStack"] as const) {
  for (const primary of FAMILIES) {
    for (const secondary of [...FAMILIES, undefined]) {
      if (secondary === primary || (policy === "RequireDualStack" && secondary === undefined)) continue;
      const wanted = policy === "SingleStack" || secondary === undefined ? [primary] : [primary, secondary];
      const needs: FamilyNeed[] =
        wanted.length === 1
          ? [primary]
          : policy === "RequireDualStack"
            ? ["both"]
            : ["both", primary, wanted[1] as IPFamily];
      const byPrimary = (PLANS[policy] ??= {});
      (byPrimary[primary] ??= {})[secondary ?? "-"] = { wanted, policy, needs };
    }
  }
}

function familyPlan(service: ServiceRequest): FamilyPlan | AllocationFailure {
  const fs = service.ipFamilies;
  // The values come from a Kubernetes object: anything not in the table is invalid.
  const plan = fs.length <= 2 ? PLANS[service.ipFamilyPolicy]?.[fs[0] ?? "-"]?.[fs[1] ?? "-"] : undefined;
  return plan ?? failure.invalidIPFamilies(fs, service.ipFamilyPolicy);
}

/** Parses addresses and checks them against the family plan; returns them in family order. */
function parseAddresses(
  texts: readonly string[],
  source: IPSource,
  plan: FamilyPlan,
  ipFamilies: readonly IPFamily[],
): Address[] | AllocationFailure {
  const addrs: Address[] = [];
  for (const t of texts) {
    const ip = tryParseIP(t);
    if (ip === undefined) return failure.invalidRequestedIP(t, source);
    addrs.push({ family: ip.family, value: ip.value, text: formatIP(ip) });
  }
  const mismatch = (detail: string): AllocationFailure =>
    failure.requestedIPsFamilyMismatch(
      addrs.map((a) => a.text),
      ipFamilies,
      plan.policy,
      source,
      detail,
    );
  if (addrs.length > 2) return failure.tooManyRequestedIPs(texts, source);
  if (addrs.length === 0) return mismatch("no address given");
  const [a, b] = addrs as [Address, Address?];
  if (b !== undefined && a.family === b.family) return mismatch(`both addresses are ${a.family}`);
  for (const x of addrs) {
    if (!plan.wanted.includes(x.family)) {
      return mismatch(`${x.text} is ${x.family}, and the Service takes ${plan.wanted.join(" and ")} only`);
    }
  }
  if (plan.policy === "RequireDualStack" && addrs.length < 2) {
    return mismatch("RequireDualStack needs one IPv4 and one IPv6 address");
  }
  return addrs.sort((x, y) => plan.wanted.indexOf(x.family) - plan.wanted.indexOf(y.family));
}

function sameAddresses(held: readonly Address[], wanted: readonly Address[]): boolean {
  return (
    held.length === wanted.length &&
    wanted.every((w) => held.some((h) => h.family === w.family && h.value === w.value))
  );
}

function sameText(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Canonical text; IPv4 without the generic formatter's bigint shifts (this is the hot path). */
function addressText(family: IPFamily, value: bigint): string {
  if (family === "IPv6") return formatIP({ family, value });
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
