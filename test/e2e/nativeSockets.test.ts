// The addon's AF_PACKET and raw ICMPv6 sockets against the real kernel, in a network namespace
// holding a veth pair. The probe (nativeProbe.ts) runs inside the namespace and reports what
// it saw; the checks are here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import {
  REPO_ROOT,
  TSX_NODE,
  createNetns,
  deleteNetns,
  inNetns,
  JsonLines,
  nativeE2ePrereqs,
  netnsName,
  spawnInNetns,
  stopChild,
} from "./nativeNetns.js";

const prereqs = nativeE2ePrereqs([{ name: "setpriv", install: "apt-get install util-linux" }]);

interface ProbeReport {
  info: {
    a: { ifname: string; ifindex: number; mac: string };
    b: { ifname: string; ifindex: number; mac: string };
  };
  openedByIndex: { ifname: string; mac: string };
  batch: {
    sent: number;
    received: number;
    batchSizes: number[];
    packetTypes: string[];
    identical: boolean;
    ownFramesSeenBySender: number;
  };
  close: { deliveredAfterClose: number; closed: boolean; sendAfterClose: string };
  multicastNs: {
    types: number[];
    hopLimit: number;
    destination: string;
    source: string;
    ifindexIsB: boolean;
    decode: string;
  };
  hopLimit64: { hopLimit: number; decode: string };
  unicastNs: { received: boolean; decode: string };
  leave: { afterOneLeave: number; afterBothLeaves: number; joined: number };
  sentWithSource: {
    captured: boolean;
    decode: string;
    source: string;
    destination: string;
    hopLimit: number;
  };
  errors: Record<
    string,
    { name?: string; code?: string; syscall?: string; errno?: number; message?: string }
  >;
}

interface LinkJson {
  ifname: string;
  ifindex: number;
  address: string;
}

describe.skipIf(prereqs.skip)(
  prereqs.skip ? `native sockets (skipped: ${prereqs.reason})` : "native sockets in a network namespace",
  () => {
    const ns = netnsName("nat");
    let report: ProbeReport;
    let links: Map<string, LinkJson>;

    beforeAll(async () => {
      deleteNetns(ns);
      createNetns(ns);
      inNetns(ns, ["ip", "link", "add", "ilb-pa", "type", "veth", "peer", "name", "ilb-pb"]);
      inNetns(ns, ["ip", "addr", "add", "2001:db8:1::1/64", "dev", "ilb-pa"]);
      inNetns(ns, ["ip", "addr", "add", "2001:db8:1::2/64", "dev", "ilb-pb"]);
      inNetns(ns, ["ip", "link", "set", "ilb-pa", "up"]);
      inNetns(ns, ["ip", "link", "set", "ilb-pb", "up"]);
      links = new Map(
        (JSON.parse(inNetns(ns, ["ip", "-j", "link", "show"])) as LinkJson[]).map((l) => [l.ifname, l]),
      );
      const bMac = links.get("ilb-pb")?.address ?? "";
      inNetns(ns, ["ip", "-6", "neigh", "add", "2001:db8:1::99", "lladdr", bMac, "dev", "ilb-pa"]);

      const child = spawnInNetns(ns, "test/e2e/nativeProbe.ts");
      const output = new JsonLines(child);
      try {
        report = await output.next<ProbeReport>(() => true, 60_000);
      } finally {
        await stopChild(child);
      }
    });

    afterAll(() => {
      deleteNetns(ns);
    });

    it("reports each interface's index and MAC as the kernel knows them", () => {
      for (const side of [report.info.a, report.info.b]) {
        const link = links.get(side.ifname);
        expect(side).toEqual({ ifname: link?.ifname, ifindex: link?.ifindex, mac: link?.address });
      }
      expect(report.openedByIndex).toEqual({ ifname: "ilb-pb", mac: report.info.b.mac });
    });

    it("delivers every frame, in batches no larger than maxBatch", () => {
      const { batch } = report;
      expect(batch.received).toBe(batch.sent);
      expect(batch.identical).toBe(true);
      expect(batch.packetTypes).toEqual(["broadcast"]);
      expect(Math.max(...batch.batchSizes)).toBeLessThanOrEqual(16);
      expect(batch.batchSizes.some((size) => size > 1)).toBe(true);
      expect(batch.batchSizes.reduce((sum, size) => sum + size, 0)).toBe(batch.sent);
      expect(batch.ownFramesSeenBySender).toBe(0);
    });

    it("runs no callback after close, and refuses to send on a closed socket", () => {
      expect(report.close).toEqual({
        deliveredAfterClose: 0,
        closed: true,
        sendAfterClose: "socket is closed",
      });
    });

    it("receives NS sent to a joined solicited-node group with hop limit 255 and the kernel's checksum", () => {
      expect(report.multicastNs).toMatchObject({
        hopLimit: 255,
        destination: "ff02::1:ff00:200",
        ifindexIsB: true,
        decode: "ok",
      });
      expect(report.multicastNs.source).toMatch(/^fe80::/);
    });

    it("lets only the filtered ICMPv6 types through (an echo request is not delivered)", () => {
      expect(report.multicastNs.types.every((type) => type === 135 || type === 136)).toBe(true);
    });

    it("reports the received hop limit, so NDP that crossed a router is dropped", () => {
      expect(report.hopLimit64).toEqual({ hopLimit: 64, decode: "wrong-hop-limit" });
    });

    it("receives a unicast NS without a source link-layer option", () => {
      expect(report.unicastNs).toEqual({ received: true, decode: "ok" });
    });

    it("counts group joins: the group is left only when every join is matched", () => {
      expect(report.leave).toEqual({ afterOneLeave: 1, afterBothLeaves: 0, joined: 0 });
    });

    it("sends with the chosen source address and hop limit 255", () => {
      expect(report.sentWithSource).toEqual({
        captured: true,
        decode: "ok",
        source: "2001:db8:1::1",
        destination: "2001:db8:1::99",
        hopLimit: 255,
      });
    });

    it("turns failures into errors carrying code, errno and syscall", () => {
      expect(report.errors["noSuchInterface"]).toMatchObject({
        name: "NativeSocketError",
        code: "ENODEV",
        errno: -19,
        syscall: "if_nametoindex",
      });
      expect(report.errors["icmpNoSuchInterface"]).toMatchObject({
        name: "NativeSocketError",
        code: "ENODEV",
      });
      expect(report.errors["notEthernet"]).toMatchObject({ code: "ERR_IRONLB_NOT_ETHERNET" });
      expect(report.errors["sendToIpv4"]).toMatchObject({ name: "TypeError" });
    });

    it("says which capability is missing when raw sockets are refused", () => {
      // Root without CAP_NET_RAW in its bounding set: socket() fails with EPERM.
      const output = execFileSync(
        "setpriv",
        [
          "--bounding-set=-net_raw,-net_admin",
          "--inh-caps=-net_raw,-net_admin",
          ...TSX_NODE,
          "test/e2e/nativeNoCapProbe.ts",
        ],
        { cwd: REPO_ROOT, encoding: "utf8" },
      );
      const report = JSON.parse(output) as Record<string, { code?: string; message?: string }>;
      for (const kind of ["packet", "icmp6"]) {
        expect(report[kind]).toMatchObject({ name: "NativeSocketError", code: "EPERM" });
        expect(report[kind]?.message).toContain("needs CAP_NET_RAW");
      }
    });
  },
);
