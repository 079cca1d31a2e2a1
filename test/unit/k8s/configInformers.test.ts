import type { KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { CONFIG_KINDS } from "../../../src/api/kinds.js";
import {
  cachedConfigObjects,
  createConfigInformers,
  informerMaker,
  IRONLB_CONFIG_RESOURCES,
  METALLB_CONFIG_RESOURCES,
} from "../../../src/k8s/configInformers.js";
import { waitForCacheSync } from "../../../src/k8s/informer.js";
import { KubeHttpError, type ListPage, type ListWatchClient } from "../../../src/k8s/listWatch.js";

/** Answers lists from a table of paths (404 for the rest); watches wait for the abort. */
class PathListWatch implements ListWatchClient {
  readonly listed: string[] = [];
  constructor(private readonly collections: Record<string, KubernetesObject[]>) {}

  list(path: string): Promise<ListPage> {
    this.listed.push(path);
    const items = this.collections[path];
    if (items === undefined) return Promise.reject(new KubeHttpError(404, "NotFound", `${path} not found`));
    return Promise.resolve({ items, resourceVersion: "1", continue: undefined });
  }

  watch(_path: string, _query: unknown, _onEvent: unknown, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
    });
  }
}

let stop = new AbortController();
afterEach(() => {
  stop.abort();
  stop = new AbortController();
});

describe("configuration resources", () => {
  it("IronLB's are the CRDs of CONFIG_KINDS, IPAddressPool first (the controller's pool lookup)", () => {
    expect(IRONLB_CONFIG_RESOURCES.map((r) => [r.group, r.version, r.plural, r.kind])).toEqual(
      CONFIG_KINDS.map((k) => ["ironlb.io", "v1beta1", k.plural, k.kind]),
    );
    expect(IRONLB_CONFIG_RESOURCES[0]?.kind).toBe("IPAddressPool");
  });

  it("MetalLB's are the same kinds in metallb.io, BGPPeer at v1beta2", () => {
    expect(METALLB_CONFIG_RESOURCES.map((r) => `${r.kind} ${r.group}/${r.version}`)).toEqual([
      "IPAddressPool metallb.io/v1beta1",
      "L2Advertisement metallb.io/v1beta1",
      "BGPAdvertisement metallb.io/v1beta1",
      "BGPPeer metallb.io/v1beta2",
      "BFDProfile metallb.io/v1beta1",
      "Community metallb.io/v1beta1",
    ]);
  });
});

describe("createConfigInformers / cachedConfigObjects", () => {
  it("watches IronLB's kinds in the namespace and MetalLB's everywhere, optional (absent CRDs sync empty)", async () => {
    const pool = { metadata: { name: "lan", namespace: "ironlb-system", resourceVersion: "1" } };
    const client = new PathListWatch({
      ...Object.fromEntries(
        IRONLB_CONFIG_RESOURCES.map((r) => [
          `/apis/ironlb.io/v1beta1/namespaces/ironlb-system/${r.plural}`,
          [],
        ]),
      ),
      "/apis/ironlb.io/v1beta1/namespaces/ironlb-system/ipaddresspools": [pool],
    });
    const informers = createConfigInformers(informerMaker({ client }), "ironlb-system");
    const all = [...informers.ironlb, ...informers.metallb];
    for (const informer of all) void informer.run(stop.signal);
    await waitForCacheSync(all, stop.signal);

    expect(client.listed).toContain("/apis/metallb.io/v1beta2/bgppeers");
    const objects = cachedConfigObjects(informers);
    // The list items carry no kind: it is filled in from the resource.
    expect(objects.ironlb).toEqual([{ ...pool, apiVersion: "ironlb.io/v1beta1", kind: "IPAddressPool" }]);
    expect(objects.metallb).toEqual([]);
  });
});
