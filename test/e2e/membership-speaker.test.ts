/**
 * The speaker's membership on loopback: nodes at 127.0.0.x (all on lo, one port), seeds from
 * Node objects, the join wait, the Lease fallback for a node outside membership, a leave.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SpeakerMembership,
  createSpeakerMembership,
  type NodeAddressesView,
} from "../../src/membership/speakerMembership.js";
import { staticLiveSpeakers } from "../../src/speaker/liveSpeakers.js";

const node = (name: string, ip: string): NodeAddressesView => ({
  metadata: { name },
  status: { addresses: [{ type: "InternalIP", address: ip }] },
});

let dir: string;
let port: number;
const started: SpeakerMembership[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ilb-membership-speaker-"));
  await writeFile(join(dir, "secretkey"), "speaker-membership-e2e-key");
  const probe = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  port = probe.address().port;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
});

afterAll(async () => {
  for (const m of started) await m.leave();
  await rm(dir, { recursive: true, force: true });
});

/** Polls every 10 ms until `condition` holds; fails after a generous 30 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("speaker membership on loopback", () => {
  it("joins through Node addresses, waits for a peer, falls back to Leases for strangers, and leaves", async () => {
    const nodes = [node("node-1", "127.0.0.11"), node("node-2", "127.0.0.12"), node("node-3", "127.0.0.13")];
    const leases = staticLiveSpeakers(["lease-only-node", "node-2"]);
    const make = async (name: string, ip: string, joinTimeoutMs: number): Promise<SpeakerMembership> => {
      const m = await createSpeakerMembership(
        { node: name, mode: "swim", keyDir: dir, port, bindAddress: ip, joinTimeoutMs },
        leases,
      );
      if (m === undefined) throw new Error("no membership");
      started.push(m);
      return m;
    };
    const JOIN_TIMEOUT_MS = 2000;
    const one = await make("node-1", "127.0.0.11", JOIN_TIMEOUT_MS);
    // node-2 would wait a minute for a peer: only an answer can end its wait within the test.
    const two = await make("node-2", "127.0.0.12", 60_000);
    const stop = new AbortController();
    // Nobody answers yet: node-1 waits out its join timeout (a timer set a little shorter fires first).
    const order: string[] = [];
    await Promise.all([
      one.start(nodes, stop.signal).then(() => order.push("started")),
      new Promise((resolve) => setTimeout(resolve, JOIN_TIMEOUT_MS - 100)).then(() => order.push("timer")),
    ]);
    expect(order).toEqual(["timer", "started"]);
    await two.start(nodes, stop.signal); // node-1 answers: returns as soon as it does
    // node-3 never ran a speaker; "lease-only-node" is live by its Lease, unknown to membership.
    await until(() => one.current().has("node-2"));
    expect([...one.current()].sort()).toEqual(["lease-only-node", "node-1", "node-2"]);
    expect(one.members().get("node-2")?.addr).toEqual({ ip: "127.0.0.12", port });

    const changes: string[][] = [];
    one.onChange((live) => changes.push([...live].sort()));
    await two.leave();
    // node-2's Lease stays fresh (it never expires here), but membership saw it leave: not live.
    await until(() => changes.length > 0);
    expect([...one.current()].sort()).toEqual(["lease-only-node", "node-1"]);
    expect(changes).toEqual([["lease-only-node", "node-1"]]);
    expect(one.members().get("node-2")?.state).toBe("left");
  });

  it("leaves when its own Node object is deleted", async () => {
    const nodes = [node("node-7", "127.0.0.17"), node("node-8", "127.0.0.18")];
    const make = async (name: string, ip: string): Promise<SpeakerMembership> => {
      const m = await createSpeakerMembership(
        { node: name, mode: "swim", keyDir: dir, port, bindAddress: ip, joinTimeoutMs: 300 },
        staticLiveSpeakers([]),
      );
      if (m === undefined) throw new Error("no membership");
      started.push(m);
      return m;
    };
    const seven = await make("node-7", "127.0.0.17");
    const eight = await make("node-8", "127.0.0.18");
    const stop = new AbortController();
    await seven.start(nodes, stop.signal);
    await eight.start(nodes, stop.signal);
    expect([...seven.current()].sort()).toEqual(["node-7", "node-8"]);
    eight.updateNodes([nodes[0] as NodeAddressesView]); // node-8's Node is gone
    await until(() => !seven.current().has("node-8"));
    expect([...seven.current()]).toEqual(["node-7"]);
    expect(eight.current().has("node-8")).toBe(false);
    expect(seven.members().get("node-8")?.state).toBe("left");
  });
});
