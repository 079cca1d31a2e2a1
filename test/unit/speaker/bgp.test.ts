import { describe, expect, it } from "vitest";
import type { BGPPeerConfig } from "../../../src/api/configTypes.js";
import { SecretValue } from "../../../src/api/secret.js";
import type { Advertisement, AdjRibOut } from "../../../src/bgp/adjRibOut.js";
import type { BgpMessage } from "../../../src/bgp/codec/message.js";
import type { DesiredPeer, PeerSessionStatus, PeerSpec, StopOptions } from "../../../src/bgp/manager.js";
import type { ConnectFailure, SessionObserver } from "../../../src/bgp/session.js";
import { formatCIDR, formatIP, parseIP } from "../../../src/net/ip.js";
import { BgpSpeaker, describeConnectFailure, SessionErrors } from "../../../src/speaker/bgp.js";
import { parseObjects, staticState, StaticSourceError } from "../../../src/speaker/bgpStatic.js";
import {
  connectBackoffFor,
  passwordFromSecret,
  peerSpecFor,
  routerIdFromName,
  type NodeIdentity,
  type PasswordLookup,
  type SecretPassword,
} from "../../../src/speaker/bgpPeers.js";
import { config, node, obj, service, snapshot } from "../announce/fixtures.js";

const NODE: NodeIdentity = { name: "node-a", ipv4: parseIP("192.0.2.11"), ipv6: parseIP("2001:db8:1::11") };

function peerConfig(spec: Record<string, unknown>, extra: unknown[] = []): BGPPeerConfig {
  const cfg = config({
    bgpPeers: [obj("router", { myASN: 64512, peerASN: 64500, peerAddress: "192.0.2.1", ...spec }), ...extra],
  });
  const peer = cfg.bgpPeers.find((p) => p.name === "router");
  if (peer === undefined) throw new Error("no peer");
  return peer;
}

const secrets =
  (table: Record<string, SecretPassword>): PasswordLookup =>
  (namespace, name) =>
    table[`${namespace}/${name}`] ?? { ok: false, reason: "the Secret does not exist" };

const noSecrets = secrets({});
const ipv4Id = (text: string): number => Number(parseIP(text).value);

describe("peerSpecFor", () => {
  const routerIds: {
    description: string;
    spec: Record<string, unknown>;
    node: NodeIdentity;
    want: number;
  }[] = [
    {
      description: "routerID when set",
      spec: { routerID: "10.0.0.9" },
      node: NODE,
      want: ipv4Id("10.0.0.9"),
    },
    { description: "else the node's IPv4 address", spec: {}, node: NODE, want: ipv4Id("192.0.2.11") },
    {
      description: "else an IPv4 source address",
      spec: { sourceAddress: "192.0.2.99" },
      node: { name: "node-a" },
      want: ipv4Id("192.0.2.99"),
    },
    {
      description: "else a stable hash of the node name",
      spec: { peerAddress: "2001:db8:1::1" },
      node: { name: "node-a", ipv6: parseIP("2001:db8:1::11") },
      want: routerIdFromName("node-a"),
    },
  ];
  for (const c of routerIds) {
    it(`takes the BGP identifier from ${c.description}`, () => {
      const r = peerSpecFor(peerConfig(c.spec), c.node, noSecrets);
      expect(r.ok && r.spec.session.routerId).toBe(c.want);
    });
  }

  it("maps AS numbers, timers, families, graceful restart and the endpoint", () => {
    const r = peerSpecFor(
      peerConfig({
        holdTime: "9s",
        keepaliveTime: "3s",
        connectTime: "10s",
        peerPort: 1179,
        sourceAddress: "192.0.2.11",
        enableGracefulRestart: true,
      }),
      NODE,
      noSecrets,
    );
    if (!r.ok) throw new Error(r.reason);
    const { session, endpoint, nextHops } = r.spec;
    expect(session).toMatchObject({
      localAs: 64512,
      peerAs: 64500,
      holdTimeSeconds: 9,
      keepaliveSeconds: 3,
      passive: false,
      gracefulRestart: { restartTimeSeconds: 120, forwardingPreserved: true },
      connectBackoff: { initialMs: 2000, maxMs: 10_000 },
    });
    expect(session.families.map((f) => f.afi)).toEqual([1, 2]);
    expect(formatIP(endpoint.address)).toBe("192.0.2.1");
    expect(endpoint.port).toBe(1179);
    expect(endpoint.sourceAddress === undefined ? undefined : formatIP(endpoint.sourceAddress)).toBe(
      "192.0.2.11",
    );
    expect(endpoint.password).toBeUndefined();
    // IPv6 routes over this IPv4 session go via the node's IPv6 address.
    expect(nextHops).toEqual({ ipv6: NODE.ipv6 });
  });

  it.each([
    { description: "directly connected eBGP sends with TTL 1", spec: {}, want: 1 },
    { description: "multihop eBGP with TTL 255", spec: { ebgpMultiHop: true }, want: 255 },
    {
      description: "dynamic external eBGP with TTL 1",
      spec: { peerASN: undefined, dynamicASN: "external" },
      want: 1,
    },
    { description: "iBGP with the system default", spec: { peerASN: 64512 }, want: undefined },
  ])("$description", ({ spec, want }) => {
    const r = peerSpecFor(peerConfig(spec), NODE, noSecrets);
    if (!r.ok) throw new Error(r.reason);
    expect(r.spec.endpoint.ttl).toBe(want);
  });

  it("passes dynamicASN through and leaves graceful restart off by default", () => {
    const r = peerSpecFor(peerConfig({ peerASN: undefined, dynamicASN: "external" }), NODE, noSecrets);
    expect(r.ok && r.spec.session.peerAs).toBe("external");
    expect(r.ok && r.spec.session.gracefulRestart).toBeUndefined();
  });

  it("an IPv6 peer gets the node's IPv4 address as next hop of IPv4 routes", () => {
    const r = peerSpecFor(peerConfig({ peerAddress: "2001:db8:1::1" }), NODE, noSecrets);
    expect(r.ok && r.spec.nextHops).toEqual({ ipv4: NODE.ipv4 });
  });

  const passwords: {
    description: string;
    spec: Record<string, unknown>;
    lookup: PasswordLookup;
    want: { password: string } | { problem: RegExp };
  }[] = [
    {
      description: "an inline password",
      spec: { password: "inline" },
      lookup: noSecrets,
      want: { password: "inline" },
    },
    {
      description: "a Secret in the peer's namespace",
      spec: { passwordSecret: { name: "bgp-auth" } },
      lookup: secrets({ "ironlb-system/bgp-auth": { ok: true, password: new SecretValue("from-secret") } }),
      want: { password: "from-secret" },
    },
    {
      description: "a missing Secret",
      spec: { passwordSecret: { name: "bgp-auth", namespace: "other" } },
      lookup: noSecrets,
      want: { problem: /other\/bgp-auth: the Secret does not exist/ },
    },
  ];
  for (const c of passwords) {
    it(`resolves ${c.description}`, () => {
      const r = peerSpecFor(peerConfig(c.spec), NODE, c.lookup);
      if ("password" in c.want) {
        expect(r.ok && r.spec.endpoint.password?.reveal()).toBe(c.want.password);
        // Never printable.
        expect(
          JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
        ).not.toContain(c.want.password);
      } else {
        expect(r.ok ? "ok" : r.reason).toMatch(c.want.problem);
      }
    });
  }

  it("refuses a source address of the other family (validation catches it first; this is the backstop)", () => {
    const r = peerSpecFor({ ...peerConfig({}), sourceAddress: parseIP("2001:db8:1::11") }, NODE, noSecrets);
    expect(r.ok ? "ok" : r.reason).toMatch(/not of the family/);
  });

  it("connect backoff: 2 s first, doubling up to connectTime, shorter connectTime caps both", () => {
    expect(connectBackoffFor(120)).toEqual({ initialMs: 2000, maxMs: 120_000, multiplier: 2, jitter: 0.2 });
    expect(connectBackoffFor(1)).toMatchObject({ initialMs: 1000, maxMs: 1000 });
  });
});

describe("passwordFromSecret", () => {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  const cases: {
    description: string;
    secret: Parameters<typeof passwordFromSecret>[0];
    want: string | RegExp;
  }[] = [
    {
      description: "basic-auth with data.password",
      secret: { type: "kubernetes.io/basic-auth", data: { password: b64("pa ss") } },
      want: "pa ss",
    },
    {
      description: "basic-auth with stringData.password",
      secret: { type: "kubernetes.io/basic-auth", stringData: { password: "sd" } },
      want: "sd",
    },
    {
      description: "an Opaque Secret",
      secret: { type: "Opaque", data: { password: b64("x") } },
      want: /type Opaque/,
    },
    {
      description: "no password key",
      secret: { type: "kubernetes.io/basic-auth", data: {} },
      want: /no "password"/,
    },
    { description: "no Secret", secret: undefined, want: /does not exist/ },
  ];
  for (const c of cases) {
    it(`reads ${c.description}`, () => {
      const r = passwordFromSecret(c.secret);
      if (typeof c.want === "string") expect(r.ok && r.password.reveal()).toBe(c.want);
      else expect(r.ok ? "ok" : r.reason).toMatch(c.want);
    });
  }
});

/** Records what the speaker asks of the manager. */
class RecordingManager {
  synced: DesiredPeer[][] = [];
  stops: StopOptions[] = [];
  sync(desired: readonly DesiredPeer[]): void {
    this.synced.push([...desired]);
  }
  status(): PeerSessionStatus[] {
    return (this.synced.at(-1) ?? []).map((d) => ({
      name: d.spec.name,
      address: formatIP(d.spec.endpoint.address),
      port: d.spec.endpoint.port,
      state: "Established",
      sinceMs: 0,
      phaseSinceMs: 0,
      advertisedPrefixes: d.advertisements.length,
      desiredPrefixes: d.advertisements.length,
      restarting: false,
    }));
  }
  advertised(name: string): AdjRibOut {
    const d = this.synced.at(-1)?.find((p) => p.spec.name === name);
    return new Map(
      (d?.advertisements ?? []).map((a: Advertisement) => [
        formatCIDR(a.prefix),
        {
          prefix: a.prefix,
          attributes: {
            origin: 0,
            asPath: [],
            nextHop: parseIP("192.0.2.11"),
            communities: [],
            largeCommunities: [],
          },
        },
      ]),
    );
  }
  stop(options: StopOptions): Promise<void> {
    this.stops.push(options);
    return Promise.resolve();
  }
}

describe("BgpSpeaker", () => {
  const cfg = config({
    bgpPeers: [
      obj("rack1", {
        myASN: 64512,
        peerASN: 64500,
        peerAddress: "192.0.2.1",
        nodeSelectors: [{ matchLabels: { rack: "r1" } }],
      }),
      obj("v6", { myASN: 64500, peerASN: 64500, peerAddress: "2001:db8:1::1" }),
      obj("locked", {
        myASN: 64512,
        peerASN: 64500,
        peerAddress: "192.0.2.2",
        passwordSecret: { name: "missing" },
      }),
    ],
    bgpAdvertisements: [obj("bgp", { ipAddressPools: ["bgp"], localPref: 150, communities: ["64512:100"] })],
  });
  const nodes = [node("node-a", { rack: "r1" }), node("node-b", { rack: "r2" })];

  function speaker(name: string, manager: RecordingManager): BgpSpeaker {
    return new BgpSpeaker({ node: name, manager, identity: () => ({ ...NODE, name }), passwords: noSecrets });
  }

  it("opens the node's peers (node selectors), advertises the plan to each, and reports peers it cannot open", () => {
    const manager = new RecordingManager();
    const s = speaker("node-a", manager);
    const web = service("web", { ips: ["198.51.100.7", "2001:db8:100::7"] });
    const result = s.reconcile(snapshot(cfg, [web], nodes));
    const desired = manager.synced.at(-1) ?? [];
    expect(desired.map((d) => d.spec.name)).toEqual(["rack1", "v6"]);
    const byName = Object.fromEntries(
      desired.map((d) => [
        d.spec.name,
        d.advertisements.map((a) => [formatCIDR(a.prefix), a.localPref ?? null]),
      ]),
    );
    // LOCAL_PREF only towards the iBGP peer.
    expect(byName).toEqual({
      rack1: [
        ["198.51.100.7/32", null],
        ["2001:db8:100::7/128", null],
      ],
      v6: [
        ["198.51.100.7/32", 150],
        ["2001:db8:100::7/128", 150],
      ],
    });
    expect(result.problems).toEqual([
      { peer: "locked", reason: expect.stringMatching(/missing/) as unknown },
    ]);
    expect(s.status().sessions.map((x) => [x.name, x.prefixes])).toEqual([
      ["rack1", ["198.51.100.7/32", "2001:db8:100::7/128"]],
      ["v6", ["198.51.100.7/32", "2001:db8:100::7/128"]],
    ]);
  });

  it("reports the bfdProfile each BGPPeer names with its session, and none for a peer without one", () => {
    const withBfd = config({
      bfdProfiles: [obj("fast", { receiveInterval: 300, transmitInterval: 300 })],
      bgpPeers: [
        obj("tor", { myASN: 64512, peerASN: 64500, peerAddress: "192.0.2.1", bfdProfile: "fast" }),
        obj("plain", { myASN: 64512, peerASN: 64500, peerAddress: "192.0.2.2" }),
      ],
    });
    const manager = new RecordingManager();
    const s = speaker("node-a", manager);
    s.reconcile(snapshot(withBfd, [], nodes));
    expect(manager.synced.at(-1)?.map((d) => [d.spec.name, d.spec.bfd !== undefined])).toEqual([
      ["plain", false],
      ["tor", true],
    ]);
    expect(s.status().sessions.map((x) => [x.name, x.bfdProfile ?? null])).toEqual([
      ["plain", null],
      ["tor", "fast"],
    ]);
    // The profile goes with the peer's configuration.
    s.reconcile(snapshot(cfg, [], nodes));
    expect(s.status().sessions.map((x) => x.bfdProfile ?? null)).toEqual([null, null]);
  });

  it("a node outside rack1's selector opens only the other sessions; a node missing from the snapshot none", () => {
    const manager = new RecordingManager();
    speaker("node-b", manager).reconcile(snapshot(cfg, [], nodes));
    expect((manager.synced.at(-1) ?? []).map((d) => d.spec.name)).toEqual(["v6"]);
    const gone = new RecordingManager();
    speaker("node-z", gone).reconcile(snapshot(cfg, [], nodes));
    expect(gone.synced.at(-1)).toEqual([]);
  });

  it("withdraws a Service's prefix when it loses its endpoints (Local policy) and keeps the session", () => {
    const manager = new RecordingManager();
    const s = speaker("node-a", manager);
    const local = (eps: Record<string, [number]>) =>
      service("web", { ips: ["198.51.100.7"], etp: "Local", endpoints: eps });
    s.reconcile(snapshot(cfg, [local({ "node-a": [1] })], nodes));
    s.reconcile(snapshot(cfg, [local({ "node-b": [1] })], nodes));
    const [before, after] = manager.synced.map(
      (d) => d.find((p) => p.spec.name === "rack1")?.advertisements.length,
    );
    expect([before, after]).toEqual([1, 0]);
  });

  it("stops the manager in the mode asked", async () => {
    const manager = new RecordingManager();
    await speaker("node-a", manager).stop("restart");
    await speaker("node-a", manager).stop("shutdown", "bye");
    expect(manager.stops).toEqual([{ mode: "restart" }, { mode: "shutdown", message: "bye" }]);
  });
});

describe("SessionErrors", () => {
  const spec = (name: string): PeerSpec =>
    ({ name, endpoint: { address: parseIP("192.0.2.1"), port: 179, connectTimeoutMs: 30_000 } }) as PeerSpec;
  const refused = { code: "ECONNREFUSED", message: "connect ECONNREFUSED 192.0.2.1:179", afterMs: 1 };
  const notification = (code: number, subcode: number): BgpMessage => ({
    type: "notification",
    code,
    subcode,
    data: Buffer.alloc(0),
  });
  const keepalive: BgpMessage = { type: "keepalive" };
  const cases: {
    description: string;
    events: ((o: SessionObserver) => void)[];
    want: string | undefined;
  }[] = [
    { description: "nothing happened: none", events: [], want: undefined },
    {
      description: "a refused OPEN before Established: the NOTIFICATION received",
      events: [(o) => o.messageReceived?.(notification(2, 2))],
      want: "NOTIFICATION received: OPEN Message Error / Bad Peer As",
    },
    {
      description: "a NOTIFICATION we sent",
      events: [(o) => o.messageSent?.(notification(4, 0))],
      want: "NOTIFICATION sent: Hold Timer Expired",
    },
    {
      description: "other messages leave the last error alone",
      events: [(o) => o.messageSent?.(notification(4, 0)), (o) => o.messageReceived?.(keepalive)],
      want: "NOTIFICATION sent: Hold Timer Expired",
    },
    {
      description: "leaving Established: kind, detail and the NOTIFICATION, after the message itself",
      events: [
        (o) => o.messageReceived?.(notification(6, 2)),
        (o) =>
          o.down?.({
            kind: "notificationReceived",
            detail: "the peer closed the session",
            notification: { code: 6, subcode: 2, data: Buffer.alloc(0) },
          }),
      ],
      want: "notificationReceived: the peer closed the session (Cease / Administrative Shutdown)",
    },
    {
      description: "a refused connection: the dialer's message",
      events: [(o) => o.connectFailed?.(refused)],
      want: "connect ECONNREFUSED 192.0.2.1:179",
    },
    {
      description: "a connect that timed out, without a password: the peer and the likely cause",
      events: [
        (o) =>
          o.connectFailed?.({ code: "ETIMEDOUT", message: "connect timed out after 30 s", afterMs: 30_000 }),
      ],
      want: "connect to 192.0.2.1:179 timed out after 30 s (nothing answers: the peer is down, or a firewall drops TCP port 179)",
    },
    {
      description: "a NOTIFICATION after failed connects replaces their error",
      events: [(o) => o.connectFailed?.(refused), (o) => o.messageReceived?.(notification(2, 2))],
      want: "NOTIFICATION received: OPEN Message Error / Bad Peer As",
    },
    {
      description: "a failed connect after a NOTIFICATION replaces it",
      events: [(o) => o.messageReceived?.(notification(2, 2)), (o) => o.connectFailed?.(refused)],
      want: "connect ECONNREFUSED 192.0.2.1:179",
    },
  ];
  it.each(cases)("$description", ({ events, want }) => {
    const errors = new SessionErrors();
    const observer = errors.observer().forPeer?.(spec("tor"));
    if (observer === undefined) throw new Error("no session observer");
    for (const e of events) e(observer);
    expect(errors.get("tor")).toBe(want);
    expect(errors.get("other")).toBeUndefined();
  });

  it("a removed peer forgets its error; the speaker reports it with the session", () => {
    const errors = new SessionErrors();
    const observer = errors.observer();
    observer.forPeer?.(spec("router")).messageReceived?.(notification(2, 2));
    const manager = new RecordingManager();
    const s = new BgpSpeaker({ node: "node-a", manager, identity: () => NODE, passwords: noSecrets, errors });
    s.reconcile(
      snapshot(
        config({ bgpPeers: [obj("router", { myASN: 64512, peerASN: 64500, peerAddress: "192.0.2.1" })] }),
        [],
        [node("node-a")],
      ),
    );
    expect(s.status().sessions.map((x) => [x.name, x.lastError])).toEqual([
      ["router", "NOTIFICATION received: OPEN Message Error / Bad Peer As"],
    ]);
    observer.removed?.(spec("router"));
    expect(errors.get("router")).toBeUndefined();
  });
});

describe("describeConnectFailure", () => {
  const v4 = { address: parseIP("192.0.2.1"), port: 179 };
  const v6 = { address: parseIP("2001:db8:1::1"), port: 1179 };
  const md5 = { ...v4, password: new SecretValue("s3cret") };
  const cases: {
    description: string;
    endpoint: Parameters<typeof describeConnectFailure>[0];
    failure: ConnectFailure;
    want: string;
  }[] = [
    {
      description: "a message naming its code is kept as it is",
      endpoint: v4,
      failure: { code: "EHOSTUNREACH", message: "connect EHOSTUNREACH 192.0.2.1:179", afterMs: 3000 },
      want: "connect EHOSTUNREACH 192.0.2.1:179",
    },
    {
      description: "a message without its code gets it appended",
      endpoint: v4,
      failure: { code: "ECONNRESET", message: "socket hang up", afterMs: 5 },
      want: "socket hang up (ECONNRESET)",
    },
    {
      description: "no code: the message alone",
      endpoint: v4,
      failure: { message: "connect aborted by the dialer", afterMs: 5 },
      want: "connect aborted by the dialer",
    },
    {
      description: "a timeout with a TCP-MD5 password points at the password",
      endpoint: md5,
      failure: { code: "ETIMEDOUT", message: "connect timed out after 30 s", afterMs: 30_000 },
      want: "connect to 192.0.2.1:179 timed out after 30 s (a TCP-MD5 password mismatch looks like this)",
    },
    {
      description: "an IPv6 peer is bracketed, with its port",
      endpoint: v6,
      failure: { code: "ETIMEDOUT", message: "connect timed out after 2 s", afterMs: 2000 },
      want: "connect to [2001:db8:1::1]:1179 timed out after 2 s (nothing answers: the peer is down, or a firewall drops TCP port 1179)",
    },
  ];
  it.each(cases)("$description", ({ endpoint, failure, want }) => {
    expect(describeConnectFailure(endpoint, failure)).toBe(want);
  });
});

describe("staticState (the YAML file source)", () => {
  const yaml = `
apiVersion: ironlb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp, namespace: ironlb-system}
spec: {addresses: ["198.51.100.0/24"]}
---
apiVersion: ironlb.io/v1beta1
kind: BGPPeer
metadata: {name: router, namespace: ironlb-system}
spec: {myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1, passwordSecret: {name: auth}}
---
apiVersion: ironlb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: ironlb-system}
---
apiVersion: v1
kind: Secret
metadata: {name: auth, namespace: ironlb-system}
type: kubernetes.io/basic-auth
data: {password: ${Buffer.from("s3cret").toString("base64")}}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: Hostname, address: n1}, {type: InternalIP, address: "2001:db8:1::11"}, {type: InternalIP, address: 192.0.2.11}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: LoadBalancer, externalTrafficPolicy: Local}
status: {loadBalancer: {ingress: [{ip: 198.51.100.7}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1], nodeName: n1}]
`;

  it("builds the snapshot, the node's identity and the Secret lookup from one multi-document file", () => {
    const state = staticState(parseObjects(yaml), "n1");
    expect(state.snapshot.services.map((s) => [s.key, s.ips, s.externalTrafficPolicy])).toEqual([
      ["default/web", ["198.51.100.7"], "Local"],
    ]);
    expect(state.identity).toEqual({
      name: "n1",
      ipv4: parseIP("192.0.2.11"),
      ipv6: parseIP("2001:db8:1::11"),
    });
    const found = state.passwords("ironlb-system", "auth");
    expect(found.ok && found.password.reveal()).toBe("s3cret");
    expect(state.passwords("ironlb-system", "other").ok).toBe(false);
    const manager = new RecordingManager();
    new BgpSpeaker({
      node: "n1",
      manager,
      identity: () => state.identity,
      passwords: state.passwords,
    }).reconcile(state.snapshot);
    const [desired] = manager.synced.at(-1) ?? [];
    expect(desired?.spec.endpoint.password?.reveal()).toBe("s3cret");
    expect(desired?.advertisements.map((a) => formatCIDR(a.prefix))).toEqual(["198.51.100.7/32"]);
  });

  it("parses YAML and JSON-style documents alike, block scalars and empty documents included", () => {
    const text = [
      '---\n{"kind": "A", "n": 1}\n',
      "---\nkind: B\nnote: |\n  line one\n  {not json}\n",
      "---\n",
      "---\n{kind: C, flow: yaml}\n",
      "---\nkind: D\n",
    ].join("");
    expect(parseObjects(text)).toEqual([
      { kind: "A", n: 1 },
      { kind: "B", note: "line one\n{not json}\n" },
      { kind: "C", flow: "yaml" },
      { kind: "D" },
    ]);
    expect(() => parseObjects("---\nkind: [unclosed\n")).toThrow(StaticSourceError);
  });

  it("rejects an invalid configuration with the validator's messages", () => {
    const bad = `apiVersion: ironlb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: x}\nspec: {addresses: ["not-an-ip"]}\n`;
    expect(() => staticState(parseObjects(bad), "n1")).toThrow(StaticSourceError);
  });
});
