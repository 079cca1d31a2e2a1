import type { IPAddr } from "../net/ip.js";
import type { PoolSpec } from "../ipam/pool.js";
import type { BGPCommunity } from "./community.js";
import type { LabelSelector, Labels } from "./labelSelector.js";
import type { DynamicASNMode } from "./schema/bgpPeer.js";
import type { SecretValue } from "./secret.js";

/** Which pools an advertisement covers: named pools plus pools whose labels match; neither = all. */
export interface PoolReference {
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
}

export interface L2AdvertisementConfig extends PoolReference {
  readonly name: string;
  /** Empty: every node may announce. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** Empty: every interface. */
  readonly interfaces: readonly string[];
  /** Empty: every Service of the selected pools. */
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface BGPAdvertisementConfig extends PoolReference {
  readonly name: string;
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  /** Unset: no LOCAL_PREF preference expressed. */
  readonly localPref?: number;
  /** Aliases resolved, duplicates removed, in the order written. */
  readonly communities: readonly BGPCommunity[];
  /** Empty: every node announces. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** BGPPeer names; empty: every peer. */
  readonly peers: readonly string[];
}

export type PeerAuth =
  | { readonly kind: "none" }
  | { readonly kind: "password"; readonly password: SecretValue }
  | { readonly kind: "secret"; readonly secretName: string; readonly secretNamespace: string };

export interface BGPPeerConfig {
  readonly name: string;
  readonly myASN: number;
  /** A fixed AS number, or the dynamic mode (the peer's ASN is learnt from its OPEN). */
  readonly peerASN: number | DynamicASNMode;
  /** iBGP when the peer is in our AS (fixed equal ASN, or dynamic "internal"). */
  readonly sessionType: "ibgp" | "ebgp";
  readonly peerAddress: IPAddr;
  readonly sourceAddress?: IPAddr;
  readonly peerPort: number;
  /** 0 or at least 3 (0: no hold timer, no keepalives). */
  readonly holdTimeSeconds: number;
  readonly keepaliveTimeSeconds: number;
  readonly connectTimeSeconds: number;
  /** Dotted-quad BGP identifier; unset: the speaker picks one. */
  readonly routerID?: string;
  /** Empty: every node peers. */
  readonly nodeSelectors: readonly LabelSelector[];
  readonly auth: PeerAuth;
  readonly bfdProfile?: string;
  readonly ebgpMultiHop: boolean;
  readonly enableGracefulRestart: boolean;
}

/** A BFD profile with every default applied; intervals in milliseconds. */
export interface BFDProfileConfig {
  readonly name: string;
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

/** The validated whole configuration the controller and the speakers act on. */
export interface IronLBConfig {
  /** Sorted by name; exactly what the allocator consumes. */
  readonly pools: readonly PoolSpec[];
  readonly poolsByName: ReadonlyMap<string, PoolSpec>;
  /** metadata.labels of each pool, for ipAddressPoolSelectors. */
  readonly poolLabels: ReadonlyMap<string, Labels>;
  readonly l2Advertisements: readonly L2AdvertisementConfig[];
  readonly bgpAdvertisements: readonly BGPAdvertisementConfig[];
  readonly bgpPeers: readonly BGPPeerConfig[];
  readonly bfdProfiles: ReadonlyMap<string, BFDProfileConfig>;
  readonly communityAliases: ReadonlyMap<string, BGPCommunity>;
}
