import { sameCommunity, type BGPCommunity } from "../community.js";
import type { Findings } from "../configError.js";
import type { BGPAdvertisementConfig, L2AdvertisementConfig } from "../configTypes.js";
import type { CheckedObject } from "../objects.js";
import { BGP_ADVERTISEMENT_DEFAULTS, type BGPAdvertisementSpec } from "../schema/bgpAdvertisement.js";
import type { L2AdvertisementSpec } from "../schema/l2Advertisement.js";
import { checkNoRepeats, checkReferences, checkSelectors } from "./common.js";
import { resolveCommunity, type CommunityAliases } from "./communities.js";

/** Linux interface names: 1-15 bytes, no '/', ':' or whitespace, not "." or "..". */
function interfaceProblem(name: string): string | undefined {
  if (name.length > 15 || /[\s/:]/.test(name) || name === "." || name === "..") {
    return "is not a valid interface name (at most 15 characters, no '/', ':' or spaces)";
  }
  return undefined;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function buildL2Advertisements(
  objects: readonly CheckedObject<L2AdvertisementSpec>[],
  poolNames: ReadonlySet<string>,
  findings: Findings,
): L2AdvertisementConfig[] {
  const KIND = "L2Advertisement";
  return [...objects].sort(byName).map(({ name, spec }) => {
    checkReferences(
      spec.ipAddressPools,
      poolNames,
      "IPAddressPool",
      "spec.ipAddressPools",
      KIND,
      name,
      findings,
    );
    checkNoRepeats(spec.ipAddressPools, "spec.ipAddressPools", KIND, name, findings);
    checkSelectors(spec.ipAddressPoolSelectors, "spec.ipAddressPoolSelectors", KIND, name, findings);
    checkSelectors(spec.nodeSelectors, "spec.nodeSelectors", KIND, name, findings);
    checkSelectors(spec.serviceSelectors, "spec.serviceSelectors", KIND, name, findings);
    (spec.interfaces ?? []).forEach((ifname, i) => {
      const problem = interfaceProblem(ifname);
      if (problem) findings.error("InvalidValue", KIND, name, `spec.interfaces[${i}]`, ifname, problem);
    });
    return {
      name,
      ipAddressPools: spec.ipAddressPools ?? [],
      ipAddressPoolSelectors: spec.ipAddressPoolSelectors ?? [],
      nodeSelectors: spec.nodeSelectors ?? [],
      interfaces: spec.interfaces ?? [],
      serviceSelectors: spec.serviceSelectors ?? [],
    };
  });
}

function resolveCommunities(
  name: string,
  texts: readonly string[],
  aliases: CommunityAliases,
  findings: Findings,
): BGPCommunity[] {
  const out: BGPCommunity[] = [];
  texts.forEach((text, i) => {
    const resolved = resolveCommunity(text, aliases);
    if (resolved.ok) {
      if (!out.some((c) => sameCommunity(c, resolved.community))) out.push(resolved.community);
    } else if (resolved.code !== "AlreadyReported") {
      findings.error(
        resolved.code,
        "BGPAdvertisement",
        name,
        `spec.communities[${i}]`,
        text,
        resolved.reason,
      );
    }
  });
  return out;
}

export function buildBGPAdvertisements(
  objects: readonly CheckedObject<BGPAdvertisementSpec>[],
  poolNames: ReadonlySet<string>,
  peerNames: ReadonlySet<string>,
  aliases: CommunityAliases,
  findings: Findings,
): BGPAdvertisementConfig[] {
  const KIND = "BGPAdvertisement";
  return [...objects].sort(byName).map(({ name, spec }) => {
    checkReferences(
      spec.ipAddressPools,
      poolNames,
      "IPAddressPool",
      "spec.ipAddressPools",
      KIND,
      name,
      findings,
    );
    checkNoRepeats(spec.ipAddressPools, "spec.ipAddressPools", KIND, name, findings);
    checkReferences(spec.peers, peerNames, "BGPPeer", "spec.peers", KIND, name, findings);
    checkNoRepeats(spec.peers, "spec.peers", KIND, name, findings);
    checkSelectors(spec.ipAddressPoolSelectors, "spec.ipAddressPoolSelectors", KIND, name, findings);
    checkSelectors(spec.nodeSelectors, "spec.nodeSelectors", KIND, name, findings);
    return {
      name,
      aggregationLength: spec.aggregationLength ?? BGP_ADVERTISEMENT_DEFAULTS.aggregationLength,
      aggregationLengthV6: spec.aggregationLengthV6 ?? BGP_ADVERTISEMENT_DEFAULTS.aggregationLengthV6,
      ...(spec.localPref !== undefined ? { localPref: spec.localPref } : {}),
      communities: resolveCommunities(name, spec.communities ?? [], aliases, findings),
      ipAddressPools: spec.ipAddressPools ?? [],
      ipAddressPoolSelectors: spec.ipAddressPoolSelectors ?? [],
      nodeSelectors: spec.nodeSelectors ?? [],
      peers: spec.peers ?? [],
    };
  });
}
