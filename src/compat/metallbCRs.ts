/**
 * MetalLB's CRDs (metallb.io/v1beta1, BGPPeer also v1beta2, the deprecated AddressPool also
 * v1alpha1) to IronLB objects. IronLB kept MetalLB's field names, so most fields copy across;
 * what IronLB does not support is reported, never silently lost.
 */
import { convertFields, type FieldRule } from "./fields.js";
import { convertPool } from "./legacyConfigMap.js";
import { isRecord, type ConversionSink } from "./types.js";

const SAME = <const K extends string>(...keys: K[]): Record<K, K> =>
  Object.fromEntries(keys.map((k) => [k, k])) as Record<K, K>;

const SPEC_RULES: Readonly<Record<string, Readonly<Record<string, FieldRule>>>> = {
  IPAddressPool: SAME("addresses", "autoAssign", "avoidBuggyIPs", "serviceAllocation"),
  L2Advertisement: SAME("ipAddressPools", "ipAddressPoolSelectors", "nodeSelectors", "interfaces"),
  BGPAdvertisement: SAME(
    "aggregationLength",
    "aggregationLengthV6",
    "localPref",
    "communities",
    "ipAddressPools",
    "ipAddressPoolSelectors",
    "nodeSelectors",
    "peers",
  ),
  BFDProfile: SAME(
    "receiveInterval",
    "transmitInterval",
    "detectMultiplier",
    "echoInterval",
    "echoMode",
    "passiveMode",
    "minimumTtl",
  ),
  Community: SAME("communities"),
};

/** Kinds MetalLB writes itself to report state; IronLB writes its own equivalents. */
const STATUS_KINDS = new Set([
  "ServiceL2Status",
  "ServiceBGPStatus",
  "BGPSessionState",
  "ConfigurationState",
]);

function peerRules(sink: ConversionSink, from: string): Record<string, FieldRule> {
  const namespace = sink.options.namespace;
  return {
    ...SAME(
      "myASN",
      "peerASN",
      "dynamicASN",
      "peerAddress",
      "sourceAddress",
      "holdTime",
      "keepaliveTime",
      "connectTime",
      "routerID",
      "nodeSelectors",
      "password",
      "bfdProfile",
      "ebgpMultiHop",
      "enableGracefulRestart",
    ),
    // MetalLB v1beta1 writes 0 for "default port".
    peerPort: { to: "peerPort", convert: (v) => (v === 0 ? undefined : v) },
    passwordSecret: {
      to: "passwordSecret",
      convert: (value, path) => {
        if (!isRecord(value) || typeof value.name !== "string") return value;
        const oldNamespace = typeof value.namespace === "string" ? value.namespace : "MetalLB's namespace";
        if (oldNamespace !== namespace) {
          sink.note(
            from,
            path,
            `IronLB reads the Secret "${value.name}" from ${namespace}: copy it there from ${oldNamespace}`,
          );
        }
        return { name: value.name, namespace };
      },
    },
    interface: {
      drop: "BGP unnumbered peering over an interface is not supported; set peerAddress instead",
      when: (v) => v !== "",
    },
    vrf: {
      drop: "VRFs are not supported: the session would use the default VRF; not converted",
      when: (v) => v !== "",
    },
    disableMP: {
      drop: "disableMP is not supported (IronLB opens one session per peer address family)",
      when: (v) => v === true,
    },
    dualStackAddressFamily: {
      drop: "dualStackAddressFamily is not supported: each session carries its own address family",
      when: (v) => v === true,
    },
  };
}

function describeSource(apiVersion: string, kind: string, name: string): string {
  return `${apiVersion} ${kind} "${name}"`;
}

function labelsOf(metadata: Record<string, unknown>): Record<string, string> | undefined {
  return isRecord(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined;
}

/** Converts one metallb.io object (already known to have a metallb.io apiVersion). */
export function convertMetalLBObject(obj: Record<string, unknown>, sink: ConversionSink): void {
  const apiVersion = String(obj.apiVersion);
  const kind = typeof obj.kind === "string" ? obj.kind : "";
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof metadata.name === "string" ? metadata.name : "";
  const from = describeSource(apiVersion, kind || "(no kind)", name);
  if (STATUS_KINDS.has(kind)) {
    sink.note(from, "", "status written by MetalLB; IronLB writes its own, nothing to convert");
    return;
  }
  if (name === "") {
    sink.dropped(from, "metadata.name", "has no name; not converted");
    return;
  }
  const spec = isRecord(obj.spec) ? obj.spec : {};
  if (kind === "AddressPool") {
    // Deprecated MetalLB kind: a pool with its protocol and advertisements, like the ConfigMap.
    convertPool(
      { ...spec, name },
      {
        protocol: "protocol",
        bgpAdvertisements: "bgpAdvertisements",
        fields: SAME("addresses", "autoAssign", "avoidBuggyIPs"),
      },
      sink,
      from,
      "spec",
      (ad, path) =>
        isRecord(ad)
          ? convertFields(
              ad,
              SAME("aggregationLength", "aggregationLengthV6", "localPref", "communities"),
              sink,
              from,
              path,
            )
          : {},
    );
    return;
  }
  const rules = kind === "BGPPeer" ? peerRules(sink, from) : SPEC_RULES[kind];
  if (rules === undefined) {
    sink.dropped(from, "", `${kind} is not a MetalLB configuration kind IronLB reads; not converted`);
    return;
  }
  sink.emit(kind, name, convertFields(spec, rules, sink, from, "spec"), labelsOf(metadata));
}
