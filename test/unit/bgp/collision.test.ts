import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { collisionSurvivor, shouldDumpConnection } from "../../../src/bgp/collision.js";

describe("collision resolution (RFC 4271 6.8, RFC 6286)", () => {
  const cases: {
    description: string;
    local: [number, number];
    remote: [number, number];
    survivor: "local" | "remote";
  }[] = [
    {
      description: "higher local identifier keeps our connection",
      local: [0xc0000202, 64512],
      remote: [0xc0000201, 64513],
      survivor: "local",
    },
    {
      description: "higher remote identifier keeps the peer's connection",
      local: [0xc0000201, 64512],
      remote: [0xc0000202, 64513],
      survivor: "remote",
    },
    {
      description: "identifiers compare as unsigned 32-bit numbers",
      local: [0x7fffffff, 1],
      remote: [0x80000000, 2],
      survivor: "remote",
    },
    {
      description: "equal identifiers: the higher AS keeps its connection",
      local: [5, 65000],
      remote: [5, 64000],
      survivor: "local",
    },
    {
      description: "equal identifiers, lower local AS",
      local: [5, 64000],
      remote: [5, 65000],
      survivor: "remote",
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const local = { bgpId: c.local[0], asn: c.local[1] };
      const remote = { bgpId: c.remote[0], asn: c.remote[1] };
      expect(collisionSurvivor(local, remote)).toBe(c.survivor);
      expect(shouldDumpConnection(local, remote, c.survivor)).toBe(false);
      expect(shouldDumpConnection(local, remote, c.survivor === "local" ? "remote" : "local")).toBe(true);
    });
  }

  it("both speakers agree on the survivor", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat(),
        fc.nat(),
        (a, b, asA, asB) => {
          fc.pre(a !== b || asA !== asB);
          const viewA = collisionSurvivor({ bgpId: a, asn: asA }, { bgpId: b, asn: asB });
          const viewB = collisionSurvivor({ bgpId: b, asn: asB }, { bgpId: a, asn: asA });
          // The connection A initiated is "local" for A and "remote" for B.
          expect(viewA === "local").toBe(viewB === "remote");
        },
      ),
    );
  });
});
