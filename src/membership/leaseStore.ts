/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
/**
 * LeaseStore against the API server (coordination.k8s.io/v1 Leases through client-node). The
 * renew and acquire times are sent as MicroTime (six fractional digits), as the API requires.
 */
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { isConflict, isNotFound, requestOptions } from "../k8s/client.js";
import { LeaseConflictError, LeaseGoneError, type LeaseStore, type SpeakerLease } from "./lease.js";

const microTime = (value: string | Date | undefined): V1MicroTime | undefined =>
  value === undefined ? undefined : new V1MicroTime(value);

function toV1Lease(lease: SpeakerLease): V1Lease {
  const spec = lease.spec ?? {};
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { ...lease.metadata, labels: { ...lease.metadata?.labels } },
    spec: {
      ...spec,
      renewTime: microTime(spec.renewTime),
      acquireTime: microTime(spec.acquireTime),
    },
  } as V1Lease;
}

function fromV1Lease(lease: V1Lease): SpeakerLease {
  const spec = lease.spec ?? {};
  return {
    metadata: {
      name: lease.metadata?.name,
      namespace: lease.metadata?.namespace,
      resourceVersion: lease.metadata?.resourceVersion,
      labels: lease.metadata?.labels,
    },
    spec: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      renewTime: spec.renewTime,
      acquireTime: spec.acquireTime,
    },
  };
}

function mapError(error: unknown): unknown {
  if (isConflict(error))
    return new LeaseConflictError("the lease changed or exists already", { cause: error });
  if (isNotFound(error)) return new LeaseGoneError("the lease does not exist", { cause: error });
  return error;
}

export function kubeLeaseStore(api: CoordinationV1Api): LeaseStore {
  return {
    async get(namespace, name, signal) {
      try {
        return fromV1Lease(await api.readNamespacedLease({ namespace, name }, requestOptions({ signal })));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async create(namespace, lease, signal) {
      try {
        return fromV1Lease(
          await api.createNamespacedLease({ namespace, body: toV1Lease(lease) }, requestOptions({ signal })),
        );
      } catch (error) {
        throw mapError(error);
      }
    },
    async replace(namespace, lease, signal) {
      const name = lease.metadata?.name ?? "";
      try {
        return fromV1Lease(
          await api.replaceNamespacedLease(
            { namespace, name, body: toV1Lease(lease) },
            requestOptions({ signal }),
          ),
        );
      } catch (error) {
        throw mapError(error);
      }
    },
    async delete(namespace, name, signal) {
      try {
        await api.deleteNamespacedLease({ namespace, name }, requestOptions({ signal }));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}
