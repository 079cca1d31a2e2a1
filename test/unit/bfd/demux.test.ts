import { describe, expect, it } from "vitest";
import { sessionKey, SessionTable } from "../../../src/bfd/demux.js";
import { BfdState } from "../../../src/bfd/packet.js";
import { peerPacket } from "./fakes.js";

describe("BFD demultiplexing", () => {
  const key = sessionKey("192.0.2.1", "192.0.2.11", false);
  const otherKey = sessionKey("192.0.2.2", "192.0.2.11", false);
  const table = new SessionTable<string>(100);
  const disc = table.allocateDiscriminator();
  table.add(key, disc, "s1");

  it.each([
    {
      description: "by Your Discriminator",
      p: { yourDiscriminator: disc, state: BfdState.Up },
      k: key,
      want: { ok: true, session: "s1" },
    },
    {
      description: "an unknown discriminator is dropped",
      p: { yourDiscriminator: 4242, state: BfdState.Up },
      k: key,
      want: { ok: false, reason: "unknownDiscriminator" },
    },
    {
      description: "our discriminator from other addresses is dropped",
      p: { yourDiscriminator: disc, state: BfdState.Up },
      k: otherKey,
      want: { ok: false, reason: "addressMismatch" },
    },
    {
      description: "zero discriminator in Down: by addresses",
      p: { yourDiscriminator: 0, state: BfdState.Down },
      k: key,
      want: { ok: true, session: "s1" },
    },
    {
      description: "zero discriminator in AdminDown: by addresses",
      p: { yourDiscriminator: 0, state: BfdState.AdminDown },
      k: key,
      want: { ok: true, session: "s1" },
    },
    {
      description: "zero discriminator in Up is dropped",
      p: { yourDiscriminator: 0, state: BfdState.Up },
      k: key,
      want: { ok: false, reason: "zeroYourDiscriminatorInState" },
    },
    {
      description: "zero discriminator in Init is dropped",
      p: { yourDiscriminator: 0, state: BfdState.Init },
      k: key,
      want: { ok: false, reason: "zeroYourDiscriminatorInState" },
    },
    {
      description: "zero discriminator from an unknown peer is dropped",
      p: { yourDiscriminator: 0, state: BfdState.Down },
      k: otherKey,
      want: { ok: false, reason: "noSession" },
    },
  ])("$description", ({ p, k, want }) => {
    expect(table.lookup(peerPacket(p), k)).toEqual(want);
  });

  it("single- and multi-hop sessions to the same addresses are different sessions", () => {
    expect(sessionKey("a", "b", true)).not.toBe(sessionKey("a", "b", false));
  });

  it("discriminators are non-zero, unique among live sessions, and wrap around", () => {
    const t = new SessionTable<number>(0xfffffffe);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = t.allocateDiscriminator();
      t.add(`k${String(i)}`, d, i);
      seen.push(d);
    }
    expect(seen).toEqual([0xfffffffe, 0xffffffff, 1, 2]);
    t.remove("k2", 1);
    expect(t.size).toBe(3);
    expect(t.lookup(peerPacket({ yourDiscriminator: 1, state: BfdState.Up }), "k2")).toEqual({
      ok: false,
      reason: "unknownDiscriminator",
    });
  });

  it("removing a session leaves the address key to another session that took it since", () => {
    const t = new SessionTable<string>(10);
    t.add("k", 10, "old");
    t.add("k", 11, "new");
    t.remove("k", 10);
    expect(t.lookup(peerPacket({ yourDiscriminator: 0, state: BfdState.Down }), "k")).toEqual({
      ok: true,
      session: "new",
    });
    t.remove("k", 11);
    expect(t.lookup(peerPacket({ yourDiscriminator: 0, state: BfdState.Down }), "k")).toEqual({
      ok: false,
      reason: "noSession",
    });
  });
});
