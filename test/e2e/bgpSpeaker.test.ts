/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// BGP through the whole product: the lab's control plane, controller and `ironlb speaker` on two
// nodes, plus a BIRD router namespace on the lab's LAN. A Service created through the API server
// gets an address from a BGP pool (controller), and every speaker advertises it (password from a
// basic-auth Secret it reads itself); BIRD must hold a path from each node, and lose them when
// the Service goes. The BGPPeer names a BFDProfile and BIRD runs BFD with the nodes: the
// BGPSessionState objects read back through the API server carry the BFD state, and so do
// `ironlb status` and `ironlb doctor` run against the lab's API server. A wrong TCP-MD5 password
// (BIRD's kernel drops the SYNs) shows in each BGPSessionState's lastError as a timed-out connect,
// and doctor calls the young session still connecting.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "../../src/lab/lab.js";
import { waitFor } from "../../src/lab/processes.js";
import { attachBirdRouter, type AttachedRouter } from "../../src/lab/routerAttach.js";
import type { BirdRouter } from "../../src/lab/routerBird.js";
import { basicAuthSecret, ironlb, V4_PASSWORD } from "../../src/lab/routerCluster.js";
import { NODE_ASN, ROUTER_ASN, ROUTER_LAN } from "../../src/lab/routerTopology.js";
import type { DoctorReport } from "../../src/ops/doctor.js";
import type { StatusReport } from "../../src/ops/status.js";
import { runCli } from "../integration/ironlbProcess.js";
import { bgpPrereqs } from "./bgpSupport.js";
import { labPrereqs } from "./labSupport.js";

// The lab's prerequisites (control plane binaries, addon) and the router's (BIRD).
const prereqs = [labPrereqs(), bgpPrereqs()];
const skipReason = prereqs
  .map((p) => p.reason)
  .filter((r) => r !== "")
  .join("; ");
const prefix = `ilb-bk${String(process.pid % 100_000)}-`;
const NAME = "BGP through ironlb speaker and the API server";

describe.skipIf(skipReason !== "")(skipReason === "" ? NAME : `${NAME} (skipped: ${skipReason})`, () => {
  let current: Lab | undefined;
  let attached: AttachedRouter | undefined;
  let dir: string | undefined;
  const the = (): { lab: Lab; router: BirdRouter } => {
    if (current === undefined || attached === undefined) throw new Error("the lab did not start");
    return { lab: current, router: attached.router };
  };

  const routerPeer = (secret: string) =>
    ironlb("BGPPeer", "router", {
      myASN: NODE_ASN,
      peerASN: ROUTER_ASN,
      peerAddress: ROUTER_LAN.ipv4,
      holdTime: "9s",
      connectTime: "2s",
      passwordSecret: { name: secret },
      bfdProfile: "fast",
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `${prefix}lab-`));
    current = await Lab.start({ prefix, nodes: 2, demoService: false, stateDir: join(dir, "state") });
    attached = await attachBirdRouter(current, (n) => [
      { address: n.ipv4, asn: NODE_ASN, password: V4_PASSWORD, bfd: true },
    ]);
    const secret = basicAuthSecret("bgp-auth", V4_PASSWORD);
    await current.clients.core.createNamespacedSecret({ namespace: secret.metadata.namespace, body: secret });
    await current.apply(
      ironlb("IPAddressPool", "bgp", { addresses: ["198.51.100.0/24"], autoAssign: false }),
    );
    await current.apply(
      ironlb("BFDProfile", "fast", { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 }),
    );
    await current.apply(routerPeer("bgp-auth"));
    await current.apply(
      ironlb("BGPAdvertisement", "bgp", { ipAddressPools: ["bgp"], communities: ["64512:300"] }),
    );
  });

  afterAll(async () => {
    await attached?.close();
    await current?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("both speakers establish TCP-MD5 sessions with the password from the Secret", async () => {
    const { lab: l, router: r } = the();
    await waitFor(
      "sessions Established at BIRD",
      async () => {
        const up = await r.established();
        return l.layout.nodes.every((n) => up.has(n.ipv4)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it("a Service created through the API server reaches BIRD from every node; deleting it withdraws it", async () => {
    const { lab: l, router: r } = the();
    const t0 = Date.now();
    await l.createService({
      name: "bgp-web",
      families: ["IPv4"],
      annotations: { "ironlb.io/address-pool": "bgp" },
    });
    const [ip] = await l.waitForServiceIPs("bgp-web");
    expect(ip).toMatch(/^198\.51\.100\./);
    const prefixText = `${ip ?? ""}/32`;
    const paths = await waitFor(
      `${prefixText} from both nodes at BIRD`,
      async () => {
        const found = (await r.paths()).filter((p) => p.prefix === prefixText);
        return found.length === l.layout.nodes.length ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    // A figure for the log (speed targets live in the benchmark).
    process.stdout.write(`bgp e2e: Service create → route at BIRD in ${String(Date.now() - t0)} ms\n`);
    expect(paths.map((p) => [p.from, p.nextHop]).sort()).toEqual(
      l.layout.nodes.map((n) => [n.ipv4, n.ipv4]).sort(),
    );
    for (const p of paths) {
      expect(p.asPath).toEqual([NODE_ASN]);
      expect(p.communities).toEqual(["64512:300"]);
    }
    // The status objects: a BGPSessionState per node and session (BFD Up with the peer's profile),
    // a ServiceBGPStatus per node.
    const list = async (plural: string): Promise<{ status?: Record<string, unknown> }[]> => {
      const r = (await l.clients.customObjects.listNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural,
        namespace: "ironlb-system",
      })) as { items?: { status?: Record<string, unknown> }[] };
      return r.items ?? [];
    };
    const nodes = l.layout.nodes.map((n) => n.nodeName).sort();
    await waitFor(
      "BGPSessionState and ServiceBGPStatus objects",
      async () => {
        const states = await list("bgpsessionstates");
        const services = await list("servicebgpstatuses");
        const ok =
          JSON.stringify(
            states
              .map((o) => [
                o.status?.["node"],
                o.status?.["bgpStatus"],
                o.status?.["bfdStatus"],
                o.status?.["bfdProfile"],
                o.status?.["prefixes"],
              ])
              .sort(),
          ) === JSON.stringify(nodes.map((n) => [n, "Established", "Up", "fast", [prefixText]])) &&
          JSON.stringify(
            services.map((o) => [o.status?.["node"], o.status?.["serviceName"], o.status?.["peers"]]).sort(),
          ) === JSON.stringify(nodes.map((n) => [n, "bgp-web", ["router"]]));
        return ok ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    // What an operator sees: `ironlb status` lists each node's session with its BFD state, and
    // `ironlb doctor` finds nothing wrong with them.
    const kubeconfig = l.state.adminKubeconfig ?? "";
    const status = await runCli(["status", "--kubeconfig", kubeconfig, "-o", "json"]);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as StatusReport;
    expect(
      report.bgpSessions.map((b) => [
        b.node,
        b.peer,
        b.state,
        b.advertisedPrefixes,
        b.bfdState,
        b.bfdProfile,
      ]),
    ).toEqual(nodes.map((n) => [n, "router", "Established", 1, "Up", "fast"]));
    const doctor = await runCli(["doctor", "--kubeconfig", kubeconfig, "-o", "json"]);
    const findings = (JSON.parse(doctor.stdout) as DoctorReport).findings.filter((f) =>
      /^(BGP|BFD)/.test(f.code),
    );
    expect(findings).toEqual([]);
    const metrics = await l.speakerMetrics(l.layout.nodes[0]?.nodeName ?? "");
    expect(metrics).toMatch(/ironlb_bgp_session_up\{peer="192\.0\.2\.1"\} 1/);
    expect(metrics).toMatch(/ironlb_bgp_announced_prefixes_total\{peer="192\.0\.2\.1"\} 1/);

    await l.deleteService("bgp-web");
    await waitFor(
      `${prefixText} gone at BIRD`,
      async () => ((await r.paths()).some((p) => p.prefix === prefixText) ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitFor(
      "ServiceBGPStatus objects removed",
      async () => ((await list("servicebgpstatuses")).length === 0 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 250 },
    );
  });

  it("a wrong TCP-MD5 password: lastError says the connect timed out and why, doctor says still connecting", async () => {
    const { lab: l, router: r } = the();
    const wrong = basicAuthSecret("bgp-wrong", "not-the-routers-password");
    await l.clients.core.createNamespacedSecret({ namespace: wrong.metadata.namespace, body: wrong });
    const changedAt = Date.now();
    await l.apply(routerPeer("bgp-wrong"));
    const nodes = l.layout.nodes.map((n) => n.nodeName).sort();
    const states = await waitFor(
      "BGPSessionStates with a timed-out connect",
      async () => {
        const r = (await l.clients.customObjects.listNamespacedCustomObject({
          group: "ironlb.io",
          version: "v1beta1",
          plural: "bgpsessionstates",
          namespace: "ironlb-system",
        })) as { items?: { status?: Record<string, unknown> }[] };
        const items = (r.items ?? []).map((o) => o.status ?? {});
        const failing = items.filter(
          (s) =>
            s["bgpStatus"] !== "Established" &&
            /^connect to 192\.0\.2\.1:179 timed out after \d+(\.\d+)? s \(a TCP-MD5 password mismatch looks like this\)$/.test(
              String(s["lastError"]),
            ),
        );
        return failing.length === nodes.length ? items : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    for (const s of states) {
      // The new session (a password change means a new one) started after the change.
      expect(Date.parse(String(s["stateSince"]))).toBeGreaterThanOrEqual(changedAt - 1000);
    }
    const kubeconfig = l.state.adminKubeconfig ?? "";
    const doctor = await runCli(["doctor", "--kubeconfig", kubeconfig, "-o", "json"]);
    const findings = (JSON.parse(doctor.stdout) as DoctorReport).findings.filter((f) => /^BGP/.test(f.code));
    expect(findings.map((f) => [f.severity, f.code])).toEqual(
      nodes.map(() => ["info", "BGPSessionConnecting"]),
    );
    expect(findings.every((f) => f.evidence.some((e) => e.includes("TCP-MD5 password mismatch")))).toBe(true);

    // The right password again: every node is back at BIRD.
    await l.apply(routerPeer("bgp-auth"));
    await waitFor(
      "sessions Established at BIRD again",
      async () => {
        const up = await r.established();
        return l.layout.nodes.every((n) => up.has(n.ipv4)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });
});
