import { describe, expect, it } from "vitest";
import {
  CertificateSecretError,
  ensureCertificates,
  SecretWriteConflict,
  type SecretAccess,
  type StoredSecret,
} from "../../../src/webhook/certSecret.js";
import {
  certificateSetFromSecretData,
  parseCertificates,
  signedBy,
  type CertificatePolicy,
  type ServingIdentity,
} from "../../../src/webhook/certs.js";

const DAY = 86_400_000;
const policy: CertificatePolicy = {
  caValidityMs: 360 * DAY,
  servingValidityMs: 90 * DAY,
  renewAtFraction: 2 / 3,
  clockSkewMs: 0,
  trustPropagationMs: 60_000,
};
const identity: ServingIdentity = { dnsNames: ["ironlb-webhook-service.ironlb-system.svc"], ipAddresses: [] };
const T0 = Date.UTC(2030, 0, 1);

/** An in-memory Secret with resourceVersions, and hooks to let "another replica" act mid-call. */
class MemorySecret implements SecretAccess {
  stored: StoredSecret | undefined;
  writes = 0;
  private version = 0;
  /** Runs just before the next write lands (once), as a racing replica would. */
  beforeNextWrite: (() => Promise<void>) | undefined;

  read(): Promise<StoredSecret | undefined> {
    return Promise.resolve(this.stored);
  }

  async create(data: Record<string, string>): Promise<void> {
    await this.race();
    if (this.stored !== undefined) throw new SecretWriteConflict("exists");
    this.put(data);
  }

  async replace(data: Record<string, string>, resourceVersion: string): Promise<void> {
    await this.race();
    if (this.stored?.resourceVersion !== resourceVersion) throw new SecretWriteConflict("changed");
    this.put(data);
  }

  put(data: Record<string, string>): void {
    this.writes++;
    this.stored = { data, resourceVersion: String(++this.version) };
  }

  private async race(): Promise<void> {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    await hook?.();
  }
}

const ensure = (access: SecretAccess, now = T0) =>
  ensureCertificates({ access, identity, policy, now: () => now });

describe("ensureCertificates", () => {
  it("creates the Secret with a CA and a serving certificate it signed", async () => {
    const secret = new MemorySecret();
    const result = await ensure(secret);
    expect(result.wrote).toBe(true);
    expect(secret.writes).toBe(1);
    expect(certificateSetFromSecretData(secret.stored?.data)).toEqual(result.set);
    const [ca] = parseCertificates(result.set.caCertPem);
    const [cert] = parseCertificates(result.set.certPem);
    expect(ca !== undefined && cert !== undefined && signedBy(cert, ca)).toBe(true);
    expect(result.plan).toMatchObject({ ca: { action: "keep" }, serving: { action: "keep" } });
  });

  it("reuses a valid Secret without writing", async () => {
    const secret = new MemorySecret();
    const first = await ensure(secret);
    const again = await ensure(secret, T0 + DAY);
    expect(again.wrote).toBe(false);
    expect(secret.writes).toBe(1);
    expect(again.set).toEqual(first.set);
  });

  it("renews the serving certificate in place when it is due, keeping the CA", async () => {
    const secret = new MemorySecret();
    const first = await ensure(secret);
    const renewed = await ensure(secret, T0 + 61 * DAY);
    expect(renewed.wrote).toBe(true);
    expect(renewed.set.caCertPem).toBe(first.set.caCertPem);
    expect(renewed.set.certPem).not.toBe(first.set.certPem);
  });

  it("when another replica creates the Secret first, takes theirs", async () => {
    const secret = new MemorySecret();
    const other = new MemorySecret();
    const theirs = await ensure(other);
    secret.beforeNextWrite = () => {
      secret.put(other.stored?.data ?? {});
      return Promise.resolve();
    };
    const mine = await ensure(secret);
    expect(mine.wrote).toBe(false);
    expect(mine.set).toEqual(theirs.set);
    expect(secret.writes).toBe(1);
  });

  it("when another replica renews first, keeps their renewal instead of writing a second one", async () => {
    const secret = new MemorySecret();
    await ensure(secret);
    const due = T0 + 61 * DAY;
    let theirs: string | undefined;
    secret.beforeNextWrite = async () => {
      theirs = (await ensure(secret, due)).set.certPem;
    };
    const mine = await ensure(secret, due);
    expect(mine.set.certPem).toBe(theirs);
    expect(secret.writes).toBe(2);
  });

  it("two replicas starting at once end with one shared set", async () => {
    const secret = new MemorySecret();
    const [a, b] = await Promise.all([ensure(secret), ensure(secret)]);
    expect(a.set).toEqual(b.set);
    expect(secret.writes).toBe(1);
  });

  it("gives up with a typed error when every write loses", async () => {
    const secret = new MemorySecret();
    const always: SecretAccess = {
      read: () => secret.read(),
      create: () => Promise.reject(new SecretWriteConflict("exists")),
      replace: () => Promise.reject(new SecretWriteConflict("changed")),
    };
    await expect(
      ensureCertificates({ access: always, identity, policy, now: () => T0, maxAttempts: 2 }),
    ).rejects.toThrow(CertificateSecretError);
  });

  it("passes other API errors through", async () => {
    const failing: SecretAccess = {
      read: () => Promise.reject(new Error("forbidden")),
      create: () => Promise.resolve(),
      replace: () => Promise.resolve(),
    };
    await expect(ensure(failing)).rejects.toThrow("forbidden");
  });
});
