import { describe, expect, it } from "vitest";
import { LabConfigError, MAX_NODES, nodeAddressing, urlHost } from "../../../src/lab/addressing.js";
import { l2Layout, setupSteps, teardownOrder, validatePrefix } from "../../../src/lab/topology.js";

describe("lab addressing", () => {
  it.each([
    {
      index: 1,
      ipv4: "192.0.2.11",
      ipv6: "2001:db8:1::11",
      mac: "00:00:5e:00:53:11",
      second: "00:00:5e:00:53:21",
    },
    {
      index: 3,
      ipv4: "192.0.2.13",
      ipv6: "2001:db8:1::13",
      mac: "00:00:5e:00:53:13",
      second: "00:00:5e:00:53:23",
    },
    {
      index: 9,
      ipv4: "192.0.2.19",
      ipv6: "2001:db8:1::19",
      mac: "00:00:5e:00:53:19",
      second: "00:00:5e:00:53:29",
    },
  ])(
    "node $index reads the same in every family: $ipv4, $ipv6, $mac",
    ({ index, ipv4, ipv6, mac, second }) => {
      const node = nodeAddressing(index);
      expect(node).toMatchObject({ nodeName: `ilb-node${index}`, ipv4, ipv6, mac, secondMac: second });
    },
  );

  it.each([0, -1, 1.5, MAX_NODES + 1])("refuses node index %s", (index) => {
    expect(() => nodeAddressing(index)).toThrow(LabConfigError);
  });

  it.each([
    { address: "192.0.2.200", host: "192.0.2.200" },
    { address: "2001:db8:1::200", host: "[2001:db8:1::200]" },
  ])("URL host of $address is $host", ({ address, host }) => {
    expect(urlHost(address)).toBe(host);
  });
});

describe("Layer 2 lab layout", () => {
  const layout = l2Layout({ nodes: 3 });

  it("names everything with the ilb- prefix and gives each member its LAN addresses", () => {
    expect(layout.topology.namespaces.map((ns) => ns.name)).toEqual([
      "ilb-switch",
      "ilb-cp",
      "ilb-client",
      "ilb-node1",
      "ilb-node2",
      "ilb-node3",
    ]);
    const addresses = Object.fromEntries(layout.topology.links.map((l) => [l.netns, l.addresses]));
    expect(addresses).toEqual({
      "ilb-cp": ["192.0.2.10/24", "2001:db8:1::10/64"],
      "ilb-client": ["192.0.2.2/24", "2001:db8:1::2/64"],
      "ilb-node1": ["192.0.2.11/24", "2001:db8:1::11/64"],
      "ilb-node2": ["192.0.2.12/24", "2001:db8:1::12/64"],
      "ilb-node3": ["192.0.2.13/24", "2001:db8:1::13/64"],
    });
    for (const link of layout.topology.links) {
      expect(link.port.length).toBeLessThanOrEqual(15);
      expect(link.bridge).toEqual({ netns: "ilb-switch", name: "ilb-br0" });
    }
    expect(layout.topology.routes).toEqual([]);
  });

  it("nodes get strict ARP (kube-proxy IPVS); the switch has no IPv6 at all", () => {
    const byName = new Map(layout.topology.namespaces.map((ns) => [ns.name, ns]));
    expect(byName.get("ilb-node2")?.sysctls).toMatchObject({
      "net.ipv4.conf.all.arp_ignore": "1",
      "net.ipv4.conf.all.arp_announce": "2",
    });
    expect(byName.get("ilb-client")?.sysctls["net.ipv4.conf.all.arp_ignore"]).toBeUndefined();
    expect(byName.get("ilb-switch")?.sysctls).toMatchObject({ "net.ipv6.conf.all.disable_ipv6": "1" });
  });

  it("a custom prefix renames namespaces but not the nodes' Kubernetes names", () => {
    const custom = l2Layout({ nodes: 2, prefix: "ilb-t42-" });
    expect(custom.nodes.map((n) => [n.netns, n.nodeName])).toEqual([
      ["ilb-t42-node1", "ilb-node1"],
      ["ilb-t42-node2", "ilb-node2"],
    ]);
    expect(custom.clientNetns).toBe("ilb-t42-client");
  });

  it("a second link per node sits on the same bridge with no address", () => {
    const withSecond = l2Layout({ nodes: 2, secondLink: true });
    const seconds = withSecond.topology.links.filter((l) => l.ifname === "ilb-eth1");
    expect(seconds.map((l) => [l.netns, l.port, l.mac, l.addresses])).toEqual([
      ["ilb-node1", "ilb-node1-1", "00:00:5e:00:53:21", []],
      ["ilb-node2", "ilb-node2-1", "00:00:5e:00:53:22", []],
    ]);
  });

  it.each(["ilb", "lab-", "ilb-UPPER", "ilb-a/b", `ilb-${"x".repeat(41)}`])("refuses prefix %j", (prefix) => {
    expect(() => validatePrefix(prefix)).toThrow(RangeError);
  });
});

describe("setup steps", () => {
  const spec = l2Layout({ nodes: 1 }).topology;
  const steps = setupSteps(spec).map((s) => s.argv.join(" "));
  const at = (line: string): number => {
    const index = steps.indexOf(line);
    expect(index, line).toBeGreaterThanOrEqual(0);
    return index;
  };

  it("sets a namespace's sysctls before any link exists in it (links copy `default`)", () => {
    const sysctls = steps.findIndex((s) => s.startsWith("ip netns exec ilb-node1 sysctl"));
    const firstLink = steps.findIndex((s) => s.startsWith("ip -n ilb-node1 link add"));
    expect(sysctls).toBeGreaterThan(at("ip netns add ilb-node1"));
    expect(firstLink).toBeGreaterThan(sysctls);
  });

  it("creates each veth inside its namespaces, enslaves the port, then addresses, then up", () => {
    const add = at(
      "ip -n ilb-node1 link add ilb-eth0 address 00:00:5e:00:53:11 type veth peer name ilb-node1-0 netns ilb-switch",
    );
    const enslave = at("ip -n ilb-switch link set ilb-node1-0 master ilb-br0 up");
    const v4 = at("ip -n ilb-node1 addr add 192.0.2.11/24 dev ilb-eth0");
    const v6 = at("ip -n ilb-node1 addr add 2001:db8:1::11/64 dev ilb-eth0 nodad");
    const up = at("ip -n ilb-node1 link set ilb-eth0 up");
    expect([add, enslave, v4, v6, up]).toEqual([...[add, enslave, v4, v6, up]].sort((a, b) => a - b));
    expect(
      at("ip -n ilb-switch link add ilb-br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0"),
    ).toBeLessThan(add);
  });

  it("never creates anything outside the lab's namespaces", () => {
    for (const step of setupSteps(spec)) {
      const argv = step.argv;
      const scoped = argv[1] === "-n" || (argv[1] === "netns" && (argv[2] === "add" || argv[2] === "exec"));
      expect(scoped, argv.join(" ")).toBe(true);
    }
  });

  it("tears down nodes before the switch", () => {
    expect(teardownOrder(spec).at(-1)).toBe("ilb-switch");
    expect(new Set(teardownOrder(spec))).toEqual(new Set(spec.namespaces.map((n) => n.name)));
  });
});
