import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  compileInterfacePattern,
  DEFAULT_EXCLUDED_INTERFACES,
  InterfacePatternError,
  matchesAnyPattern,
  parseExcludedInterfaces,
  sameLinks,
  selectInterfaces,
  type LinkInfo,
  type LinkSkipReason,
} from "../../../src/l2/interfaces.js";
import {
  LinkParseError,
  parseIfInet6,
  parseLinkAttributes,
  readSysfsLinks,
} from "../../../src/l2/interfacesSysfs.js";
import { LinkMonitor } from "../../../src/l2/interfacesMonitor.js";
import { formatIP, parseIP } from "../../../src/net/ip.js";
import { ManualClock } from "../../../src/runtime/clock.js";

// flags as /sys/class/net/*/flags shows them
const UP_BROADCAST_MULTICAST = 0x1003;
const BROADCAST_DOWN = 0x1002;
const LOOPBACK_UP = 0x9;

function link(name: string, ifindex: number, extra: Partial<LinkInfo> = {}): LinkInfo {
  return {
    name,
    ifindex,
    type: 1,
    flags: UP_BROADCAST_MULTICAST,
    operState: "up",
    mac: `02:00:5e:00:53:${ifindex.toString(16).padStart(2, "0")}`,
    ...extra,
  };
}

const NODE_LINKS: LinkInfo[] = [
  link("lo", 1, { type: 772, flags: LOOPBACK_UP, operState: "unknown", mac: "00:00:00:00:00:00" }),
  link("eth0", 2),
  link("eth1", 3, { flags: BROADCAST_DOWN, operState: "down" }),
  link("eth2", 4, { operState: "lowerlayerdown" }),
  link("bond0", 5),
  link("eno1", 6, { master: "bond0" }),
  link("docker0", 7),
  link("veth1a2b", 8),
  link("cali123", 9),
  link("ifb0", 10, { flags: 0x82 | 0x1, operState: "unknown" }),
  link("wg0", 11, { type: 65534, flags: 0x91, operState: "unknown", mac: "" }),
  link("tap9", 12, { operState: "unknown" }),
  link("br0", 13, { operState: "unknown" }),
];

describe("selectInterfaces", () => {
  const skippedOf = (named: string[]): Record<string, LinkSkipReason> =>
    Object.fromEntries(selectInterfaces(NODE_LINKS, named).skipped.map((s) => [s.name, s.reason]));

  it("without a list picks working Ethernet broadcast links that are not enslaved or excluded", () => {
    expect(selectInterfaces(NODE_LINKS, []).selected.map((l) => l.name)).toEqual(["eth0", "bond0", "br0"]);
    expect(skippedOf([])).toEqual({
      lo: "excluded",
      eth1: "down",
      eth2: "no-carrier",
      eno1: "enslaved",
      docker0: "excluded",
      veth1a2b: "excluded",
      cali123: "excluded",
      ifb0: "noarp",
      wg0: "excluded",
      tap9: "excluded",
    });
  });

  const namedCases: {
    description: string;
    named: string[];
    selected: string[];
    reasons: Record<string, LinkSkipReason>;
  }[] = [
    {
      description: "named interfaces only, even one the exclusion list would drop",
      named: ["eth0", "docker0"],
      selected: ["eth0", "docker0"],
      reasons: { bond0: "not-named", veth1a2b: "not-named" },
    },
    {
      description: "an enslaved port when named explicitly",
      named: ["eno1"],
      selected: ["eno1"],
      reasons: { bond0: "not-named" },
    },
    {
      description: "a named interface that is down is skipped as down",
      named: ["eth1", "eth0"],
      selected: ["eth0"],
      reasons: { eth1: "down" },
    },
    {
      description: "a named interface absent from the node is reported absent",
      named: ["eth9"],
      selected: [],
      reasons: { eth9: "absent" },
    },
    {
      description: "a named loopback is still no ARP link",
      named: ["lo"],
      selected: [],
      reasons: { lo: "loopback" },
    },
    {
      description: "a named non-Ethernet link is refused",
      named: ["wg0"],
      selected: [],
      reasons: { wg0: "not-ethernet" },
    },
  ];
  for (const c of namedCases) {
    it(`with a list: ${c.description}`, () => {
      const result = selectInterfaces(NODE_LINKS, c.named);
      expect(result.selected.map((l) => l.name)).toEqual(c.selected);
      expect(skippedOf(c.named)).toMatchObject(c.reasons);
    });
  }

  it("returns selected links in ifindex order whatever the input order", () => {
    const reversed = [...NODE_LINKS].reverse();
    expect(selectInterfaces(reversed, []).selected.map((l) => l.ifindex)).toEqual([2, 5, 13]);
  });

  it("uses the exclusion patterns it is given instead of the default", () => {
    const selected = selectInterfaces(NODE_LINKS, [], parseExcludedInterfaces("eth*,br?")).selected;
    expect(selected.map((l) => l.name)).toEqual(["bond0", "docker0", "veth1a2b", "cali123", "tap9"]);
  });
});

describe("interface patterns", () => {
  const cases: [string, string, string, boolean][] = [
    ["a star matches any suffix", "veth*", "veth12ab", true],
    ["a star matches an empty suffix", "veth*", "veth", true],
    ["patterns match whole names", "eth", "eth0", false],
    ["a question mark matches one character", "eth?", "eth0", true],
    ["a question mark needs a character", "eth?", "eth", false],
    ["dots and pluses are literal", "a.b+", "a.b+", true],
    ["a literal dot matches no other character", "a.b", "axb", false],
    ["a star in the middle", "kube-*-x", "kube-ipvs-x", true],
  ];
  for (const [description, pattern, name, matches] of cases) {
    it(`${description}: ${pattern} vs ${name}`, () => {
      expect(matchesAnyPattern(name, [compileInterfacePattern(pattern)])).toBe(matches);
    });
  }

  const invalid: [string, string][] = [
    ["empty", ""],
    ["whitespace inside", "eth 0"],
    ["a slash", "a/b"],
    ["a colon (alias syntax)", "eth0:1"],
    ["longer than 15 characters", "abcdefghijklmnop"],
  ];
  for (const [description, text] of invalid) {
    it(`rejects ${description}`, () => {
      expect(() => compileInterfacePattern(text)).toThrow(InterfacePatternError);
    });
  }

  it("parses a comma list, replacing the default", () => {
    expect(parseExcludedInterfaces(" eth9 , ens* ,").map((p) => p.text)).toEqual(["eth9", "ens*"]);
  });

  it("an empty list excludes nothing", () => {
    expect(parseExcludedInterfaces("")).toEqual([]);
  });

  it("a leading + extends the default list", () => {
    const texts = parseExcludedInterfaces("+eno9,ens4*").map((p) => p.text);
    expect(texts).toEqual([...DEFAULT_EXCLUDED_INTERFACES, "eno9", "ens4*"]);
  });

  it("the default list covers loopback and the usual container and CNI links", () => {
    const defaults = parseExcludedInterfaces("+");
    for (const name of ["lo", "docker0", "veth9", "cali1", "flannel.1", "cni0", "lxc12", "kube-ipvs0"]) {
      expect(matchesAnyPattern(name, defaults), name).toBe(true);
    }
    for (const name of ["eth0", "eno1", "ens3", "enp0s31f6", "bond0", "br0"]) {
      expect(matchesAnyPattern(name, defaults), name).toBe(false);
    }
  });
});

describe("sysfs parsing", () => {
  it("parses a link's attributes as the kernel writes them", () => {
    const parsed = parseLinkAttributes(
      {
        name: "eth0",
        ifindex: "4\n",
        type: "1\n",
        flags: "0x1003\n",
        operstate: "up\n",
        address: "02:FC:00:00:00:01\n",
        master: "../../../virtual/net/br0",
      },
      parseIP("fe80::1"),
    );
    expect(parsed).toEqual({
      name: "eth0",
      ifindex: 4,
      type: 1,
      flags: 0x1003,
      operState: "up",
      mac: "02:fc:00:00:00:01",
      master: "br0",
      linkLocal: parseIP("fe80::1"),
    });
  });

  it("keeps a link without an Ethernet address, with the address as written", () => {
    const parsed = parseLinkAttributes({
      name: "wg0",
      ifindex: "9",
      type: "65534",
      flags: "0x91",
      operstate: "unknown",
      address: "\n",
    });
    expect(parsed).toMatchObject({ mac: "", master: undefined, type: 65534 });
  });

  const bad: [string, Partial<Record<"ifindex" | "type" | "flags", string>>][] = [
    ["a non-numeric ifindex", { ifindex: "x" }],
    ["an empty type", { type: "" }],
    ["malformed hex flags", { flags: "0xzz" }],
  ];
  for (const [description, override] of bad) {
    it(`rejects ${description}`, () => {
      const raw = { name: "eth0", ifindex: "2", type: "1", flags: "0x1003", operstate: "up", address: "" };
      expect(() => parseLinkAttributes({ ...raw, ...override })).toThrow(LinkParseError);
    });
  }

  it("takes the lowest usable link-local address of each interface from /proc/net/if_inet6", () => {
    const text = [
      "fd000000000000000000000000000002 04 40 00 82     eth0",
      "00000000000000000000000000000001 01 80 10 80       lo",
      "fe8000000000000000fc00fffe000001 04 40 20 80     eth0",
      "fe800000000000000000000000000009 04 40 20 80     eth0",
      "fe800000000000000000000000000001 05 40 20 c0     eth1", // tentative
      "fe800000000000000000000000000002 06 40 20 88     eth2", // DAD failed
      "fe800000000000000000000000000003 07 40 20 80     eth3",
      "garbage line",
      "",
    ].join("\n");
    const parsed = parseIfInet6(text);
    expect(Object.fromEntries([...parsed].map(([name, ip]) => [name, formatIP(ip)]))).toEqual({
      eth0: "fe80::9",
      eth3: "fe80::3",
    });
  });
});

describe("readSysfsLinks", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it("reads a sysfs-shaped tree, skipping entries that are not complete links", async () => {
    root = mkdtempSync(join(tmpdir(), "ilb-sysfs-"));
    const net = join(root, "net");
    const write = (name: string, attrs: Record<string, string>): void => {
      mkdirSync(join(net, name), { recursive: true });
      for (const [file, value] of Object.entries(attrs)) writeFileSync(join(net, name, file), `${value}\n`);
    };
    write("eth0", {
      ifindex: "3",
      type: "1",
      flags: "0x1003",
      operstate: "up",
      address: "02:00:5e:00:53:03",
    });
    write("br0", { ifindex: "2", type: "1", flags: "0x1003", operstate: "up", address: "02:00:5e:00:53:02" });
    write("half", { ifindex: "7", type: "1" });
    symlinkSync("../br0", join(net, "eth0", "master"));
    writeFileSync(join(net, "bonding_masters"), "\n");
    const inet6 = join(root, "if_inet6");
    writeFileSync(inet6, "fe800000000000000000000000000002 02 40 20 80 br0\n");

    const links = await readSysfsLinks({ sysClassNet: net, ifInet6: inet6 });
    expect(links.map((l) => [l.name, l.ifindex, l.master, l.linkLocal && formatIP(l.linkLocal)])).toEqual([
      ["br0", 2, undefined, "fe80::2"],
      ["eth0", 3, "br0", undefined],
    ]);
  });
});

describe("LinkMonitor", () => {
  function scripted(): { snapshots: LinkInfo[][]; read: () => Promise<LinkInfo[]>; reads: number } {
    const state = {
      snapshots: [] as LinkInfo[][],
      reads: 0,
      read: (): Promise<LinkInfo[]> => {
        state.reads++;
        const next = state.snapshots.length > 1 ? state.snapshots.shift() : state.snapshots[0];
        return next === undefined ? Promise.reject(new Error("no snapshot")) : Promise.resolve(next);
      },
    };
    return state;
  }

  it("reports a change once, on the poll after it happened", async () => {
    const clock = new ManualClock();
    const source = scripted();
    const eth0 = link("eth0", 2);
    source.snapshots.push([eth0], [eth0], [{ ...eth0, operState: "down" }]);
    const changes: string[][] = [];
    const monitor = new LinkMonitor({
      clock,
      intervalMs: 1000,
      readLinks: source.read,
      onChange: (links) => changes.push(links.map((l) => `${l.name}:${l.operState}`)),
    });
    expect((await monitor.start()).map((l) => l.name)).toEqual(["eth0"]);
    await clock.advance(1000);
    expect(changes).toEqual([]);
    await clock.advance(1000);
    expect(changes).toEqual([["eth0:down"]]);
    await clock.advance(5000);
    expect(changes).toEqual([["eth0:down"]]);
    expect(source.reads).toBe(8);
    monitor.stop();
    await clock.advance(5000);
    expect(source.reads).toBe(8);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("rescan() looks at once instead of waiting for the next tick", async () => {
    const clock = new ManualClock();
    const source = scripted();
    source.snapshots.push([link("eth0", 2)], [link("eth0", 2), link("eth1", 3)]);
    const changes: number[] = [];
    const monitor = new LinkMonitor({
      clock,
      readLinks: source.read,
      onChange: (links) => changes.push(links.length),
    });
    await monitor.start();
    monitor.rescan();
    await clock.advance(0);
    expect(changes).toEqual([2]);
    expect(clock.pendingTimers()).toBe(1);
    monitor.stop();
  });

  it("keeps the last snapshot when a read fails and reports the error", async () => {
    const clock = new ManualClock();
    let fail = false;
    const errors: unknown[] = [];
    const monitor = new LinkMonitor({
      clock,
      readLinks: () => (fail ? Promise.reject(new Error("EIO")) : Promise.resolve([link("eth0", 2)])),
      onChange: () => undefined,
      onError: (e) => errors.push(e),
    });
    await monitor.start();
    fail = true;
    await clock.advance(1000);
    expect(errors).toHaveLength(1);
    expect(monitor.current().map((l) => l.name)).toEqual(["eth0"]);
    fail = false;
    await clock.advance(1000);
    expect(errors).toHaveLength(1);
    monitor.stop();
  });

  it("sameLinks notices a changed link-local address or master", () => {
    const a = link("eth0", 2, { linkLocal: parseIP("fe80::1") });
    expect(sameLinks([a], [{ ...a }])).toBe(true);
    expect(sameLinks([a], [{ ...a, linkLocal: parseIP("fe80::2") }])).toBe(false);
    expect(sameLinks([a], [{ ...a, master: "br0" }])).toBe(false);
    expect(sameLinks([a], [a, link("eth1", 3)])).toBe(false);
  });
});
