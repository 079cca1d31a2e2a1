import { describe, expect, it } from "vitest";
import { memberAddress } from "../../../src/membership/address.js";
import { BroadcastQueue } from "../../../src/membership/broadcasts.js";
import { updateSize } from "../../../src/membership/codec.js";
import type { Update } from "../../../src/membership/messages.js";

const addr = memberAddress("192.0.2.1", 7946);
const alive = (name: string, incarnation = 0): Update => ({ kind: "alive", name, incarnation, addr });
const suspect = (name: string, from: string, incarnation = 0): Update => ({
  kind: "suspect",
  name,
  incarnation,
  from,
});

describe("BroadcastQueue", () => {
  it("sends each update `limit` times, then drops it", () => {
    const queue = new BroadcastQueue();
    queue.add(alive("a"));
    const sends = Array.from({ length: 4 }, () => queue.take(1000, 3, updateSize).length);
    expect(sends).toEqual([1, 1, 1, 0]);
    expect(queue.size).toBe(0);
  });

  it("replaces older news about the same member", () => {
    const queue = new BroadcastQueue();
    queue.add(suspect("a", "x"));
    queue.add(alive("a", 1));
    expect(queue.pending()).toEqual([alive("a", 1)]);
  });

  it("keeps suspicions of one incarnation from different members (each is a confirmation)", () => {
    const queue = new BroadcastQueue();
    queue.add(suspect("a", "x"));
    queue.add(suspect("a", "y"));
    queue.add(suspect("a", "x")); // the same again replaces itself
    expect(queue.pending()).toHaveLength(2);
    expect(queue.pending()).toEqual(expect.arrayContaining([suspect("a", "y"), suspect("a", "x")]));
    queue.add(suspect("a", "z", 1)); // a newer incarnation replaces both
    expect(queue.pending()).toEqual([suspect("a", "z", 1)]);
  });

  it("fills a packet with the least-sent first, newest first among equals, within the budget", () => {
    const queue = new BroadcastQueue();
    queue.add(alive("old"));
    queue.take(1000, 10, updateSize); // "old" sent once
    queue.add(alive("new1"));
    queue.add(alive("new2"));
    const size = updateSize(alive("new1"));
    expect(queue.take(size * 2, 10, updateSize).map((u) => u.name)).toEqual(["new2", "new1"]);
    // Now all were sent once: newest first.
    expect(queue.take(size * 3, 10, updateSize).map((u) => u.name)).toEqual(["new2", "new1", "old"]);
  });

  it("skips an update that does not fit and takes a smaller one after it", () => {
    const queue = new BroadcastQueue();
    queue.add({ kind: "left", name: "s", incarnation: 0 });
    queue.add(alive("a-long-name-that-takes-room"));
    const small = updateSize({ kind: "left", name: "s", incarnation: 0 });
    expect(queue.take(small, 10, updateSize).map((u) => u.name)).toEqual(["s"]);
  });
});
