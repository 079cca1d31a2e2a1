/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes; tests build them as literals. */
import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { desiredVips, vipBatch, vipChanges } from "../../../src/lab/vipSync.js";

const service = (type: string, ips: (string | undefined)[]): V1Service => ({
  spec: { type },
  status: { loadBalancer: { ingress: ips.map((ip) => (ip === undefined ? { hostname: "x" } : { ip })) } },
});

describe("kube-proxy emulation: VIPs on lo", () => {
  it.each([
    {
      what: "LoadBalancer IPs of both families",
      services: [service("LoadBalancer", ["192.0.2.200", "2001:db8:1::200"])],
      want: ["192.0.2.200", "2001:db8:1::200"],
    },
    {
      what: "not ClusterIP or NodePort Services",
      services: [service("ClusterIP", ["192.0.2.201"]), service("NodePort", ["192.0.2.202"])],
      want: [],
    },
    {
      what: "shared IPs once, canonical text",
      services: [
        service("LoadBalancer", ["2001:DB8:1:0::200"]),
        service("LoadBalancer", ["2001:db8:1::200"]),
      ],
      want: ["2001:db8:1::200"],
    },
    {
      what: "hostname ingress and junk skipped",
      services: [service("LoadBalancer", [undefined, "not-an-ip"])],
      want: [],
    },
  ])("$what", ({ services, want }) => {
    expect(desiredVips(services)).toEqual(want);
  });

  it("adds the missing, removes the stale, never touches loopback", () => {
    const changes = vipChanges(
      ["127.0.0.1", "::1", "192.0.2.200", "192.0.2.9"],
      ["192.0.2.200", "2001:db8:1::201"],
    );
    expect(changes).toEqual({ add: ["2001:db8:1::201"], remove: ["192.0.2.9"] });
    expect(vipBatch(changes)).toEqual([
      "address del 192.0.2.9/32 dev lo",
      "address add 2001:db8:1::201/128 dev lo nodad",
    ]);
  });

  it("nothing to do when lo already matches", () => {
    expect(vipChanges(["127.0.0.1", "192.0.2.200"], ["192.0.2.200"])).toEqual({ add: [], remove: [] });
  });
});
