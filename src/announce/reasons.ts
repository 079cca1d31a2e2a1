/**
 * Why a Service, or one of its addresses, is not announced. `ironlb doctor` and the status objects
 * print these, so each names the exact rule that stopped the announcement and the numbers behind it.
 */

/** The filters a node passes, in order, before it may announce an address. */
export type FunnelStage =
  /** Matched by the nodeSelectors of an advertisement covering the address's pool. */
  | "nodeSelectors"
  /** Not excluded (exclude-from-external-load-balancers label, NetworkUnavailable=True). */
  | "exclusion"
  /** Layer 2: its speaker is alive. */
  | "liveSpeaker"
  /** BGP: it has a session with one of the advertisement's peers. */
  | "peerSession"
  /** Has a ready (or, failing that, serving) endpoint with Local policy; any endpoint anywhere with Cluster. */
  | "endpoints";

export interface FunnelStep {
  readonly stage: FunnelStage;
  /** Nodes left after this filter. */
  readonly remaining: number;
}

/** The first filter that left no node. */
export type NoEligibleNodeWhy =
  "noNodes" | "nodeSelectors" | "allExcluded" | "noLiveSpeaker" | "noPeerSession" | "noReadyEndpoint";

const WHY_OF_STAGE: Readonly<Record<FunnelStage, NoEligibleNodeWhy>> = {
  nodeSelectors: "nodeSelectors",
  exclusion: "allExcluded",
  liveSpeaker: "noLiveSpeaker",
  peerSession: "noPeerSession",
  endpoints: "noReadyEndpoint",
};

export function whyNoEligibleNode(nodes: number, funnel: readonly FunnelStep[]): NoEligibleNodeWhy {
  if (nodes === 0) return "noNodes";
  const empty = funnel.find((s) => s.remaining === 0);
  return empty === undefined ? "noReadyEndpoint" : WHY_OF_STAGE[empty.stage];
}

/** Why a Service is not considered at all. */
export type ServiceSkipReason =
  | { readonly code: "notLoadBalancer"; readonly type: string }
  | { readonly code: "otherClass" }
  | { readonly code: "noIPs" };

/** Why one address of a considered Service is not announced. */
export type IPNotAnnouncedReason =
  | { readonly code: "invalidIP" }
  | { readonly code: "ipNotInPool"; readonly allocatedFromPool?: string }
  | { readonly code: "noAdvertisement"; readonly pool: string }
  | {
      readonly code: "noEligibleNode";
      readonly why: NoEligibleNodeWhy;
      readonly pool: string;
      /** The advertisements covering the pool, by name. */
      readonly advertisements: readonly string[];
      /** Nodes in the snapshot. */
      readonly nodes: number;
      readonly funnel: readonly FunnelStep[];
      /** Nodes holding a ready or serving endpoint of the Service (for Local policy: where it could be). */
      readonly endpointNodes: readonly string[];
    };

export function describeServiceSkip(reason: ServiceSkipReason): string {
  switch (reason.code) {
    case "notLoadBalancer":
      return `the Service is of type ${reason.type}, not LoadBalancer`;
    case "otherClass":
      return "the Service's loadBalancerClass is not the one this IronLB serves";
    case "noIPs":
      return "the Service has no load-balancer IP in its status yet";
  }
}

const STAGE_TEXT: Readonly<Record<FunnelStage, string>> = {
  nodeSelectors: "matched by nodeSelectors",
  exclusion: "not excluded",
  liveSpeaker: "with a live speaker",
  peerSession: "with a session to a listed peer",
  endpoints: "with endpoints",
};

export function describeIPNotAnnounced(
  ip: string,
  reason: IPNotAnnouncedReason,
  mode: "layer2" | "bgp",
): string {
  const kind = mode === "layer2" ? "L2Advertisement" : "BGPAdvertisement";
  switch (reason.code) {
    case "invalidIP":
      return `${ip} is not a valid IP address`;
    case "ipNotInPool":
      return reason.allocatedFromPool === undefined
        ? `${ip} lies in no configured IPAddressPool`
        : `${ip} lies in no configured IPAddressPool (annotated pool "${reason.allocatedFromPool}" does not hold it)`;
    case "noAdvertisement":
      return `no ${kind} covers IPAddressPool "${reason.pool}" of ${ip}`;
    case "noEligibleNode": {
      const funnel = reason.funnel.map((s) => `${String(s.remaining)} ${STAGE_TEXT[s.stage]}`).join(", ");
      const ads = reason.advertisements.map((a) => `"${a}"`).join(", ");
      const head = `no node may announce ${ip} (pool "${reason.pool}", ${kind} ${ads})`;
      const detail: Record<NoEligibleNodeWhy, string> = {
        noNodes: "there are no nodes",
        nodeSelectors: "no node matches the advertisements' nodeSelectors",
        allExcluded:
          "every selected node is excluded (node.kubernetes.io/exclude-from-external-load-balancers or NetworkUnavailable)",
        noLiveSpeaker: "no selected node has a live speaker",
        noPeerSession: "no selected node has a BGP session with the advertisements' peers",
        noReadyEndpoint:
          reason.endpointNodes.length === 0
            ? "the Service has no ready or serving endpoint"
            : `the Service's endpoints are only on nodes that may not announce: ${reason.endpointNodes.join(", ")}`,
      };
      return `${head}: ${detail[reason.why]} [${String(reason.nodes)} nodes; ${funnel}]`;
    }
  }
}
