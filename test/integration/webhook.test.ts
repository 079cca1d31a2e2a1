/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment, @typescript-eslint/no-misused-spread --
   client-node models are plain data classes with no behaviour; its API is meant to take object literals. */
// The validating webhook as the real API server calls it: over TLS, trusting the CA bundle the
// webhook patched in itself, for every configuration change to the ironlb.io CRDs.
import {
  AdmissionregistrationV1Api,
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parse } from "yaml";
import type { ConfigInput } from "../../src/api/config.js";
import { CONFIG_KINDS } from "../../src/api/kinds.js";
import { createLogger } from "../../src/runtime/logger.js";
import { freePorts } from "../../src/testenv/freePort.js";
import { caBundleCovers } from "../../src/webhook/caBundle.js";
import type { CertificatePolicy } from "../../src/webhook/certs.js";
import { loopbackWebhookConfiguration, webhookName } from "../../src/webhook/manifest.js";
import { startWebhook, type Webhook } from "../../src/webhook/webhook.js";
import { describeWithPrereqs } from "../support/e2e.js";
import { sharedControlPlane, uniqueNamespace } from "../support/testenv.js";

const GROUP = "ironlb.io";
const VERSION = "v1beta1";
const crdDir = fileURLToPath(new URL("../../deploy/crds/", import.meta.url));

/**
 * Short lifetimes so the certificates rotate while the tests run: the serving certificate every
 * ~6 s, the CA every ~20 s (renewed at 2/3 of their lives).
 */
const fastRotation: CertificatePolicy = {
  caValidityMs: 30_000,
  servingValidityMs: 9_000,
  renewAtFraction: 2 / 3,
  clockSkewMs: 0,
  trustPropagationMs: 2_000,
};

const pluralOf = new Map(CONFIG_KINDS.map((def) => [def.kind, def.plural]));

function plural(kind: string): string {
  const name = pluralOf.get(kind);
  if (name === undefined) throw new Error(`not a configuration kind: ${kind}`);
  return name;
}

/** The message and status body of a failed call, or "ok". */
async function outcome(
  call: () => Promise<unknown>,
): Promise<{ code: number; message: string; body: unknown } | "ok"> {
  try {
    await call();
    return "ok";
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const raw: unknown = error.body;
    const body: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
    const message = (body as { message?: string } | undefined)?.message ?? String(raw);
    return { code: error.code, message, body };
  }
}

/** Polls `read` until `done` holds (for hooks, where expect.poll is not available). */
async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

async function installCRDs(config: KubeConfig): Promise<void> {
  const api = config.makeApiClient(ApiextensionsV1Api);
  const files = readdirSync(crdDir).filter((f) => f.endsWith(".yaml"));
  for (const file of files) {
    const crd = parse(readFileSync(join(crdDir, file), "utf8")) as V1CustomResourceDefinition;
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      // Another test file of this run may have installed them already.
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
  }
  for (const file of files) {
    const crd = parse(readFileSync(join(crdDir, file), "utf8")) as V1CustomResourceDefinition;
    const name = crd.metadata?.name ?? "";
    await waitFor(
      async () => {
        const read = await api.readCustomResourceDefinition({ name });
        return read.status?.conditions?.find((c) => c.type === "Established")?.status;
      },
      (status) => status === "True",
      `CRD ${name} to be established`,
    );
  }
}

describeWithPrereqs("validating webhook (called by kube-apiserver over TLS)", { controlPlane: true }, () => {
  const namespace = uniqueNamespace("webhook");
  const configurationName = `${namespace}-validation`;
  const admin = new KubeConfig();
  let objects: CustomObjectsApi;
  let webhook: Webhook | undefined;
  let port: number;

  /** The configuration in the namespace, read from the API (the controller would use its caches). */
  async function currentConfig(): Promise<ConfigInput> {
    const lists = await Promise.all(
      CONFIG_KINDS.map(async (def) => {
        const list = (await objects.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: def.plural,
        })) as { items: unknown[] };
        return [def.kind, list.items] as const;
      }),
    );
    const of = (kind: string): unknown[] => lists.find(([k]) => k === kind)?.[1] ?? [];
    return {
      ipAddressPools: of("IPAddressPool"),
      l2Advertisements: of("L2Advertisement"),
      bgpAdvertisements: of("BGPAdvertisement"),
      bgpPeers: of("BGPPeer"),
      bfdProfiles: of("BFDProfile"),
      communities: of("Community"),
    };
  }

  function body(kind: string, name: string, spec: unknown, inNamespace = namespace): Record<string, unknown> {
    return { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace: inNamespace }, spec };
  }

  function create(
    kind: string,
    name: string,
    spec: unknown,
    options: { dryRun?: boolean; namespace?: string } = {},
  ) {
    const inNamespace = options.namespace ?? namespace;
    return objects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: inNamespace,
      plural: plural(kind),
      body: body(kind, name, spec, inNamespace),
      ...(options.dryRun === true ? { dryRun: "All" } : {}),
    });
  }

  async function replaceSpec(kind: string, name: string, spec: unknown): Promise<unknown> {
    const current = (await objects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plural(kind),
      name,
    })) as { metadata: Record<string, unknown> };
    return objects.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plural(kind),
      name,
      body: { ...body(kind, name, spec), metadata: current.metadata },
    });
  }

  function remove(kind: string, name: string): Promise<unknown> {
    return objects.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: plural(kind),
      name,
    });
  }

  async function exists(kind: string, name: string): Promise<boolean> {
    const result = await outcome(() =>
      objects.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: plural(kind),
        name,
      }),
    );
    if (result === "ok") return true;
    if (result.code === 404) return false;
    throw new Error(result.message);
  }

  beforeAll(async () => {
    admin.loadFromFile(sharedControlPlane().kubeconfigPath);
    objects = admin.makeApiClient(CustomObjectsApi);
    await installCRDs(admin);
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    [port] = (await freePorts(1)) as [number];
    webhook = startWebhook({
      listen: { host: "127.0.0.1", port },
      namespace,
      kubeConfig: admin,
      configObjects: currentConfig,
      logger: createLogger({ level: "warn", name: "webhook-test" }),
      webhookConfigurationName: configurationName,
      ipAddresses: ["127.0.0.1"],
      certificatePolicy: fastRotation,
      caBundleCheckIntervalMs: 300,
      retryDelayMs: 500,
    });
    // Registered without a caBundle: the webhook must patch it in before the API server can call it.
    await admin.makeApiClient(AdmissionregistrationV1Api).createValidatingWebhookConfiguration({
      body: loopbackWebhookConfiguration(port, { namespace, name: configurationName }),
    });
    await webhook.ready;
    // The API server reads webhook configurations through an informer: wait until it calls us.
    await waitFor(
      () => outcome(() => create("IPAddressPool", "probe", { addresses: ["not-an-ip"] }, { dryRun: true })),
      (result) => result !== "ok" && result.message.includes("denied the request"),
      "the API server to call the webhook",
    );
  });

  afterAll(async () => {
    // Unregister first: with failurePolicy Fail a registered but stopped webhook blocks every change.
    await admin
      .makeApiClient(AdmissionregistrationV1Api)
      .deleteValidatingWebhookConfiguration({ name: configurationName })
      .catch(() => undefined);
    await webhook?.close();
    await admin
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace })
      .catch(() => undefined);
  });

  test("the CA bundle the webhook patched in covers every webhook and matches the Secret", async () => {
    // Polled: a rotation may land between the two reads.
    await expect
      .poll(
        async () => {
          const secret = await admin
            .makeApiClient(CoreV1Api)
            .readNamespacedSecret({ namespace, name: "ironlb-webhook-cert" });
          const configuration = await admin
            .makeApiClient(AdmissionregistrationV1Api)
            .readValidatingWebhookConfiguration({ name: configurationName });
          const bundle = Buffer.from(secret.data?.["ca-bundle.crt"] ?? "", "base64").toString("utf8");
          return (configuration.webhooks ?? []).map((w) => [
            w.name,
            caBundleCovers(w.clientConfig.caBundle, bundle),
          ]);
        },
        { timeout: 10_000 },
      )
      .toEqual(CONFIG_KINDS.map((def) => [webhookName(def.kind), true]));
  });

  test("accepts a valid configuration", async () => {
    await create("IPAddressPool", "lan", {
      addresses: ["192.0.2.200-192.0.2.250", "2001:db8:1::200-2001:db8:1::2ff"],
    });
    await create("IPAddressPool", "bgp", { addresses: ["198.51.100.0/24", "2001:db8:100::/120"] });
    await create("L2Advertisement", "lan", { ipAddressPools: ["lan"] });
    await create("Community", "aliases", { communities: [{ name: "no-export", value: "65535:65281" }] });
    await create("BGPAdvertisement", "bgp", {
      ipAddressPools: ["bgp"],
      aggregationLength: 24,
      communities: ["no-export", "65000:100"],
    });
    await create("BFDProfile", "fast", { receiveInterval: 100, transmitInterval: 100 });
    await create("BGPPeer", "router", {
      myASN: 64501,
      peerASN: 64500,
      peerAddress: "203.0.113.1",
      holdTime: "90s",
      keepaliveTime: "30s",
      bfdProfile: "fast",
    });
    const config = await currentConfig();
    expect(Object.values(config).flat()).toHaveLength(7);
  });

  const peer = (spec: Record<string, unknown>): Record<string, unknown> => ({
    myASN: 64501,
    peerASN: 64500,
    peerAddress: "203.0.113.7",
    ...spec,
  });

  const invalid: {
    description: string;
    kind: string;
    name: string;
    spec: unknown;
    /** Must appear in the message: the field path (and value) the webhook names. */
    mentions: string[];
  }[] = [
    {
      description: "a CIDR with host bits set",
      kind: "IPAddressPool",
      name: "bad-cidr",
      spec: { addresses: ["192.0.2.1/24"] },
      mentions: ['IPAddressPool "bad-cidr": spec.addresses[0]: "192.0.2.1/24"'],
    },
    {
      description: "a range whose start is after its end",
      kind: "IPAddressPool",
      name: "bad-range",
      spec: { addresses: ["192.0.2.9-192.0.2.1"] },
      mentions: ['IPAddressPool "bad-range": spec.addresses[0]: "192.0.2.9-192.0.2.1"'],
    },
    {
      description: "a pool overlapping another pool",
      kind: "IPAddressPool",
      name: "overlap",
      spec: { addresses: ["198.51.100.128/25"] },
      mentions: ['IPAddressPool "overlap": spec.addresses[0]: "198.51.100.128/25"', 'IPAddressPool "bgp"'],
    },
    {
      description: "aggregationLength shorter than the pool's prefix",
      kind: "BGPAdvertisement",
      name: "wide",
      spec: { ipAddressPools: ["bgp"], aggregationLength: 23 },
      mentions: ['BGPAdvertisement "wide": spec.aggregationLength: 23'],
    },
    {
      description: "a malformed community",
      kind: "BGPAdvertisement",
      name: "bad-community",
      spec: { ipAddressPools: ["bgp"], communities: ["65536:1"] },
      mentions: ['BGPAdvertisement "bad-community": spec.communities[0]: "65536:1"'],
    },
    {
      description: "an unknown community alias",
      kind: "BGPAdvertisement",
      name: "unknown-alias",
      spec: { ipAddressPools: ["bgp"], communities: ["gold"] },
      mentions: ['BGPAdvertisement "unknown-alias": spec.communities[0]: "gold"'],
    },
    {
      description: "a Community alias defined twice",
      kind: "Community",
      name: "again",
      spec: { communities: [{ name: "no-export", value: "65535:65281" }] },
      mentions: ['Community "again": spec.communities[0].name: "no-export"'],
    },
    {
      description: "a hold time under 3s",
      kind: "BGPPeer",
      name: "short-hold",
      spec: peer({ holdTime: "2s" }),
      mentions: ['BGPPeer "short-hold": spec.holdTime: "2s"'],
    },
    {
      description: "a keepalive longer than the hold time",
      kind: "BGPPeer",
      name: "long-keepalive",
      spec: peer({ holdTime: "9s", keepaliveTime: "10s" }),
      mentions: ['BGPPeer "long-keepalive": spec.keepaliveTime: "10s"'],
    },
    {
      description: "both peerASN and dynamicASN",
      kind: "BGPPeer",
      name: "both-asn",
      spec: peer({ dynamicASN: "external" }),
      mentions: ['BGPPeer "both-asn": spec.dynamicASN: "external"'],
    },
    {
      description: "neither peerASN nor dynamicASN",
      kind: "BGPPeer",
      name: "no-asn",
      spec: { myASN: 64501, peerAddress: "203.0.113.7" },
      mentions: ['BGPPeer "no-asn": spec.peerASN'],
    },
    {
      description: "ebgpMultiHop on an iBGP session",
      kind: "BGPPeer",
      name: "ibgp-multihop",
      spec: peer({ peerASN: 64501, ebgpMultiHop: true }),
      mentions: ['BGPPeer "ibgp-multihop": spec.ebgpMultiHop: true'],
    },
    {
      description: "a BFD profile that does not exist",
      kind: "BGPPeer",
      name: "no-bfd",
      spec: peer({ bfdProfile: "slow" }),
      mentions: ['BGPPeer "no-bfd": spec.bfdProfile: "slow"'],
    },
    {
      description: "a second peer for the same address",
      kind: "BGPPeer",
      name: "router-copy",
      spec: peer({ peerAddress: "203.0.113.1" }),
      mentions: ['BGPPeer "router-copy": spec.peerAddress: "203.0.113.1"'],
    },
    {
      description: "a peer address that is not an IP",
      kind: "BGPPeer",
      name: "by-name",
      spec: peer({ peerAddress: "router.example" }),
      mentions: ['BGPPeer "by-name": spec.peerAddress: "router.example"'],
    },
  ];

  test.each(invalid)(
    "rejects $description, naming the field path",
    async ({ kind, name, spec, mentions }) => {
      const result = await outcome(() => create(kind, name, spec));
      expect(result).not.toBe("ok");
      if (result === "ok") return;
      expect(result.message).toContain(`admission webhook "${webhookName(kind)}" denied the request`);
      for (const mention of mentions) expect(result.message).toContain(mention);
      // The causes carry the field paths for programs.
      const causes = (result.body as { details?: { causes?: { field?: string }[] } }).details?.causes ?? [];
      expect(causes.length).toBeGreaterThan(0);
      expect(await exists(kind, name)).toBe(false);
    },
  );

  test("rejects an update that breaks another object, naming that object's field", async () => {
    const result = await outcome(() =>
      replaceSpec("IPAddressPool", "bgp", { addresses: ["198.51.100.0/25"] }),
    );
    expect(result).toMatchObject({ code: 422 });
    if (result === "ok") return;
    expect(result.message).toContain(
      'admission webhook "ipaddresspool.validation.ironlb.io" denied the request',
    );
    expect(result.message).toContain('BGPAdvertisement "bgp": spec.aggregationLength: 24');
    const stored = (await objects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: "ipaddresspools",
      name: "bgp",
    })) as { spec: { addresses: string[] } };
    expect(stored.spec.addresses).toEqual(["198.51.100.0/24", "2001:db8:100::/120"]);
  });

  test("accepts a valid update", async () => {
    expect(
      await outcome(() => replaceSpec("IPAddressPool", "lan", { addresses: ["192.0.2.200-192.0.2.240"] })),
    ).toBe("ok");
  });

  test("rejects deleting a Community alias still in use, and allows it once unused", async () => {
    const result = await outcome(() => remove("Community", "aliases"));
    expect(result).not.toBe("ok");
    if (result === "ok") return;
    expect(result.message).toContain('deleting Community "aliases"');
    expect(result.message).toContain('BGPAdvertisement "bgp": spec.communities[0]: "no-export"');
    expect(await exists("Community", "aliases")).toBe(true);

    await replaceSpec("BGPAdvertisement", "bgp", { ipAddressPools: ["bgp"], aggregationLength: 24 });
    expect(await outcome(() => remove("Community", "aliases"))).toBe("ok");
  });

  test("rejects configuration objects outside the IronLB namespace", async () => {
    const result = await outcome(() =>
      create("IPAddressPool", "elsewhere", { addresses: ["192.0.2.10/32"] }, { namespace: "default" }),
    );
    expect(result).toMatchObject({ code: 403 });
    if (result === "ok") return;
    expect(result.message).toContain('metadata.namespace: "default"');
  });

  test("re-applies the CA bundle when someone resets it", async () => {
    const api = admin.makeApiClient(AdmissionregistrationV1Api);
    const configuration = await api.readValidatingWebhookConfiguration({ name: configurationName });
    await api.replaceValidatingWebhookConfiguration({
      name: configurationName,
      body: {
        ...configuration,
        webhooks: (configuration.webhooks ?? []).map((w) => ({
          ...w,
          clientConfig: { url: w.clientConfig.url ?? "" },
        })),
      },
    });
    await expect
      .poll(
        async () => {
          const read = await api.readValidatingWebhookConfiguration({ name: configurationName });
          return (read.webhooks ?? []).every((w) => (w.clientConfig.caBundle ?? "") !== "");
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
    await expect
      .poll(
        async () => outcome(() => create("IPAddressPool", "probe", { addresses: ["x"] }, { dryRun: true })),
        {
          timeout: 15_000,
        },
      )
      .toMatchObject({ message: expect.stringContaining("denied the request") as string });
  });

  test("certificate rotation (serving and CA) never leaves the API server unable to call the webhook", async () => {
    const servingSerials = new Set<string>();
    const currentCAs = new Set<string>();
    let calls = 0;
    const failures: string[] = [];
    const until = Date.now() + 26_000;
    while (Date.now() < until) {
      const status = (webhook as Webhook).status();
      if (status.serving !== undefined) servingSerials.add(status.serving.serialNumber);
      if (status.trustBundle[0] !== undefined) currentCAs.add(status.trustBundle[0]);
      // A rejection proves the webhook answered; an allowed dry run proves the same for success.
      const rejected = await outcome(() =>
        create("IPAddressPool", `rot-${calls}`, { addresses: ["192.0.2.1/24"] }, { dryRun: true }),
      );
      const accepted = await outcome(() =>
        create("IPAddressPool", `rot-${calls}`, { addresses: ["192.0.2.10/32"] }, { dryRun: true }),
      );
      calls++;
      if (rejected === "ok" || !rejected.message.includes('spec.addresses[0]: "192.0.2.1/24"')) {
        failures.push(`rejection ${calls}: ${rejected === "ok" ? "allowed" : rejected.message}`);
      }
      if (accepted !== "ok") failures.push(`acceptance ${calls}: ${accepted.message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(20);
    // Several serving certificates and at least one CA rotation happened meanwhile.
    expect(servingSerials.size).toBeGreaterThanOrEqual(3);
    expect(currentCAs.size).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
