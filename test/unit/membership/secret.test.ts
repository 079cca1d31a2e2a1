import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiException } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureMembershipSecret } from "../../../src/membership/controller/ensureMembershipSecret.js";
import { Keyring, MembershipKeyError } from "../../../src/membership/keyring.js";
import {
  KeyringWatcher,
  keyringFromSecretData,
  MEMBERSHIP_SECRET_NAME,
  newMembershipSecretData,
  readKeyringFromDirectory,
} from "../../../src/membership/secret.js";
import { ManualClock } from "../../../src/runtime/clock.js";

const keyA = "first-membership-key-material!!";
const keyB = "second-membership-key-material!";
const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("membership Secret data", () => {
  it("generates 32 random bytes under secretkey, and reads them back as a keyring", () => {
    const data = newMembershipSecretData();
    expect(Object.keys(data)).toEqual(["secretkey"]);
    expect(Buffer.from(data.secretkey ?? "", "base64")).toHaveLength(32);
    expect(newMembershipSecretData().secretkey).not.toBe(data.secretkey);
    expect(keyringFromSecretData(data).ids()).toHaveLength(1);
  });

  const cases: {
    description: string;
    data: Record<string, string>;
    ids: Keyring | undefined;
    error?: RegExp;
  }[] = [
    {
      description: "a primary only",
      data: { secretkey: b64(keyA) },
      ids: Keyring.fromSecrets(Buffer.from(keyA)),
    },
    {
      description: "a primary and a secondary",
      data: { secretkey: b64(keyA), "secretkey-secondary": b64(keyB) },
      ids: Keyring.fromSecrets(Buffer.from(keyA), Buffer.from(keyB)),
    },
    {
      description: "an empty secondary (ignored)",
      data: { secretkey: b64(keyA), "secretkey-secondary": "" },
      ids: Keyring.fromSecrets(Buffer.from(keyA)),
    },
    {
      description: "no primary",
      data: { "secretkey-secondary": b64(keyB) },
      ids: undefined,
      error: /no "secretkey"/,
    },
    {
      description: "a short key",
      data: { secretkey: b64("short") },
      ids: undefined,
      error: /at least 16 bytes/,
    },
  ];
  for (const { description, data, ids, error } of cases) {
    it(`from Secret data with ${description}`, () => {
      if (ids === undefined) {
        expect(() => keyringFromSecretData(data)).toThrow(MembershipKeyError);
        expect(() => keyringFromSecretData(data)).toThrow(error ?? /./);
      } else {
        expect(keyringFromSecretData(data).equals(ids)).toBe(true);
      }
    });
  }
});

describe("membership keys from the mounted Secret", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ilb-membership-keys-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the files as raw bytes; no file means no key", async () => {
    expect(await readKeyringFromDirectory(dir)).toBeUndefined();
    await writeFile(join(dir, "secretkey"), keyA);
    expect((await readKeyringFromDirectory(dir))?.equals(Keyring.fromSecrets(Buffer.from(keyA)))).toBe(true);
    await writeFile(join(dir, "secretkey-secondary"), keyB);
    const both = await readKeyringFromDirectory(dir);
    expect(both?.equals(Keyring.fromSecrets(Buffer.from(keyA), Buffer.from(keyB)))).toBe(true);
  });

  it("the watcher reports a rotation, and keeps the keys when the files vanish or break", async () => {
    await writeFile(join(dir, "secretkey"), keyA);
    const initial = await readKeyringFromDirectory(dir);
    const clock = new ManualClock();
    const seen: string[][] = [];
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message) } as never;
    const watcher = new KeyringWatcher(
      { dir, clock, intervalMs: 1000, logger, onChange: (keyring) => seen.push(keyring.ids()) },
      initial as Keyring,
    );
    watcher.start();
    await clock.advance(1000);
    expect(seen).toEqual([]); // unchanged
    await writeFile(join(dir, "secretkey-secondary"), keyB);
    await watcher.check();
    expect(seen).toEqual([Keyring.fromSecrets(Buffer.from(keyA), Buffer.from(keyB)).ids()]);
    await writeFile(join(dir, "secretkey"), "too short");
    await watcher.check();
    await rm(join(dir, "secretkey"));
    await watcher.check();
    expect(seen).toHaveLength(1);
    expect(warnings).toEqual([
      "cannot read the membership keys; keeping the current ones",
      "membership key files are gone; keeping the current keys",
    ]);
    watcher.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("ensureMembershipSecret", () => {
  it("creates ironlb-memberlist with a random key and labels when missing", async () => {
    const bodies: unknown[] = [];
    const core = {
      createNamespacedSecret: (request: { namespace: string; body: unknown }) => {
        bodies.push(request);
        return Promise.resolve({});
      },
    };
    expect(await ensureMembershipSecret(core as never, "ironlb-system")).toBe("created");
    expect(bodies).toEqual([
      {
        namespace: "ironlb-system",
        body: {
          metadata: {
            name: MEMBERSHIP_SECRET_NAME,
            namespace: "ironlb-system",
            labels: expect.objectContaining({ "app.kubernetes.io/component": "membership" }) as unknown,
          },
          type: "Opaque",
          data: { secretkey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) as unknown },
        },
      },
    ]);
  });

  it("leaves an existing Secret alone (409) and passes other errors on", async () => {
    const conflict = {
      createNamespacedSecret: () => Promise.reject(new ApiException(409, "exists", {}, {})),
    };
    expect(await ensureMembershipSecret(conflict as never, "ns")).toBe("exists");
    const forbidden = { createNamespacedSecret: () => Promise.reject(new ApiException(403, "no", {}, {})) };
    await expect(ensureMembershipSecret(forbidden as never, "ns")).rejects.toThrow(ApiException);
  });
});
