import { describe, expect, it } from "vitest";
import { failure, type AllocationFailure } from "../../../src/ipam/index.js";

describe("failure messages", () => {
  const cases: { description: string; reason: AllocationFailure; message: string }[] = [
    {
      description: "class not ours",
      reason: failure.classNotOurs("example.com/lb", undefined),
      message:
        'the Service has loadBalancerClass "example.com/lb"; this IronLB serves Services without a loadBalancerClass',
    },
    {
      description: "sharing key conflict names both keys",
      reason: failure.requestedIPInUse("192.0.2.1", "ns/a", "sharing-key", "requested", {
        ourKey: "k2",
        theirKey: undefined,
      }),
      message:
        'requested address 192.0.2.1 is in use by ns/a and cannot be shared: the two Services do not carry the same allow-shared-ip key (this Service: "k2", ns/a: none)',
    },
    {
      description: "port conflict names the port",
      reason: failure.requestedIPInUse("192.0.2.1", "ns/a", "port", "assigned", { port: "TCP/80" }),
      message:
        "assigned address 192.0.2.1 is in use by ns/a and cannot be shared: both Services use port TCP/80",
    },
    {
      description: "one exhausted pool",
      reason: failure.poolExhausted(["IPv4"], ["lan"], true),
      message: 'pool "lan" has no free IPv4 address left',
    },
    {
      description: "a dual-stack pair",
      reason: failure.poolExhausted(["IPv4", "IPv6"], ["d"], true),
      message: 'pool "d" has no free IPv4 and IPv6 address pair left',
    },
    {
      description: "many exhausted pools are abbreviated",
      reason: failure.poolExhausted(["IPv4", "IPv6"], ["a", "b", "c", "d", "e", "f", "g"], false),
      message:
        'none of the 7 pools that may serve this Service ("a", "b", "c", "d", "e" and 2 more) has a free IPv4 or IPv6 address left',
    },
    {
      description: "no pool with both families",
      reason: failure.familyNotAvailable(["IPv4", "IPv6"], undefined, true),
      message:
        "no address pool that may serve this Service has IPv4 and IPv6 addresses (a dual-stack Service takes both from one pool)",
    },
    {
      description: "namespace not admitted",
      reason: failure.poolNotAllowed("p", "namespace", "pool", "team"),
      message:
        'the requested pool, "p", may not serve this Service: its serviceAllocation does not admit namespace "team"',
    },
    {
      description: "singular address in a family mismatch",
      reason: failure.requestedIPsFamilyMismatch(
        ["2001:db8::1"],
        ["IPv4"],
        "SingleStack",
        "requested",
        "it is IPv6",
      ),
      message:
        "the requested address 2001:db8::1 does not fit ipFamilyPolicy SingleStack with ipFamilies [IPv4]: it is IPv6",
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      expect(c.reason.message).toBe(c.message);
    });
  }
});
