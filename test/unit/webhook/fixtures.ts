import type { ConfigInput } from "../../../src/api/config.js";

export const NAMESPACE = "ironlb-system";

/** A configuration object as the API server sends it. */
export function object(
  kind: string,
  name: string,
  spec: unknown,
  extra: { namespace?: string; labels?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    apiVersion: "ironlb.io/v1beta1",
    kind,
    metadata: {
      name,
      namespace: extra.namespace ?? NAMESPACE,
      ...(extra.labels === undefined ? {} : { labels: extra.labels }),
    },
    ...(spec === undefined ? {} : { spec }),
  };
}

/** A valid configuration: an L2 pool, a BGP pool, a peer, a BFD profile and a Community alias. */
export function validCluster(): Required<{ -readonly [K in keyof ConfigInput]: unknown[] }> {
  return {
    ipAddressPools: [
      object("IPAddressPool", "lan", { addresses: ["192.0.2.200-192.0.2.250"] }),
      object("IPAddressPool", "bgp", { addresses: ["198.51.100.0/24"] }),
    ],
    l2Advertisements: [object("L2Advertisement", "lan", { ipAddressPools: ["lan"] })],
    bgpAdvertisements: [
      object("BGPAdvertisement", "bgp", {
        ipAddressPools: ["bgp"],
        aggregationLength: 24,
        communities: ["no-export"],
      }),
    ],
    bgpPeers: [
      object("BGPPeer", "router", {
        myASN: 64501,
        peerASN: 64500,
        peerAddress: "203.0.113.1",
        bfdProfile: "fast",
      }),
    ],
    bfdProfiles: [object("BFDProfile", "fast", { receiveInterval: 100, transmitInterval: 100 })],
    communities: [
      object("Community", "aliases", { communities: [{ name: "no-export", value: "65535:65281" }] }),
    ],
  };
}

export interface ReviewOptions {
  operation?: string;
  object?: unknown;
  oldObject?: unknown;
  username?: string;
  group?: string;
  version?: string;
  uid?: string;
}

/** An AdmissionReview v1 request for `kind` `name`, as the API server posts it. */
export function review(kind: string, name: string, options: ReviewOptions = {}): Record<string, unknown> {
  const operation = options.operation ?? "CREATE";
  const metadata = (options.object ?? options.oldObject) as { metadata?: { namespace?: string } } | undefined;
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid ?? "0c9a5b2e-1d7f-4a3c-9e57-000000000001",
      kind: { group: options.group ?? "ironlb.io", version: options.version ?? "v1beta1", kind },
      resource: { group: "ironlb.io", version: "v1beta1", resource: `${kind.toLowerCase()}s` },
      name,
      namespace: metadata?.metadata?.namespace ?? NAMESPACE,
      operation,
      userInfo: { username: options.username ?? "alice", groups: ["system:authenticated"] },
      object: operation === "DELETE" ? null : (options.object ?? null),
      oldObject: options.oldObject ?? null,
      dryRun: false,
    },
  };
}
