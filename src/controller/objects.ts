/**
 * The parts of Kubernetes objects the controller reads and writes, as plain structural types.
 * client-node's V1Service, V1Namespace and custom objects are assignable to them, and tests can
 * build them as literals. Timestamps are `Date` when client-node deserialised the object and
 * strings (RFC 3339) when it came raw from a list/watch.
 */

export interface ObjectMeta {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly generation?: number | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly creationTimestamp?: Date | string | undefined;
  readonly deletionTimestamp?: Date | string | undefined;
}

export interface ServicePortObject {
  readonly port: number;
  readonly protocol?: string | undefined;
}

export interface LoadBalancerIngressObject {
  readonly ip?: string | undefined;
  readonly hostname?: string | undefined;
  readonly ipMode?: string | undefined;
  readonly ports?: readonly unknown[] | undefined;
}

/** metav1.Condition */
export interface ConditionObject {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: Date | string;
  readonly observedGeneration?: number | undefined;
}

export interface ServiceStatusObject {
  readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngressObject[] | undefined } | undefined;
  readonly conditions?: readonly ConditionObject[] | undefined;
}

export interface ServiceObject {
  readonly metadata?: ObjectMeta | undefined;
  readonly spec?:
    | {
        readonly type?: string | undefined;
        readonly loadBalancerClass?: string | undefined;
        readonly loadBalancerIP?: string | undefined;
        readonly ipFamilies?: readonly string[] | undefined;
        readonly ipFamilyPolicy?: string | undefined;
        readonly ports?: readonly ServicePortObject[] | undefined;
        readonly selector?: Readonly<Record<string, string>> | undefined;
        readonly externalTrafficPolicy?: string | undefined;
      }
    | undefined;
  readonly status?: ServiceStatusObject | undefined;
}

export interface NamespaceObject {
  readonly metadata?: ObjectMeta | undefined;
}

/** A custom object (IronLB or MetalLB CR) as the API returns it. */
export interface CustomObject {
  readonly apiVersion?: string | undefined;
  readonly kind?: string | undefined;
  readonly metadata?: ObjectMeta | undefined;
  readonly spec?: unknown;
  readonly status?: unknown;
}

/** "namespace/name", the key objects are cached and queued under. */
export function objectKey(obj: { readonly metadata?: ObjectMeta | undefined }): string {
  const meta = obj.metadata;
  return meta?.namespace ? `${meta.namespace}/${meta.name ?? ""}` : (meta?.name ?? "");
}

/** Splits "namespace/name" (or "name" for cluster-scoped objects). */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: undefined, name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
