/**
 * BGPSessionState objects through the custom objects API (one kind per file: the RBAC table's evidence).
 */
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../api/schema/common.js";
import type { BGPSessionStateStatus } from "../api/schema/serviceStatus.js";
import { requestOptions } from "../k8s/client.js";
import { statusObjectApi, type StatusObjectApi, type StatusOwnerRef } from "./statusObjectApi.js";

export function bgpSessionStateApi(
  api: CustomObjectsApi,
  namespace: string,
  node: string,
  owner: () => StatusOwnerRef | undefined,
): StatusObjectApi<BGPSessionStateStatus> {
  const at = { group: API_GROUP, version: API_VERSION, plural: "bgpsessionstates", namespace };
  return statusObjectApi<BGPSessionStateStatus>(
    { kind: "BGPSessionState", namespace, node, owner },
    {
      list: (labelSelector, signal) =>
        api.listNamespacedCustomObject({ ...at, labelSelector }, requestOptions({ signal })),
      create: (body, signal) => api.createNamespacedCustomObject({ ...at, body }, requestOptions({ signal })),
      replaceStatus: (name, body, signal) =>
        api.replaceNamespacedCustomObjectStatus({ ...at, name, body }, requestOptions({ signal })),
      delete: (name, signal) => api.deleteNamespacedCustomObject({ ...at, name }, requestOptions({ signal })),
    },
  );
}
