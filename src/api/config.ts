/**
 * Whole-configuration validation: the one function the webhook, the controller and the speakers
 * share. It takes the raw objects of every kind (as read from Kubernetes or a file), checks each
 * against its schema and every cross-object rule, and returns either the typed configuration or
 * every error at once.
 */
import { ConfigError, ConfigValidationError, Findings } from "./configError.js";
import type { IronLBConfig } from "./configTypes.js";
import { BFDPROFILE, BGPADVERTISEMENT, BGPPEER, COMMUNITY, IPADDRESSPOOL, L2ADVERTISEMENT } from "./kinds.js";
import { readObjects } from "./objects.js";
import { checkAggregationLengths } from "./rules/aggregation.js";
import { buildBGPAdvertisements, buildL2Advertisements } from "./rules/advertisements.js";
import { buildBFDProfiles } from "./rules/bfd.js";
import { buildCommunityAliases } from "./rules/communities.js";
import { checkLocalPrefConflicts } from "./rules/localPref.js";
import { buildPeers } from "./rules/peers.js";
import { buildPools } from "./rules/pools.js";
import { BFDProfileSpecSchema } from "./schema/bfdProfile.js";
import { BGPAdvertisementSpecSchema } from "./schema/bgpAdvertisement.js";
import { BGPPeerSpecSchema } from "./schema/bgpPeer.js";
import { IRONLB_API_VERSION } from "./schema/common.js";
import { CommunitySpecSchema } from "./schema/community.js";
import { IPAddressPoolSpecSchema } from "./schema/ipAddressPool.js";
import { L2AdvertisementSpecSchema } from "./schema/l2Advertisement.js";

/** Raw objects of each kind: `{apiVersion?, kind?, metadata: {name, namespace, labels}, spec}`. */
export interface ConfigInput {
  readonly ipAddressPools?: readonly unknown[];
  readonly l2Advertisements?: readonly unknown[];
  readonly bgpAdvertisements?: readonly unknown[];
  readonly bgpPeers?: readonly unknown[];
  readonly bfdProfiles?: readonly unknown[];
  readonly communities?: readonly unknown[];
}

export type ConfigResult =
  | { readonly ok: true; readonly config: IronLBConfig; readonly warnings: readonly ConfigError[] }
  | {
      readonly ok: false;
      readonly errors: readonly ConfigError[];
      readonly warnings: readonly ConfigError[];
    };

export function validateConfig(input: ConfigInput): ConfigResult {
  const findings = new Findings();
  const pools = readObjects(IPADDRESSPOOL, IPAddressPoolSpecSchema, input.ipAddressPools ?? [], findings);
  const l2 = readObjects(L2ADVERTISEMENT, L2AdvertisementSpecSchema, input.l2Advertisements ?? [], findings);
  const bgp = readObjects(
    BGPADVERTISEMENT,
    BGPAdvertisementSpecSchema,
    input.bgpAdvertisements ?? [],
    findings,
  );
  const peers = readObjects(BGPPEER, BGPPeerSpecSchema, input.bgpPeers ?? [], findings);
  const bfd = readObjects(BFDPROFILE, BFDProfileSpecSchema, input.bfdProfiles ?? [], findings);
  const communities = readObjects(COMMUNITY, CommunitySpecSchema, input.communities ?? [], findings);

  const builtPools = buildPools(pools.objects, findings);
  const aliases = buildCommunityAliases(communities.objects, findings);
  const bfdProfiles = buildBFDProfiles(bfd.objects, findings);
  const bgpPeers = buildPeers(peers.objects, bfdProfiles, bfd.names, findings);
  const l2Advertisements = buildL2Advertisements(l2.objects, pools.names, findings);
  const bgpAdvertisements = buildBGPAdvertisements(bgp.objects, pools.names, peers.names, aliases, findings);
  checkAggregationLengths(
    bgpAdvertisements,
    builtPools.pools,
    builtPools.labels,
    builtPools.entries,
    findings,
  );
  checkLocalPrefConflicts(bgpAdvertisements, builtPools.pools, builtPools.labels, findings);

  if (findings.errors.length > 0) return { ok: false, errors: findings.errors, warnings: findings.warnings };
  const config: IronLBConfig = {
    pools: builtPools.pools,
    poolsByName: new Map(builtPools.pools.map((p) => [p.name, p])),
    poolLabels: builtPools.labels,
    l2Advertisements,
    bgpAdvertisements,
    bgpPeers,
    bfdProfiles,
    communityAliases: aliases.values,
  };
  return { ok: true, config, warnings: findings.warnings };
}

/** validateConfig for callers that prefer an exception (the CLI, tests). */
export function assertValidConfig(input: ConfigInput): IronLBConfig {
  const result = validateConfig(input);
  if (!result.ok) throw new ConfigValidationError(result.errors);
  return result.config;
}

const INPUT_FIELD: Readonly<Record<string, keyof ConfigInput>> = {
  IPAddressPool: "ipAddressPools",
  L2Advertisement: "l2Advertisements",
  BGPAdvertisement: "bgpAdvertisements",
  BGPPeer: "bgpPeers",
  BFDProfile: "bfdProfiles",
  Community: "communities",
};

/**
 * Sorts a mixed list of objects (a multi-document YAML file, a list from the API) into a
 * ConfigInput. Objects that are not ironlb.io/v1beta1 configuration kinds are returned in `other`.
 */
export function configInputFromObjects(objects: readonly unknown[]): {
  input: ConfigInput;
  other: unknown[];
} {
  const groups: Record<keyof ConfigInput, unknown[]> = {
    ipAddressPools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    bgpPeers: [],
    bfdProfiles: [],
    communities: [],
  };
  const other: unknown[] = [];
  for (const obj of objects) {
    const { apiVersion, kind } = (typeof obj === "object" && obj !== null ? obj : {}) as Record<
      string,
      unknown
    >;
    const field = typeof kind === "string" ? INPUT_FIELD[kind] : undefined;
    if (apiVersion === IRONLB_API_VERSION && field !== undefined) groups[field].push(obj);
    else other.push(obj);
  }
  return { input: groups, other };
}
