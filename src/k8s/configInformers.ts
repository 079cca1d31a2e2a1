/**
 * The informers the controller and every speaker keep on the configuration: IronLB's kinds
 * (ironlb.io/v1beta1, the CRDs of CONFIG_KINDS) in IronLB's namespace, and MetalLB's (metallb.io)
 * in every namespace, optional: watched only while their CRDs are installed.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { CONFIG_KINDS } from "../api/kinds.js";
import { API_GROUP, API_VERSION } from "../api/schema/common.js";
import type { Logger } from "../runtime/logger.js";
import { Informer, type InformerOptions } from "./informer.js";
import type { ListWatchClient } from "./listWatch.js";
import type { ResourceRef } from "./resource.js";

/** A namespaced ironlb.io/v1beta1 resource. */
export function ironlbResource(plural: string, kind: string): ResourceRef {
  return { group: API_GROUP, version: API_VERSION, plural, kind, namespaced: true };
}

const metallbResource = (plural: string, kind: string, version = "v1beta1"): ResourceRef => ({
  group: "metallb.io",
  version,
  plural,
  kind,
  namespaced: true,
});

/** IronLB's configuration kinds, IPAddressPool first. */
export const IRONLB_CONFIG_RESOURCES: readonly ResourceRef[] = CONFIG_KINDS.map((k) =>
  ironlbResource(k.plural, k.kind),
);

/** MetalLB's configuration kinds, read when their CRDs are installed. */
export const METALLB_CONFIG_RESOURCES: readonly ResourceRef[] = [
  metallbResource("ipaddresspools", "IPAddressPool"),
  metallbResource("l2advertisements", "L2Advertisement"),
  metallbResource("bgpadvertisements", "BGPAdvertisement"),
  metallbResource("bgppeers", "BGPPeer", "v1beta2"),
  metallbResource("bfdprofiles", "BFDProfile"),
  metallbResource("communities", "Community"),
];

/** What differs between one daemon's informers. */
export type InformerScope = Pick<
  InformerOptions<KubernetesObject>,
  "namespace" | "labelSelector" | "optional" | "resyncPeriodMs"
>;

/** Builds an informer on `resource` with the daemon's client, logger and error counter. */
export type MakeInformer = <T extends KubernetesObject = KubernetesObject>(
  resource: ResourceRef,
  scope?: InformerScope,
) => Informer<T>;

export interface InformerCommon {
  readonly client: ListWatchClient;
  readonly logger?: Logger | undefined;
  /** Every list/watch failure (an API-errors metric). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

export function informerMaker(common: InformerCommon): MakeInformer {
  const { client, logger, onError } = common;
  return <T extends KubernetesObject>(resource: ResourceRef, scope: InformerScope = {}) =>
    new Informer<T>({
      resource,
      client,
      ...(logger === undefined ? {} : { logger }),
      ...(onError === undefined ? {} : { onError }),
      ...scope,
    });
}

export interface ConfigInformers {
  /** In IRONLB_CONFIG_RESOURCES order. */
  readonly ironlb: readonly Informer[];
  /** In METALLB_CONFIG_RESOURCES order. */
  readonly metallb: readonly Informer[];
}

export function createConfigInformers(make: MakeInformer, namespace: string): ConfigInformers {
  return {
    ironlb: IRONLB_CONFIG_RESOURCES.map((r) => make(r, { namespace })),
    metallb: METALLB_CONFIG_RESOURCES.map((r) => make(r, { optional: true })),
  };
}

/**
 * The configuration objects in the caches, each with its apiVersion and kind (a list response
 * may leave them out of its items).
 */
export function cachedConfigObjects(informers: ConfigInformers): {
  readonly ironlb: KubernetesObject[];
  readonly metallb: KubernetesObject[];
} {
  const withKind = (informer: Informer, ref: ResourceRef | undefined): KubernetesObject[] =>
    informer
      .list()
      .map((o) =>
        o.kind === undefined && ref !== undefined
          ? { ...o, kind: ref.kind, apiVersion: `${ref.group}/${ref.version}` }
          : o,
      );
  return {
    ironlb: informers.ironlb.flatMap((i, n) => withKind(i, IRONLB_CONFIG_RESOURCES[n])),
    metallb: informers.metallb.flatMap((i, n) => withKind(i, METALLB_CONFIG_RESOURCES[n])),
  };
}
