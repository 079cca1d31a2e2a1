import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ENVELOPE_OVERHEAD, open, seal, sealedSize, StampSource } from "../../../src/membership/envelope.js";
import { deriveMembershipKey, Keyring, MembershipKeyError } from "../../../src/membership/keyring.js";

const secretA = Buffer.from("a-secret-of-sufficient-length-0001");
const secretB = Buffer.from("b-secret-of-sufficient-length-0002");
const salt = Buffer.from([1, 2, 3, 4]);
const message = Buffer.from([1, 6, 0, 0]);

function sealWith(keyring: Keyring, stamp = 1_000_000n): Buffer {
  return seal(keyring, { sender: "node-a", salt, stamp, message });
}

describe("membership keys", () => {
  it("derives the same key and id from the same secret, and different ones from different secrets", () => {
    const a1 = deriveMembershipKey(secretA);
    const a2 = deriveMembershipKey(Buffer.from(secretA));
    const b = deriveMembershipKey(secretB);
    expect(a1.aesKey.equals(a2.aesKey)).toBe(true);
    expect(a1.id).toBe(a2.id);
    expect(a1.id).not.toBe(b.id);
    expect(a1.aesKey).toHaveLength(32);
    expect(a1.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it("refuses secrets shorter than 16 bytes", () => {
    expect(() => deriveMembershipKey(Buffer.from("short"))).toThrow(MembershipKeyError);
  });

  it("never shows key material in JSON, String or inspect", () => {
    const keyring = Keyring.fromSecrets(secretA, secretB);
    const key = keyring.primary.aesKey;
    for (const text of [JSON.stringify({ keyring }), String(keyring), inspect(keyring, { depth: 5 })]) {
      expect(text).not.toContain(key.toString("hex"));
      expect(text).not.toContain(key.toString("base64"));
      expect(text).not.toContain(secretA.toString());
      expect(text).toContain(keyring.primary.id);
    }
  });

  it("treats a secondary equal to the primary as no secondary", () => {
    expect(Keyring.fromSecrets(secretA, secretA).ids()).toHaveLength(1);
    expect(Keyring.fromSecrets(secretA, secretB).equals(Keyring.fromSecrets(secretA, secretB))).toBe(true);
    expect(Keyring.fromSecrets(secretA, secretB).equals(Keyring.fromSecrets(secretB, secretA))).toBe(false);
  });
});

describe("sealed envelope", () => {
  it("opens what it sealed, with sender and stamp, and adds exactly the documented overhead", () => {
    const keyring = Keyring.fromSecrets(secretA);
    const sealed = sealWith(keyring, 123_456_789n);
    expect(sealed.length).toBe(sealedSize("node-a", message.length));
    expect(sealed.length).toBe(ENVELOPE_OVERHEAD + 1 + "node-a".length + message.length);
    const opened = open(keyring, sealed);
    expect(opened).toEqual({ ok: true, sender: "node-a", stamp: 123_456_789n, message });
  });

  it("hides the sender and the message", () => {
    const sealed = sealWith(Keyring.fromSecrets(secretA));
    expect(sealed.includes(Buffer.from("node-a"))).toBe(false);
  });

  const primaryA = Keyring.fromSecrets(secretA);
  const cases: { description: string; datagram: () => Uint8Array; receiver: Keyring; result: string }[] = [
    {
      description: "a key the receiver lacks",
      datagram: () => sealWith(primaryA),
      receiver: Keyring.fromSecrets(secretB),
      result: "wrong_key",
    },
    {
      description: "a flipped ciphertext bit",
      datagram: () => {
        const d = sealWith(primaryA);
        d[20] = (d[20] ?? 0) ^ 1;
        return d;
      },
      receiver: primaryA,
      result: "bad_tag",
    },
    {
      description: "a flipped tag bit",
      datagram: () => {
        const d = sealWith(primaryA);
        d[d.length - 1] = (d[d.length - 1] ?? 0) ^ 0x80;
        return d;
      },
      receiver: primaryA,
      result: "bad_tag",
    },
    {
      description: "a changed stamp (part of the nonce)",
      datagram: () => {
        const d = sealWith(primaryA);
        d[16] = (d[16] ?? 0) ^ 1;
        return d;
      },
      receiver: primaryA,
      result: "bad_tag",
    },
    {
      description: "a key id forged to another key the receiver holds",
      datagram: () => {
        const d = sealWith(primaryA);
        Keyring.fromSecrets(secretB).primary.idBytes.copy(d, 1);
        return d;
      },
      receiver: Keyring.fromSecrets(secretA, secretB),
      result: "bad_tag",
    },
    {
      description: "a runt packet",
      datagram: () => Buffer.alloc(10),
      receiver: primaryA,
      result: "malformed",
    },
    {
      description: "an unknown envelope version",
      datagram: () => {
        const d = sealWith(primaryA);
        d[0] = 9;
        return d;
      },
      receiver: primaryA,
      result: "malformed",
    },
  ];
  for (const { description, datagram, receiver, result } of cases) {
    it(`drops ${description} as ${result}`, () => {
      expect(open(receiver, datagram())).toEqual({ ok: false, reason: result });
    });
  }

  it("rotation: the primary seals, both keys open", () => {
    const oldOnly = Keyring.fromSecrets(secretA);
    const rotating = Keyring.fromSecrets(secretB, secretA); // new primary B, old A still accepted
    const newOnly = Keyring.fromSecrets(secretB);
    expect(open(rotating, sealWith(oldOnly)).ok).toBe(true);
    expect(open(rotating, sealWith(newOnly)).ok).toBe(true);
    expect(open(newOnly, sealWith(rotating)).ok).toBe(true);
    expect(open(oldOnly, sealWith(rotating))).toEqual({ ok: false, reason: "wrong_key" });
  });
});

describe("StampSource", () => {
  it("follows the wall clock in microseconds and strictly increases when it stands still or steps back", () => {
    const times = [1000, 1000, 1000, 999, 1001.5];
    const source = new StampSource(() => times.shift() ?? 0);
    expect([source.next(), source.next(), source.next(), source.next(), source.next()]).toEqual([
      1_000_000n,
      1_000_001n,
      1_000_002n,
      1_000_003n,
      1_001_500n,
    ]);
  });
});
