/**
 * The typed API of one status-object kind (ServiceL2Status, ServiceBGPStatus, BGPSessionState):
 * custom objects with a status subresource, owned by this node's Node. Create sends the object
 * (the API server drops status on create), then writes its status.
 *
 * The client calls themselves stay in one small file per kind (kube.ts for ServiceL2Status,
 * bgpSessionStateApi.ts, bgpServiceStatusApi.ts): src/deploy/rbac.ts cites them as the evidence
 * of each grant.
 */
import { API_GROUP, API_VERSION } from "../api/schema/common.js";
import { isConflict, isNotFound } from "../k8s/client.js";
import { nodeLabelSelector, type DesiredObject, type ExistingObject } from "./statusObjects.js";

/** The writes of one kind's objects. */
export interface StatusObjectWriter<S> {
  /** Creates the object and sets its status; resolves also when it exists already (a stale view). */
  create(desired: DesiredObject<S>, signal: AbortSignal): Promise<void>;
  updateStatus(desired: DesiredObject<S>, resourceVersion: string, signal: AbortSignal): Promise<void>;
  /** Resolves also when it is gone already. */
  delete(name: string, signal: AbortSignal): Promise<void>;
}

/** The writes, and this node's objects of the kind as the API server has them. */
export interface StatusObjectApi<S> extends StatusObjectWriter<S> {
  /** None when the kind is not served (no CRD: nothing to clean up). */
  list(signal: AbortSignal): Promise<readonly ExistingObject[]>;
}

export interface StatusOwnerRef {
  readonly name: string;
  readonly uid: string;
}

/** The CustomObjectsApi calls of one kind, at its group, version, plural and namespace. */
export interface CustomObjectWriteCalls {
  create(body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  replaceStatus(name: string, body: Record<string, unknown>, signal: AbortSignal): Promise<unknown>;
  delete(name: string, signal: AbortSignal): Promise<unknown>;
}

export interface CustomObjectCalls extends CustomObjectWriteCalls {
  list(labelSelector: string, signal: AbortSignal): Promise<unknown>;
}

export interface StatusObjectKind {
  /** ironlb.io/v1beta1 kind. */
  readonly kind: string;
  readonly namespace: string;
  /** This node's Node, owner of the objects (they go with it), when known. */
  readonly owner: () => StatusOwnerRef | undefined;
}

export function statusObjectWriter<S>(
  target: StatusObjectKind,
  calls: CustomObjectWriteCalls,
): StatusObjectWriter<S> {
  const body = (d: DesiredObject<S>, resourceVersion?: string): Record<string, unknown> => {
    const owner = target.owner();
    return {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: target.kind,
      metadata: {
        name: d.name,
        namespace: target.namespace,
        labels: d.labels,
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
        ...(owner === undefined
          ? {}
          : { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: owner.name, uid: owner.uid }] }),
      },
      spec: {},
      status: d.status,
    };
  };
  return {
    async create(d, signal) {
      let resourceVersion: string | undefined;
      try {
        const created = (await calls.create(body(d), signal)) as { metadata?: { resourceVersion?: string } };
        resourceVersion = created.metadata?.resourceVersion;
      } catch (error) {
        // Created meanwhile (a previous pass that timed out, a stale cache): the next pass updates it.
        if (isConflict(error)) return;
        throw error;
      }
      await calls.replaceStatus(d.name, body(d, resourceVersion), signal);
    },
    async updateStatus(d, resourceVersion, signal) {
      await calls.replaceStatus(d.name, body(d, resourceVersion), signal);
    },
    async delete(name, signal) {
      try {
        await calls.delete(name, signal);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}

/** The writer plus `list` of the objects labelled with `node`. */
export function statusObjectApi<S>(
  target: StatusObjectKind & { readonly node: string },
  calls: CustomObjectCalls,
): StatusObjectApi<S> {
  return {
    ...statusObjectWriter<S>(target, calls),
    async list(signal) {
      try {
        const result = (await calls.list(nodeLabelSelector(target.node), signal)) as {
          items?: ExistingObject[];
        };
        return result.items ?? [];
      } catch (error) {
        // Without the CRD there is nothing of ours to clean up (and nothing to write until it comes).
        if (isNotFound(error)) return [];
        throw error;
      }
    },
  };
}
