/**
 * Why an address could not be allocated or an existing assignment could not be kept. Each
 * reason is a value with a stable `code` (for conditions, Events and metrics labels), the data
 * that explains it, and a `message` a user can act on.
 */
import type { IPFamily } from "../net/ip.js";
import type { IPFamilyPolicy } from "./service.js";

/**
 * Where an address under judgement came from: the Service's own request, or an assignment
 * being loaded (`Allocator.assign`, e.g. from Service status at restart).
 */
export type IPSource = "requested" | "assigned";

export type SharingConflict = "sharing-key" | "port" | "backend";

interface Base<C extends string> {
  readonly code: C;
  readonly message: string;
}

export interface ClassNotOurs extends Base<"ClassNotOurs"> {
  readonly loadBalancerClass: string | undefined;
  readonly servedClass: string | undefined;
}
export interface InvalidIPFamilies extends Base<"InvalidIPFamilies"> {
  readonly families: readonly string[];
  readonly policy: IPFamilyPolicy;
}
export interface InvalidRequestedIP extends Base<"InvalidRequestedIP"> {
  readonly ip: string;
  readonly source: IPSource;
}
export interface TooManyRequestedIPs extends Base<"TooManyRequestedIPs"> {
  readonly ips: readonly string[];
  readonly source: IPSource;
}
export interface RequestedIPsFamilyMismatch extends Base<"RequestedIPsFamilyMismatch"> {
  readonly ips: readonly string[];
  readonly families: readonly IPFamily[];
  readonly policy: IPFamilyPolicy;
  readonly source: IPSource;
}
export interface RequestedIPNotInAnyPool extends Base<"RequestedIPNotInAnyPool"> {
  readonly ip: string;
  readonly source: IPSource;
}
export interface RequestedIPAvoided extends Base<"RequestedIPAvoided"> {
  readonly ip: string;
  readonly pool: string;
  readonly source: IPSource;
}
export interface RequestedIPsInDifferentPools extends Base<"RequestedIPsInDifferentPools"> {
  readonly ips: readonly string[];
  readonly pools: readonly string[];
  readonly source: IPSource;
}
export interface RequestedIPNotInRequestedPool extends Base<"RequestedIPNotInRequestedPool"> {
  readonly ip: string;
  readonly pool: string;
  readonly requestedPool: string;
  readonly source: IPSource;
}
export interface RequestedIPInUse extends Base<"RequestedIPInUse"> {
  readonly ip: string;
  /** The Service ("namespace/name") already holding the address. */
  readonly by: string;
  readonly conflict: SharingConflict;
  /** For a port conflict, the port both use ("TCP/80"). */
  readonly port: string | undefined;
  readonly source: IPSource;
}
export interface AssignedIPsNotRequested extends Base<"AssignedIPsNotRequested"> {
  readonly ips: readonly string[];
  readonly requestedIPs: readonly string[];
}
export interface RequestedPoolNotFound extends Base<"RequestedPoolNotFound"> {
  readonly pool: string;
}
export interface PoolNotAllowed extends Base<"PoolNotAllowed"> {
  readonly pool: string;
  /** Which part of the pool's serviceAllocation excludes the Service. */
  readonly restriction: "namespace" | "service-labels";
  readonly source: IPSource | "pool";
}
export interface FamilyNotAvailable extends Base<"FamilyNotAvailable"> {
  readonly families: readonly IPFamily[];
  /** True when all `families` were needed from one pool (RequireDualStack), false when any would do. */
  readonly together: boolean;
  /** The one pool considered, or undefined when every pool that may serve the Service lacks them. */
  readonly pool: string | undefined;
}
export interface PoolExhausted extends Base<"PoolExhausted"> {
  readonly families: readonly IPFamily[];
  readonly together: boolean;
  /** The pools that could have served the Service and are full, in the order they were tried. */
  readonly pools: readonly string[];
}
export interface NoPoolMatches extends Base<"NoPoolMatches"> {
  readonly namespace: string;
}

export type AllocationFailure =
  | ClassNotOurs
  | InvalidIPFamilies
  | InvalidRequestedIP
  | TooManyRequestedIPs
  | RequestedIPsFamilyMismatch
  | RequestedIPNotInAnyPool
  | RequestedIPAvoided
  | RequestedIPsInDifferentPools
  | RequestedIPNotInRequestedPool
  | RequestedIPInUse
  | AssignedIPsNotRequested
  | RequestedPoolNotFound
  | PoolNotAllowed
  | FamilyNotAvailable
  | PoolExhausted
  | NoPoolMatches;

export type AllocationFailureCode = AllocationFailure["code"];

const plural = (items: readonly unknown[], one: string, many: string): string =>
  items.length === 1 ? one : many;

const subject = (source: IPSource, ip: string): string =>
  source === "requested" ? `requested address ${ip}` : `assigned address ${ip}`;

const list = (items: readonly string[], max = 5): string => {
  const quoted = items.map((i) => `"${i}"`);
  if (quoted.length <= max) return quoted.join(", ");
  return `${quoted.slice(0, max).join(", ")} and ${quoted.length - max} more`;
};

/** Constructors: one per code, each composing the human message from the data. */
export const failure = {
  classNotOurs(loadBalancerClass: string | undefined, servedClass: string | undefined): ClassNotOurs {
    const theirs =
      loadBalancerClass === undefined ? "no loadBalancerClass" : `loadBalancerClass "${loadBalancerClass}"`;
    const ours =
      servedClass === undefined
        ? "Services without a loadBalancerClass"
        : `loadBalancerClass "${servedClass}"`;
    return {
      code: "ClassNotOurs",
      loadBalancerClass,
      servedClass,
      message: `the Service has ${theirs}; this IronLB serves ${ours}`,
    };
  },

  invalidIPFamilies(fs: readonly string[], policy: IPFamilyPolicy): InvalidIPFamilies {
    let why: string;
    if (fs.length === 0) why = "the Service lists no ipFamilies";
    else if (fs.some((f) => f !== "IPv4" && f !== "IPv6"))
      why = `ipFamilies [${fs.join(", ")}] has an unknown family`;
    else if (fs.length > 2 || new Set(fs).size !== fs.length)
      why = `ipFamilies [${fs.join(", ")}] repeats a family`;
    else
      why = `ipFamilyPolicy ${policy} needs both IPv4 and IPv6 in ipFamilies, the Service lists [${fs.join(", ")}]`;
    return { code: "InvalidIPFamilies", families: fs, policy, message: why };
  },

  invalidRequestedIP(ip: string, source: IPSource): InvalidRequestedIP {
    return {
      code: "InvalidRequestedIP",
      ip,
      source,
      message: `${subject(source, `"${ip}"`)} is not a valid IPv4 or IPv6 address`,
    };
  },

  tooManyRequestedIPs(ips: readonly string[], source: IPSource): TooManyRequestedIPs {
    return {
      code: "TooManyRequestedIPs",
      ips,
      source,
      message: `${ips.length} addresses ${source} (${ips.join(", ")}); a Service takes at most two, one IPv4 and one IPv6`,
    };
  },

  requestedIPsFamilyMismatch(
    ips: readonly string[],
    ipFamilies: readonly IPFamily[],
    policy: IPFamilyPolicy,
    source: IPSource,
    detail: string,
  ): RequestedIPsFamilyMismatch {
    return {
      code: "RequestedIPsFamilyMismatch",
      ips,
      families: ipFamilies,
      policy,
      source,
      message: `the ${source} ${plural(ips, "address", "addresses")} ${ips.join(", ")} ${plural(ips, "does", "do")} not fit ipFamilyPolicy ${policy} with ipFamilies [${ipFamilies.join(", ")}]: ${detail}`,
    };
  },

  requestedIPNotInAnyPool(ip: string, source: IPSource): RequestedIPNotInAnyPool {
    return {
      code: "RequestedIPNotInAnyPool",
      ip,
      source,
      message: `${subject(source, ip)} is not in any address pool`,
    };
  },

  requestedIPAvoided(ip: string, pool: string, source: IPSource): RequestedIPAvoided {
    return {
      code: "RequestedIPAvoided",
      ip,
      pool,
      source,
      message: `${subject(source, ip)} is in pool "${pool}", which sets avoidBuggyIPs and so never hands out addresses ending in .0 or .255`,
    };
  },

  requestedIPsInDifferentPools(
    ips: readonly string[],
    pools: readonly string[],
    source: IPSource,
  ): RequestedIPsInDifferentPools {
    const where = ips.map((ip, i) => `${ip} (pool "${pools[i] ?? "?"}")`).join(" and ");
    return {
      code: "RequestedIPsInDifferentPools",
      ips,
      pools,
      source,
      message: `the ${source} addresses ${where} are in different pools; a dual-stack Service takes both addresses from one pool`,
    };
  },

  requestedIPNotInRequestedPool(
    ip: string,
    pool: string,
    requestedPool: string,
    source: IPSource,
  ): RequestedIPNotInRequestedPool {
    return {
      code: "RequestedIPNotInRequestedPool",
      ip,
      pool,
      requestedPool,
      source,
      message: `${subject(source, ip)} belongs to pool "${pool}", not to the requested pool "${requestedPool}"`,
    };
  },

  requestedIPInUse(
    ip: string,
    by: string,
    conflict: SharingConflict,
    source: IPSource,
    detail: { port?: string; ourKey?: string | undefined; theirKey?: string | undefined } = {},
  ): RequestedIPInUse {
    let why: string;
    switch (conflict) {
      case "sharing-key": {
        const ours = detail.ourKey === undefined ? "none" : `"${detail.ourKey}"`;
        const theirs = detail.theirKey === undefined ? "none" : `"${detail.theirKey}"`;
        why = `the two Services do not carry the same allow-shared-ip key (this Service: ${ours}, ${by}: ${theirs})`;
        break;
      }
      case "port":
        why = `both Services use port ${detail.port ?? "?"}`;
        break;
      case "backend":
        why =
          "the Services select different backends (with externalTrafficPolicy Local, Services sharing an address need the same selector)";
        break;
    }
    return {
      code: "RequestedIPInUse",
      ip,
      by,
      conflict,
      port: detail.port,
      source,
      message: `${subject(source, ip)} is in use by ${by} and cannot be shared: ${why}`,
    };
  },

  assignedIPsNotRequested(ips: readonly string[], requestedIPs: readonly string[]): AssignedIPsNotRequested {
    return {
      code: "AssignedIPsNotRequested",
      ips,
      requestedIPs,
      message: `the assigned ${plural(ips, "address", "addresses")} ${ips.join(", ")} ${plural(ips, "differs", "differ")} from the requested ${requestedIPs.join(", ")}`,
    };
  },

  requestedPoolNotFound(pool: string): RequestedPoolNotFound {
    return {
      code: "RequestedPoolNotFound",
      pool,
      message: `the requested address pool "${pool}" does not exist`,
    };
  },

  poolNotAllowed(
    pool: string,
    restriction: "namespace" | "service-labels",
    source: IPSource | "pool",
    namespace: string,
  ): PoolNotAllowed {
    const what =
      restriction === "namespace"
        ? `its serviceAllocation does not admit namespace "${namespace}"`
        : "its serviceAllocation.serviceSelectors do not match the Service's labels";
    const asked = source === "pool" ? "the requested pool" : `the pool of the ${source} address`;
    return {
      code: "PoolNotAllowed",
      pool,
      restriction,
      source,
      message: `${asked}, "${pool}", may not serve this Service: ${what}`,
    };
  },

  familyNotAvailable(
    needed: readonly IPFamily[],
    pool: string | undefined,
    together: boolean,
  ): FamilyNotAvailable {
    const joined = needed.join(together ? " and " : " or ");
    const where =
      pool === undefined ? "no address pool that may serve this Service has" : `pool "${pool}" has no`;
    const suffix = together && needed.length > 1 ? " (a dual-stack Service takes both from one pool)" : "";
    return {
      code: "FamilyNotAvailable",
      families: needed,
      together,
      pool,
      message: `${where} ${joined} addresses${suffix}`,
    };
  },

  poolExhausted(needed: readonly IPFamily[], pools: readonly string[], together: boolean): PoolExhausted {
    const what =
      together && needed.length > 1
        ? `free ${needed.join(" and ")} address pair`
        : `free ${needed.join(" or ")} address`;
    const message =
      pools.length === 1
        ? `pool "${pools[0] ?? ""}" has no ${what} left`
        : `none of the ${pools.length} pools that may serve this Service (${list(pools)}) has a ${what} left`;
    return { code: "PoolExhausted", families: needed, together, pools, message };
  },

  noPoolMatches(namespace: string): NoPoolMatches {
    return {
      code: "NoPoolMatches",
      namespace,
      message:
        "no address pool may serve this Service automatically: no pool with autoAssign has a serviceAllocation " +
        "matching it, and no pool with autoAssign lacks a serviceAllocation; request a pool or an address, or add a pool",
    };
  },
} as const;
