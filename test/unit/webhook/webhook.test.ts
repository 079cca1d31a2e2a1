import { KubeConfig } from "@kubernetes/client-node";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/runtime/logger.js";
import { CertificatePolicyError } from "../../../src/webhook/certs.js";
import type { SecretAccess, StoredSecret } from "../../../src/webhook/certSecret.js";
import { startWebhook, WebhookStoppedError } from "../../../src/webhook/webhook.js";

/** A kubeconfig for a server nobody listens on: these tests stop before any call to it. */
function unreachableKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return config;
}

function memorySecret(): SecretAccess {
  let stored: StoredSecret | undefined;
  return {
    read: () => Promise.resolve(stored),
    create: (data) => {
      stored = { data, resourceVersion: "1" };
      return Promise.resolve();
    },
    replace: (data) => {
      stored = { data, resourceVersion: "2" };
      return Promise.resolve();
    },
  };
}

const base = {
  namespace: "ironlb-system",
  kubeConfig: unreachableKubeConfig(),
  configObjects: () => ({}),
  logger: createLogger({ level: "silent" }),
  retryDelayMs: 50,
};

describe("startWebhook", () => {
  it("refuses an inconsistent certificate policy at once", () => {
    expect(() =>
      startWebhook({
        ...base,
        listen: { host: "127.0.0.1", port: 0 },
        certificatePolicy: { renewAtFraction: 1.5 },
      }),
    ).toThrow(CertificatePolicyError);
  });

  it("ready rejects with the listen error when the address is taken", async () => {
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    try {
      const { port } = blocker.address() as AddressInfo;
      const webhook = startWebhook({
        ...base,
        listen: { host: "127.0.0.1", port },
        secretAccess: memorySecret(),
      });
      await expect(webhook.ready).rejects.toMatchObject({ code: "EADDRINUSE" });
      await webhook.close();
    } finally {
      blocker.close();
    }
  });

  it("close() before it is ready rejects ready with WebhookStoppedError and frees the port", async () => {
    const webhook = startWebhook({
      ...base,
      listen: { host: "127.0.0.1", port: 0 },
      secretAccess: memorySecret(),
    });
    // Serving, but never ready: the ValidatingWebhookConfiguration cannot be reached.
    await expect.poll(() => webhook.address(), { timeout: 10_000 }).toBeDefined();
    const port = (webhook.address() as AddressInfo).port;
    expect(webhook.status().serving?.serialNumber).toMatch(/^[0-9A-F]+$/);
    await webhook.close();
    await expect(webhook.ready).rejects.toBeInstanceOf(WebhookStoppedError);
    const probe = createServer();
    probe.listen(port, "127.0.0.1");
    await once(probe, "listening");
    probe.close();
  });

  it("an aborted signal stops it like close()", async () => {
    const controller = new AbortController();
    const webhook = startWebhook({
      ...base,
      listen: { host: "127.0.0.1", port: 0 },
      secretAccess: memorySecret(),
      signal: controller.signal,
    });
    await expect.poll(() => webhook.address(), { timeout: 10_000 }).toBeDefined();
    controller.abort();
    await expect(webhook.ready).rejects.toBeInstanceOf(WebhookStoppedError);
    await webhook.close();
  });
});
