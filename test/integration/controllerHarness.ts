/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment -- client-node models are plain
   data classes with no behaviour; its API is meant to take object literals. */
// Helpers for the controller's integration tests: `ironlb controller` as a child process (so it can
// be SIGKILLed), the CRDs applied (ironlbProcess.ts), and small waits on Service state.
import {
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  type KubeConfig,
  type V1Service,
} from "@kubernetes/client-node";
import { processAlive } from "../support/testenv.js";
import { daemonArgs, DaemonProcess, type DaemonOptions, type LogLine } from "./ironlbProcess.js";

export interface ControllerProcessOptions extends DaemonOptions {
  readonly leaderElect?: boolean;
}

/** One `ironlb controller` child process, stopped only by its own PID. */
export class ControllerProcess extends DaemonProcess {
  static start(options: ControllerProcessOptions): ControllerProcess {
    const args = daemonArgs("controller", options, options.leaderElect === true ? ["--leader-elect"] : []);
    const started = new ControllerProcess("controller", DaemonProcess.spawnChild(process.execPath, args));
    running.add(started);
    return started;
  }

  /** Waits until this controller leads and has loaded the existing assignments. */
  reconciling(timeoutMs?: number): Promise<LogLine> {
    return this.waitForLog((l) => l.msg === "leading: reconciling", timeoutMs);
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (processAlive(this.child.pid)) this.child.kill(signal);
    await this.exited;
    running.delete(this);
  }
}

const running = new Set<ControllerProcess>();

/** SIGKILL every controller this file started (afterEach/afterAll safety net). */
export async function killAllControllers(): Promise<void> {
  await Promise.all([...running].map((c) => c.kill("SIGKILL")));
}

export interface PoolSpecInput {
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: Record<string, unknown>;
}

/** Small client helpers bound to one kubeconfig. */
export class Cluster {
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly events: EventsV1Api;

  constructor(readonly config: KubeConfig) {
    this.core = config.makeApiClient(CoreV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.events = config.makeApiClient(EventsV1Api);
  }

  async namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name, labels } } });
  }

  async applyPool(namespace: string, name: string, spec: PoolSpecInput): Promise<void> {
    const body = {
      apiVersion: "ironlb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name, namespace },
      spec,
    };
    try {
      const current = (await this.custom.getNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        name,
      })) as { metadata: { resourceVersion: string } };
      await this.custom.replaceNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        name,
        body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } },
      });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await this.custom.createNamespacedCustomObject({
        group: "ironlb.io",
        version: "v1beta1",
        plural: "ipaddresspools",
        namespace,
        body,
      });
    }
  }

  async poolStatus(namespace: string, name: string): Promise<Record<string, number> | undefined> {
    const pool = (await this.custom.getNamespacedCustomObject({
      group: "ironlb.io",
      version: "v1beta1",
      plural: "ipaddresspools",
      namespace,
      name,
    })) as { status?: Record<string, number> };
    return pool.status;
  }

  async createService(
    namespace: string,
    name: string,
    extra: Partial<ServiceShape> = {},
  ): Promise<V1Service> {
    return this.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name, ...(extra.annotations !== undefined && { annotations: extra.annotations }) },
        spec: {
          type: "LoadBalancer",
          ports: extra.ports ?? [{ name: "http", port: 80, protocol: "TCP" }],
          ...(extra.loadBalancerClass !== undefined && { loadBalancerClass: extra.loadBalancerClass }),
          ...(extra.ipFamilyPolicy !== undefined && { ipFamilyPolicy: extra.ipFamilyPolicy }),
          ...(extra.ipFamilies !== undefined && { ipFamilies: extra.ipFamilies }),
          ...(extra.selector !== undefined && { selector: extra.selector }),
        },
      },
    });
  }

  async service(namespace: string, name: string): Promise<V1Service> {
    return this.core.readNamespacedService({ namespace, name });
  }

  async ips(namespace: string, name: string): Promise<string[]> {
    const svc = await this.service(namespace, name);
    return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "");
  }

  /** Polls until the Service has `count` addresses; returns them. */
  async waitForIPs(namespace: string, name: string, count = 1, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ips = await this.ips(namespace, name);
      if (ips.length === count) return ips;
      if (Date.now() > deadline) {
        const svc = await this.service(namespace, name);
        throw new Error(
          `${namespace}/${name} has ${JSON.stringify(ips)} after ${timeoutMs} ms: ${JSON.stringify(svc.status)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async condition(
    namespace: string,
    name: string,
  ): Promise<{ status: string; reason: string; message: string } | undefined> {
    const svc = await this.service(namespace, name);
    return svc.status?.conditions?.find((c) => c.type === "ironlb.io/IPAllocated");
  }

  /** IronLB's events.k8s.io Events about one object, oldest first, as [reason, note]. */
  async eventsFor(namespace: string, name: string): Promise<[string, string][]> {
    const list = await this.events.listNamespacedEvent({ namespace });
    return list.items
      .filter((e) => e.regarding?.name === name && e.reportingController === "ironlb.io/controller")
      .sort((a, b) => new Date(a.eventTime).getTime() - new Date(b.eventTime).getTime())
      .map((e) => [e.reason ?? "", e.note ?? ""]);
  }
}

export interface ServiceShape {
  annotations: Record<string, string>;
  ports: { name?: string; port: number; protocol?: string }[];
  loadBalancerClass: string;
  ipFamilyPolicy: string;
  ipFamilies: string[];
  selector: Record<string, string>;
}
