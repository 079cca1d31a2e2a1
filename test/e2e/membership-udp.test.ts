/**
 * Membership over real UDP sockets on loopback, in one process: IPv4, IPv6 and dual stack,
 * failure and leave detection, and the envelope's drops (wrong key, bad tag, replay, stale)
 * counted in ironlb_membership_packets_dropped_total. Needs no root.
 */
import dgram from "node:dgram";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { memberAddress, type MemberAddress } from "../../src/membership/address.js";
import { Keyring } from "../../src/membership/keyring.js";
import { Membership } from "../../src/membership/membership.js";
import { membershipPromMetrics } from "../../src/membership/metrics.js";
import { SecureWire } from "../../src/membership/wire.js";

const key1 = Buffer.from("membership-e2e-key-number-one!!");
const key2 = Buffer.from("membership-e2e-key-number-two!!");

interface Running {
  readonly membership: Membership;
  readonly registry: Registry;
  readonly addr: MemberAddress;
}

const running: Running[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.membership.close();
});

async function startMember(
  name: string,
  options: { ip?: string; bind?: string; seeds?: MemberAddress[]; keyring?: Keyring } = {},
): Promise<Running> {
  const ip = options.ip ?? "127.0.0.1";
  const registry = new Registry();
  const membership = new Membership({
    name,
    advertise: { ip, port: 0 }, // port 0: advertise the port the socket gets
    bindAddress: options.bind ?? ip,
    bindPort: 0,
    seeds: options.seeds ?? [],
    keyring: options.keyring ?? Keyring.fromSecrets(key1),
    metrics: membershipPromMetrics(registry),
  });
  await membership.start();
  const addr = memberAddress(ip, membership.port ?? 0);
  const entry = { membership, registry, addr };
  running.push(entry);
  return entry;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<number> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - start;
}

const liveIs = (m: Membership, names: string[]): boolean =>
  m.alive().size === names.length && names.every((n) => m.alive().has(n));

async function counter(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("membership over UDP", () => {
  // How soon a crash and a leave are seen is a benchmark figure (bench/membership.bench.ts).
  it("three IPv4 members converge; a silent stop is detected as dead, a leave as left", async () => {
    const a = await startMember("a");
    const b = await startMember("b", { seeds: [a.addr] });
    const c = await startMember("c", { seeds: [a.addr] });
    await waitFor("convergence", () => [a, b, c].every((m) => liveIs(m.membership, ["a", "b", "c"])));
    expect(a.membership.members().get("b")).toMatchObject({ state: "alive", addr: b.addr });

    await c.membership.close(); // no leave: a crash as far as the others can tell
    await waitFor("c dead", () => [a, b].every((m) => liveIs(m.membership, ["a", "b"])), 30_000);
    expect(a.membership.members().get("c")?.state).toBe("dead");
    expect(b.membership.members().get("c")?.state).toBe("dead");

    const leaving = b.membership.leave();
    await waitFor("b left", () => liveIs(a.membership, ["a"]), 30_000);
    await leaving;
    // Told, not timed out: "left", not "dead".
    expect(a.membership.members().get("b")?.state).toBe("left");
    expect(await counter(a.registry, "ironlb_membership_packets_received_total")).toBeGreaterThan(0);
    expect(await counter(a.registry, "ironlb_membership_packets_dropped_total")).toBe(0);
  });

  it("works over IPv6 (::1)", async () => {
    const a = await startMember("a6", { ip: "::1" });
    const b = await startMember("b6", { ip: "::1", seeds: [a.addr] });
    await waitFor("convergence", () => [a, b].every((m) => liveIs(m.membership, ["a6", "b6"])));
    expect(a.membership.members().get("b6")?.addr).toEqual(b.addr);
  });

  it("dual-stack sockets let an IPv4 member and an IPv6 member talk", async () => {
    const a = await startMember("v4", { ip: "127.0.0.1", bind: "::" });
    const b = await startMember("v6", { ip: "::1", bind: "::", seeds: [a.addr] });
    await waitFor("convergence", () => [a, b].every((m) => liveIs(m.membership, ["v4", "v6"])));
  });

  it("a member with another key never joins; its packets are dropped as wrong_key", async () => {
    const a = await startMember("a");
    const b = await startMember("b", { seeds: [a.addr] });
    await waitFor("convergence", () => liveIs(a.membership, ["a", "b"]));
    const intruder = await startMember("intruder", {
      seeds: [a.addr, b.addr],
      keyring: Keyring.fromSecrets(key2),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(liveIs(a.membership, ["a", "b"])).toBe(true);
    expect(liveIs(intruder.membership, ["intruder"])).toBe(true);
    expect(
      await counter(a.registry, "ironlb_membership_packets_dropped_total", { reason: "wrong_key" }),
    ).toBeGreaterThan(0);
    expect(await counter(intruder.registry, "ironlb_membership_packets_dropped_total")).toBe(0); // nobody answers it
  });

  it("drops forged, replayed and stale datagrams and counts each reason", async () => {
    const a = await startMember("a");
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const send = (datagram: Buffer): Promise<void> =>
      new Promise((resolve) => {
        socket.send(datagram, a.addr.port, "127.0.0.1", () => {
          resolve();
        });
      });
    const wire = new SecureWire({ name: "forger", keyring: Keyring.fromSecrets(key1) });
    const gossip = wire.encode({ type: "gossip", updates: [] });
    const received = (): Promise<number> => counter(a.registry, "ironlb_membership_packets_received_total");
    const dropped = (reason: string): Promise<number> =>
      counter(a.registry, "ironlb_membership_packets_dropped_total", { reason });

    await send(gossip);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await received()).toBe(1);

    await send(gossip); // the very same datagram again
    const tampered = Buffer.from(wire.encode({ type: "gossip", updates: [] }));
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 1;
    await send(tampered);
    const stale = new SecureWire({
      name: "forger-2",
      keyring: Keyring.fromSecrets(key1),
      wallNow: () => Date.now() - 600_000, // 10 min off: past the 5 min bound
    });
    await send(stale.encode({ type: "gossip", updates: [] }));
    await send(
      new SecureWire({ name: "other", keyring: Keyring.fromSecrets(key2) }).encode({
        type: "gossip",
        updates: [],
      }),
    );
    await send(Buffer.from("not a membership packet at all, just text"));
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect({
      replay: await dropped("replay"),
      bad_tag: await dropped("bad_tag"),
      stale: await dropped("stale"),
      wrong_key: await dropped("wrong_key"),
      malformed: await dropped("malformed"),
    }).toEqual({ replay: 1, bad_tag: 1, stale: 1, wrong_key: 1, malformed: 1 });
    expect(await received()).toBe(1);
    socket.close();
  });

  it("rotates keys in three steps without losing a member", async () => {
    const a = await startMember("a");
    const b = await startMember("b", { seeds: [a.addr] });
    const c = await startMember("c", { seeds: [a.addr] });
    const all = [a, b, c];
    await waitFor("convergence", () => all.every((m) => liveIs(m.membership, ["a", "b", "c"])));
    const deaths = (): boolean => all.some((m) => m.membership.alive().size !== 3);
    const steps = [
      Keyring.fromSecrets(key1, key2), // new key accepted everywhere
      Keyring.fromSecrets(key2, key1), // new key seals, old still accepted
      Keyring.fromSecrets(key2), // old key gone
    ];
    for (const keyring of steps) {
      // One member after the other, as kubelet updates the mounts at different times.
      for (const member of all) {
        member.membership.setKeyring(keyring);
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(deaths()).toBe(false);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(deaths()).toBe(false);
    for (const member of all) {
      expect(await counter(member.registry, "ironlb_membership_packets_dropped_total")).toBe(0);
    }
  });
});
