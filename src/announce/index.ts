/**
 * "Who announces what": the pure decision shared by the Layer 2 and BGP speakers and by
 * `ironlb doctor`. A snapshot of desired state in, per-node announcements and per-Service
 * reasons out; no I/O, no clock, and the same answer on every speaker for the same snapshot.
 */
export * from "./snapshot.js";
export * from "./reasons.js";
export { decideLayer2, layer2ForNode } from "./layer2.js";
export type { L2Announcement, L2AddressOutcome, L2ServiceResult, Layer2Decision } from "./layer2.js";
export {
  aggregatedPrefix,
  bgpPlanForNode,
  decideBGP,
  sessionsForNode,
  standardCommunityValue,
} from "./bgp.js";
export type {
  BGPAddressOutcome,
  BGPDecision,
  BGPNodePlan,
  BGPPeerPlan,
  BGPPrefixAdvertisement,
  BGPServiceResult,
} from "./bgp.js";
export {
  ALLOCATED_FROM_POOL_ANNOTATIONS,
  SERVICE_NAME_LABEL,
  endpointsFromSlices,
  nodeSnapshot,
  serviceSnapshot,
  snapshotFromKubernetes,
} from "./kubernetes.js";
export type { KubernetesSources, ServiceClassOptions } from "./kubernetes.js";
export { rendezvousScore, rendezvousWinner } from "./hash.js";
