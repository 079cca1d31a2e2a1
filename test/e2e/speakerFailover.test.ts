/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// End to end, as root: two `ironlb speaker` processes in two node namespaces on one bridge, a
// client namespace on the same bridge, and a real API server. The chosen node answers ARP and NDP
// for the Service's VIPs (the client's kernel resolves them to that node's MAC); when its speaker
// is stopped (SIGTERM, by PID) the other node takes over and its gratuitous ARP / unsolicited NA
// update the client's neighbour entries without the client asking.
//
// The API server runs on the host's loopback. Each node namespace gets a listener on its own
// 127.0.0.1:6443, opened inside the namespace and handed to this process, which relays the
// connections to the API server: nothing joins the host's network to the lab.
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKubeClients, type KubeClients } from "../../src/k8s/client.js";
import { speakerLeaseName } from "../../src/membership/lease.js";
import { resolveBinaries } from "../../src/testenv/binaries.js";
import { startControlPlane, type ControlPlane } from "../../src/testenv/controlPlane.js";
import { requirePrereqs } from "../support/e2e.js";
import { kubeConfigFor } from "../support/testenv.js";
import { createLayerTwoService, eventually, SpeakerProcess } from "../integration/speakerHarness.js";
import { installCRDs } from "../integration/ironlbProcess.js";
import {
  createNetns,
  deleteNetns,
  inNetns,
  nativeE2ePrereqs,
  netnsName,
  REPO_ROOT,
  run,
} from "./nativeNetns.js";

const native = nativeE2ePrereqs(["ping"]);
const controlPlanePrereq = requirePrereqs({ controlPlaneBinaries: true });
const skip = native.skip || controlPlanePrereq.skip;
const skipReason = [native.reason, controlPlanePrereq.reason].filter((r) => r !== "").join("; ");

const VIP4 = "192.0.2.200";
const VIP6 = "2001:db8:1::200";
const API_PORT = 6443;
const LAN = "ilb-lan0";

interface NeighbourJson {
  dst: string;
  lladdr?: string;
  state?: string[];
}

describe.skipIf(skip)(
  skip ? `speaker failover end to end (skipped: ${skipReason})` : "speaker failover end to end",
  () => {
    const switchNs = netnsName("sw");
    const clientNs = netnsName("cl");
    const nodeNames = ["ilb-e2e-node1", "ilb-e2e-node2"] as const;
    const nodeNs = new Map<string, string>([
      [nodeNames[0], netnsName("n1")],
      [nodeNames[1], netnsName("n2")],
    ]);
    const nodeAddress = new Map<string, number>([
      [nodeNames[0], 11],
      [nodeNames[1], 12],
    ]);
    const namespace = `ilb-e2e-speaker-${process.pid}`;
    const serviceNamespace = `ilb-e2e-svc-${process.pid}`;
    let controlPlane: ControlPlane | undefined;
    let clients: KubeClients;
    let workDir = "";
    const listeners: net.Server[] = [];
    const speakers = new Map<string, SpeakerProcess>();
    const macs = new Map<string, string>();

    const allNamespaces = (): string[] => [switchNs, clientNs, ...nodeNs.values()];

    const neighbour = (address: string): NeighbourJson | undefined =>
      (
        JSON.parse(inNetns(clientNs, ["ip", "-j", "neigh", "show", address, "dev", LAN])) as NeighbourJson[]
      )[0];

    async function waitForNeighbourMac(
      address: string,
      mac: string,
      timeoutMs: number,
    ): Promise<string | undefined> {
      const deadline = Date.now() + timeoutMs;
      let entry = neighbour(address);
      while (entry?.lladdr !== mac && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        entry = neighbour(address);
      }
      return entry?.lladdr;
    }

    const ping = (address: string): boolean => {
      try {
        inNetns(clientNs, ["ping", "-c1", "-W2", address]);
        return true;
      } catch {
        return false;
      }
    };

    /** A veth from `ns` (named LAN there) to a port of the bridge in the switch namespace. */
    function plug(ns: string, port: string): void {
      run(["ip", "link", "add", LAN, "netns", ns, "type", "veth", "peer", "name", port, "netns", switchNs]);
      inNetns(switchNs, ["ip", "link", "set", port, "master", "ilb-br0", "up"]);
      inNetns(ns, ["ip", "link", "set", LAN, "up"]);
    }

    /** Opens 127.0.0.1:API_PORT inside `ns` and relays its connections to the API server. */
    async function relayApiInto(ns: string, apiPort: number): Promise<void> {
      const child: ChildProcess = fork(
        join(REPO_ROOT, "test/e2e/speakerApiListener.ts"),
        [String(API_PORT)],
        {
          execPath: "ip",
          execArgv: ["netns", "exec", ns, process.execPath, "--import", "tsx"],
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "inherit", "ipc"],
        },
      );
      const [, handle] = (await once(child, "message")) as [unknown, net.Server];
      listeners.push(handle);
      handle.on("connection", (inbound: net.Socket) => {
        const outbound = net.connect({ host: "127.0.0.1", port: apiPort });
        inbound.pipe(outbound).pipe(inbound);
        const close = (): void => {
          inbound.destroy();
          outbound.destroy();
        };
        inbound.once("error", close).once("close", close);
        outbound.once("error", close).once("close", close);
        inbound.resume();
      });
      await once(child, "exit");
    }

    function writeKubeconfig(cp: ControlPlane): string {
      const path = join(workDir, "kubeconfig");
      const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "lab",
            cluster: {
              server: `https://127.0.0.1:${API_PORT}`,
              "certificate-authority-data": Buffer.from(cp.caPem).toString("base64"),
            },
          },
        ],
        users: [{ name: "admin", user: { token: cp.adminToken } }],
        contexts: [{ name: "lab", context: { cluster: "lab", user: "admin" } }],
        "current-context": "lab",
      };
      writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
      return path;
    }

    /** The speakers' last log lines and stderr, for failure messages. */
    const diagnostics = (): string =>
      [...speakers.values()]
        .map(
          (s) =>
            `--- speaker ${s.node} (pid ${s.pid}, running ${String(s.running)})\n` +
            s.logs
              .slice(-12)
              .map((l) => JSON.stringify(l))
              .join("\n") +
            `\nstderr: ${s.stderr.slice(-2000)}`,
        )
        .join("\n");

    const statusNodes = async (): Promise<string[]> => {
      const list = (await clients.customObjects.listNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "servicel2statuses",
        namespace,
        labelSelector: "ironlb.io/service-name=web",
      })) as { items: { status?: { node?: string } }[] };
      return list.items.map((i) => i.status?.node ?? "").sort();
    };

    beforeAll(async () => {
      deleteNetns(...allNamespaces());
      workDir = mkdtempSync(join(tmpdir(), "ilb-e2e-speaker-"));
      // The lab: a bridge, two nodes with the VIPs on lo and strict ARP, a client.
      createNetns(switchNs);
      inNetns(switchNs, ["ip", "link", "add", "ilb-br0", "type", "bridge"]);
      inNetns(switchNs, ["ip", "link", "set", "ilb-br0", "up"]);
      for (const [node, ns] of nodeNs) {
        createNetns(ns);
        plug(ns, `ilb-p${nodeAddress.get(node) ?? 0}`);
        const host = nodeAddress.get(node) ?? 0;
        inNetns(ns, ["ip", "addr", "add", `192.0.2.${host}/24`, "dev", LAN]);
        inNetns(ns, ["ip", "addr", "add", `2001:db8:1::${host}/64`, "dev", LAN]);
        inNetns(ns, [
          "sysctl",
          "-q",
          "-w",
          "net.ipv4.conf.all.arp_ignore=1",
          "net.ipv4.conf.all.arp_announce=2",
        ]);
        inNetns(ns, ["ip", "addr", "add", `${VIP4}/32`, "dev", "lo"]);
        inNetns(ns, ["ip", "addr", "add", `${VIP6}/128`, "dev", "lo"]);
        const link = JSON.parse(inNetns(ns, ["ip", "-j", "link", "show", LAN])) as { address: string }[];
        macs.set(node, link[0]?.address ?? "");
      }
      createNetns(clientNs);
      plug(clientNs, "ilb-p100");
      inNetns(clientNs, ["ip", "addr", "add", "192.0.2.100/24", "dev", LAN]);
      inNetns(clientNs, ["ip", "addr", "add", "2001:db8:1::100/64", "dev", LAN]);

      // The control plane on the host's loopback, reachable from each node namespace.
      controlPlane = await startControlPlane({ binaries: await resolveBinaries() });
      const apiPort = Number(new URL(controlPlane.server).port);
      for (const ns of nodeNs.values()) await relayApiInto(ns, apiPort);
      const kubeConfig = kubeConfigFor(controlPlane);
      clients = createKubeClients(kubeConfig);
      await installCRDs(kubeConfig);
      for (const name of [namespace, serviceNamespace]) {
        await clients.core.createNamespace({ body: { metadata: { name } } });
      }
      for (const node of nodeNames) {
        await clients.core.createNode({
          body: { metadata: { name: node, labels: { "kubernetes.io/hostname": node } } },
        });
      }
      const create = (plural: string, kind: string, name: string, spec: unknown) =>
        clients.customObjects.createNamespacedCustomObject({
          group: "ironlb.io",
          version: "v1beta1",
          plural,
          namespace,
          body: { apiVersion: "ironlb.io/v1beta1", kind, metadata: { name, namespace }, spec },
        });
      await create("ipaddresspools", "IPAddressPool", "lan", {
        addresses: ["192.0.2.200-192.0.2.210", "2001:db8:1::200-2001:db8:1::20f"],
      });
      await create("l2advertisements", "L2Advertisement", "lan", { ipAddressPools: ["lan"] });
      await createLayerTwoService(clients.core, clients.discovery, {
        namespace: serviceNamespace,
        name: "web",
        lbClass: "ironlb.io/e2e",
        ips: [VIP4, VIP6],
        endpointNodes: [...nodeNames],
      });

      const kubeconfigPath = writeKubeconfig(controlPlane);
      for (const [node, ns] of nodeNs) {
        speakers.set(
          node,
          SpeakerProcess.start({ node, netns: ns, kubeconfigPath, namespace, lbClass: "ironlb.io/e2e" }),
        );
      }
    });

    afterAll(async () => {
      await Promise.all([...speakers.values()].map((s) => s.stop("SIGKILL")));
      for (const listener of listeners) listener.close();
      await controlPlane?.stop();
      deleteNetns(...allNamespaces());
      if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
    });

    let winner: string;
    let other: string;

    it("the chosen node answers ARP and NDP: the client resolves both VIPs to its MAC", async () => {
      // Until a speaker sees the other's Lease it announces alone: wait for both to see both.
      for (const speaker of speakers.values()) {
        await speaker
          .waitForLog(
            (l) => l.msg === "live speakers changed" && (l.liveSpeakers as string[]).length === 2,
            90_000,
          )
          .catch((error: unknown) => {
            throw new Error(`${String(error)}\n${diagnostics()}`);
          });
      }
      const [announcer] = await eventually(
        "one ServiceL2Status",
        async () => {
          const nodes = await statusNodes();
          return nodes.length === 1 ? nodes : undefined;
        },
        90_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${diagnostics()}`);
      });
      winner = announcer ?? "";
      other = winner === nodeNames[0] ? nodeNames[1] : nodeNames[0];
      const winnerMac = macs.get(winner) ?? "";
      expect(ping(VIP4)).toBe(true);
      expect(await waitForNeighbourMac(VIP4, winnerMac, 2000)).toBe(winnerMac);
      expect(ping(VIP6)).toBe(true);
      expect(await waitForNeighbourMac(VIP6, winnerMac, 2000)).toBe(winnerMac);
    });

    it("after the announcing speaker stops, the other node's takeover updates the client's entries unasked", async () => {
      const otherMac = macs.get(other) ?? "";
      const stopped = speakers.get(winner);
      expect(stopped?.pid).toBeGreaterThan(0);
      const started = Date.now();
      expect(await stopped?.stop("SIGTERM")).toBe(0);
      // No traffic from the client now: only a gratuitous ARP / unsolicited NA can change these.
      expect(await waitForNeighbourMac(VIP4, otherMac, 8000)).toBe(otherMac);
      expect(await waitForNeighbourMac(VIP6, otherMac, 8000)).toBe(otherMac);
      const elapsed = Date.now() - started;
      await expect(
        clients.coordination.readNamespacedLease({ namespace, name: speakerLeaseName(winner) }),
      ).rejects.toMatchObject({ code: 404 });
      expect(
        await eventually("status moved", async () => {
          const nodes = await statusNodes();
          return nodes.length === 1 && nodes[0] === other ? nodes : undefined;
        }),
      ).toEqual([other]);
      expect(ping(VIP4)).toBe(true);
      expect(ping(VIP6)).toBe(true);
      // Faster than the lease could have expired: the stop handed over at once.
      expect(elapsed).toBeLessThan(6000);
    });
  },
);
