import { describe, expect, it } from "vitest";
import { curlCommand, renderStatus, serviceViews } from "../../../src/lab/status.js";
import { labState } from "./fixtures.js";

const state = labState();

describe("lab status", () => {
  it.each([
    { ip: "192.0.2.200", want: "ip netns exec ilb-client curl http://192.0.2.200/" },
    // Brackets are shell glob characters: the URL is quoted.
    { ip: "2001:db8:1::200", want: "ip netns exec ilb-client curl 'http://[2001:db8:1::200]/'" },
  ])("curl command for $ip", ({ ip, want }) => {
    expect(curlCommand("ilb-client", ip)).toBe(want);
  });

  it("joins Services with the nodes that announce them", () => {
    const views = serviceViews(
      [
        { namespace: "default", name: "web", ips: ["192.0.2.201"], externalTrafficPolicy: "Local" },
        { namespace: "default", name: "demo", ips: ["192.0.2.200"], externalTrafficPolicy: "Cluster" },
      ],
      [
        { serviceNamespace: "default", serviceName: "demo", node: "ilb-node2", interfaces: ["ilb-eth0"] },
        { serviceNamespace: "other", serviceName: "web", node: "ilb-node1", interfaces: [] },
      ],
    );
    expect(views.map((v) => [v.name, v.announcedBy.map((a) => a.node)])).toEqual([
      ["demo", ["ilb-node2"]],
      ["web", []],
    ]);
  });

  it("renders processes, Leases, announcements and how to try it", () => {
    const text = renderStatus(
      {
        state,
        processes: [
          { name: "speaker-ilb-node1", pid: 10, netns: "ilb-node1", running: true },
          { name: "controller", pid: 11, netns: "ilb-cp", running: false },
        ],
        speakerLeaseAges: { "ilb-node1": 0.5 },
        services: [
          {
            namespace: "default",
            name: "demo",
            ips: ["192.0.2.200", "2001:db8:1::200"],
            externalTrafficPolicy: "Cluster",
            announcedBy: [{ node: "ilb-node1", interfaces: ["ilb-eth0"] }],
          },
        ],
      },
      "ilb-client",
    );
    expect(text).toContain("NOT RUNNING");
    expect(text).toContain("ilb-node1 renewed 0.5 s ago");
    expect(text).toContain(
      "default/demo  192.0.2.200, 2001:db8:1::200  externalTrafficPolicy Cluster  announced by ilb-node1 (ilb-eth0)",
    );
    expect(text).toContain("curl 'http://[2001:db8:1::200]/'");
  });

  it("says so when the API server is not reachable", () => {
    const text = renderStatus({ state, processes: [], apiError: "connect ECONNREFUSED" }, "ilb-client");
    expect(text).toContain("API server: not reachable (connect ECONNREFUSED)");
  });
});
