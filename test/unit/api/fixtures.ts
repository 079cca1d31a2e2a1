import type { ConfigInput } from "../../../src/api/config.js";

/** A raw object as read from Kubernetes: metadata plus spec. */
export function obj(name: string, spec: unknown, labels?: Record<string, string>): unknown {
  return { metadata: { name, namespace: "ironlb-system", ...(labels ? { labels } : {}) }, spec };
}

/** A small valid configuration using the lab prefixes; cases change one thing in it. */
export function baseInput(): Required<{ -readonly [K in keyof ConfigInput]: unknown[] }> {
  return {
    ipAddressPools: [
      obj(
        "lan",
        { addresses: ["192.0.2.200-192.0.2.250", "2001:db8:1::200-2001:db8:1::2ff"] },
        { zone: "lan" },
      ),
      obj(
        "bgp",
        { addresses: ["198.51.100.0/24", "2001:db8:100::/120"], avoidBuggyIPs: true },
        { zone: "wan" },
      ),
    ],
    l2Advertisements: [obj("lan", { ipAddressPools: ["lan"] })],
    bgpAdvertisements: [obj("bgp", { ipAddressPools: ["bgp"], communities: ["65000:100", "no-export"] })],
    bgpPeers: [
      obj("router", {
        myASN: 64501,
        peerASN: 64500,
        peerAddress: "203.0.113.1",
        holdTime: "90s",
        bfdProfile: "fast",
      }),
    ],
    bfdProfiles: [obj("fast", { receiveInterval: 100, transmitInterval: 100 })],
    communities: [obj("aliases", { communities: [{ name: "no-export", value: "65535:65281" }] })],
  };
}
