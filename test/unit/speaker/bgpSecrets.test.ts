import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.js";
import type { SecretLike } from "../../../src/speaker/bgpPeers.js";
import { SecretPasswordCache } from "../../../src/speaker/bgpSecrets.js";

const basicAuth = (password: string): SecretLike => ({
  type: "kubernetes.io/basic-auth",
  data: { password: Buffer.from(password).toString("base64") },
});

const caches: SecretPasswordCache[] = [];
afterEach(() => {
  for (const c of caches.splice(0)) c.stop();
});

function setup(initial: Record<string, SecretLike | Error | undefined>) {
  const clock = new ManualClock();
  const store = { ...initial };
  const fetches: string[] = [];
  let changes = 0;
  const cache = new SecretPasswordCache({
    namespace: "ironlb-system",
    clock,
    refreshMs: 60_000,
    fetch: (name) => {
      fetches.push(name);
      const v = store[name];
      return v instanceof Error ? Promise.reject(v) : Promise.resolve(v);
    },
    onChange: () => {
      changes++;
    },
  });
  caches.push(cache);
  return { clock, store, fetches, cache, changes: () => changes };
}

const answer = (r: ReturnType<SecretPasswordCache["lookup"]>): string =>
  r.ok ? `ok ${r.password.reveal()}` : r.reason;

describe("SecretPasswordCache", () => {
  it("answers 'not read yet' at once, reads in the background, then answers from the cache", async () => {
    const s = setup({ auth: basicAuth("one") });
    expect(answer(s.cache.lookup("ironlb-system", "auth"))).toBe("not read yet");
    await s.clock.advance(0);
    expect(s.changes()).toBe(1);
    expect(answer(s.cache.lookup("ironlb-system", "auth"))).toBe("ok one");
    expect(s.fetches).toEqual(["auth"]);
  });

  it("reads only its own namespace", () => {
    const s = setup({});
    expect(answer(s.cache.lookup("default", "auth"))).toMatch(/namespace ironlb-system only/);
    expect(s.fetches).toEqual([]);
  });

  it("re-reads every minute and reports a rotated password, and nothing when unchanged", async () => {
    const s = setup({ auth: basicAuth("one") });
    s.cache.lookup("ironlb-system", "auth");
    await s.clock.advance(0);
    await s.clock.advance(60_000);
    expect(s.changes()).toBe(1);
    s.store["auth"] = basicAuth("two");
    await s.clock.advance(60_000);
    expect(s.changes()).toBe(2);
    expect(answer(s.cache.lookup("ironlb-system", "auth"))).toBe("ok two");
  });

  it("keeps a known password when a later read fails; says why when there never was one", async () => {
    const s = setup({ auth: basicAuth("one"), broken: new Error("apiserver down") });
    s.cache.lookup("ironlb-system", "auth");
    s.cache.lookup("ironlb-system", "broken");
    await s.clock.advance(0);
    expect(answer(s.cache.lookup("ironlb-system", "broken"))).toMatch(
      /cannot read it: Error: apiserver down/,
    );
    s.store["auth"] = new Error("apiserver down");
    await s.clock.advance(60_000);
    expect(answer(s.cache.lookup("ironlb-system", "auth"))).toBe("ok one");
  });

  it("a missing Secret and a deleted one are reported", async () => {
    const s = setup({ auth: basicAuth("one") });
    expect(answer(s.cache.lookup("ironlb-system", "nope"))).toBe("not read yet");
    s.cache.lookup("ironlb-system", "auth");
    await s.clock.advance(0);
    expect(answer(s.cache.lookup("ironlb-system", "nope"))).toBe("the Secret does not exist");
    s.store["auth"] = undefined;
    await s.clock.advance(60_000);
    expect(answer(s.cache.lookup("ironlb-system", "auth"))).toBe("the Secret does not exist");
  });
});
