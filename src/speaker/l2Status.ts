/**
 * ServiceL2Status objects (ironlb.io/v1beta1): one per Service this node announces, named and
 * labelled as every speaker status object is (statusObjects.ts). Pure.
 */
import type { ServiceL2StatusStatus } from "../api/schema/serviceStatus.js";
import type { AnnouncedService } from "./nodePlan.js";
import { serviceStatusLabels, statusName, type DesiredObject } from "./statusObjects.js";

export type DesiredL2Status = DesiredObject<ServiceL2StatusStatus>;

export function desiredStatuses(services: readonly AnnouncedService[], node: string): DesiredL2Status[] {
  return services.map((svc) => ({
    name: statusName(svc.namespace, svc.name, node),
    labels: serviceStatusLabels(node, svc.namespace, svc.name),
    status: {
      node,
      serviceName: svc.name,
      serviceNamespace: svc.namespace,
      interfaces: svc.interfaces.map((name) => ({ name })),
    },
  }));
}
