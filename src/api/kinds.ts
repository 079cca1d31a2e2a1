import type { TSchema } from "@sinclair/typebox";
import { BFDProfileSpecSchema } from "./schema/bfdProfile.js";
import { BGPAdvertisementSpecSchema } from "./schema/bgpAdvertisement.js";
import { BGPPeerSpecSchema } from "./schema/bgpPeer.js";
import { CommunitySpecSchema } from "./schema/community.js";
import { IPAddressPoolSpecSchema, IPAddressPoolStatusSchema } from "./schema/ipAddressPool.js";
import { L2AdvertisementSpecSchema } from "./schema/l2Advertisement.js";
import {
  BGPSessionStateStatusSchema,
  EmptySpecSchema,
  ServiceBGPStatusStatusSchema,
  ServiceL2StatusStatusSchema,
} from "./schema/serviceStatus.js";

/** A kubectl column (CRD additionalPrinterColumns). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "boolean" | "date" | "number";
  readonly jsonPath: string;
  readonly description?: string;
  /** 0: shown by default; 1 and more: only with `-o wide`. */
  readonly priority?: number;
}

/** Everything the validator and the CRD generator need to know about one kind. */
export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly description: string;
  readonly spec: TSchema;
  readonly specRequired: boolean;
  readonly status?: TSchema;
  readonly printerColumns: readonly PrinterColumn[];
}

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const IPADDRESSPOOL: KindDefinition = {
  kind: "IPAddressPool",
  plural: "ipaddresspools",
  description: "A pool of addresses IronLB may give to LoadBalancer Services.",
  spec: IPAddressPoolSpecSchema,
  specRequired: true,
  status: IPAddressPoolStatusSchema,
  printerColumns: [
    { name: "Addresses", type: "string", jsonPath: ".spec.addresses" },
    { name: "Auto Assign", type: "boolean", jsonPath: ".spec.autoAssign" },
    { name: "Avoid Buggy IPs", type: "boolean", jsonPath: ".spec.avoidBuggyIPs", priority: 1 },
    { name: "Assigned IPv4", type: "integer", jsonPath: ".status.assignedIPv4" },
    { name: "Available IPv4", type: "integer", jsonPath: ".status.availableIPv4" },
    { name: "Assigned IPv6", type: "integer", jsonPath: ".status.assignedIPv6", priority: 1 },
    { name: "Available IPv6", type: "integer", jsonPath: ".status.availableIPv6", priority: 1 },
    age,
  ],
};

export const L2ADVERTISEMENT: KindDefinition = {
  kind: "L2Advertisement",
  plural: "l2advertisements",
  description: "Announces the addresses of some pools with ARP and NDP (Layer 2 mode).",
  spec: L2AdvertisementSpecSchema,
  specRequired: false,
  printerColumns: [
    { name: "IPAddressPools", type: "string", jsonPath: ".spec.ipAddressPools" },
    { name: "Pool Selectors", type: "string", jsonPath: ".spec.ipAddressPoolSelectors", priority: 1 },
    { name: "Interfaces", type: "string", jsonPath: ".spec.interfaces" },
    { name: "Node Selectors", type: "string", jsonPath: ".spec.nodeSelectors", priority: 1 },
    age,
  ],
};

export const BGPADVERTISEMENT: KindDefinition = {
  kind: "BGPAdvertisement",
  plural: "bgpadvertisements",
  description: "Announces the addresses of some pools to BGP peers.",
  spec: BGPAdvertisementSpecSchema,
  specRequired: false,
  printerColumns: [
    { name: "IPAddressPools", type: "string", jsonPath: ".spec.ipAddressPools" },
    { name: "Peers", type: "string", jsonPath: ".spec.peers" },
    { name: "Aggregation", type: "integer", jsonPath: ".spec.aggregationLength" },
    { name: "Aggregation V6", type: "integer", jsonPath: ".spec.aggregationLengthV6", priority: 1 },
    { name: "LocalPref", type: "integer", jsonPath: ".spec.localPref" },
    { name: "Communities", type: "string", jsonPath: ".spec.communities", priority: 1 },
    age,
  ],
};

export const BGPPEER: KindDefinition = {
  kind: "BGPPeer",
  plural: "bgppeers",
  description: "A BGP router the speakers open sessions with.",
  spec: BGPPeerSpecSchema,
  specRequired: true,
  printerColumns: [
    { name: "Address", type: "string", jsonPath: ".spec.peerAddress" },
    { name: "ASN", type: "integer", jsonPath: ".spec.peerASN" },
    { name: "Dynamic ASN", type: "string", jsonPath: ".spec.dynamicASN", priority: 1 },
    { name: "My ASN", type: "integer", jsonPath: ".spec.myASN" },
    { name: "BFD Profile", type: "string", jsonPath: ".spec.bfdProfile" },
    { name: "Multi Hop", type: "boolean", jsonPath: ".spec.ebgpMultiHop", priority: 1 },
    age,
  ],
};

export const BFDPROFILE: KindDefinition = {
  kind: "BFDProfile",
  plural: "bfdprofiles",
  description: "Settings of the BFD sessions of the BGPPeers that name it.",
  spec: BFDProfileSpecSchema,
  specRequired: false,
  printerColumns: [
    { name: "Receive Interval", type: "integer", jsonPath: ".spec.receiveInterval" },
    { name: "Transmit Interval", type: "integer", jsonPath: ".spec.transmitInterval" },
    { name: "Multiplier", type: "integer", jsonPath: ".spec.detectMultiplier" },
    { name: "Passive Mode", type: "boolean", jsonPath: ".spec.passiveMode" },
    { name: "Echo Mode", type: "boolean", jsonPath: ".spec.echoMode", priority: 1 },
    age,
  ],
};

export const COMMUNITY: KindDefinition = {
  kind: "Community",
  plural: "communities",
  description: "Names for BGP community values, usable in BGPAdvertisement.communities.",
  spec: CommunitySpecSchema,
  specRequired: false,
  printerColumns: [age],
};

const serviceColumns: readonly PrinterColumn[] = [
  { name: "Node", type: "string", jsonPath: ".status.node" },
  { name: "Service Name", type: "string", jsonPath: ".status.serviceName" },
  { name: "Service Namespace", type: "string", jsonPath: ".status.serviceNamespace" },
];

export const SERVICEL2STATUS: KindDefinition = {
  kind: "ServiceL2Status",
  plural: "servicel2statuses",
  description: "Which node answers ARP/NDP for a Service's addresses (written by the speaker).",
  spec: EmptySpecSchema,
  specRequired: false,
  status: ServiceL2StatusStatusSchema,
  printerColumns: [...serviceColumns, age],
};

export const SERVICEBGPSTATUS: KindDefinition = {
  kind: "ServiceBGPStatus",
  plural: "servicebgpstatuses",
  description: "Which BGP peers a node announces a Service's addresses to (written by the speaker).",
  spec: EmptySpecSchema,
  specRequired: false,
  status: ServiceBGPStatusStatusSchema,
  printerColumns: [
    ...serviceColumns,
    { name: "Peers", type: "string", jsonPath: ".status.peers", priority: 1 },
    age,
  ],
};

export const BGPSESSIONSTATE: KindDefinition = {
  kind: "BGPSessionState",
  plural: "bgpsessionstates",
  description: "State of one BGP session of one node (written by the speaker).",
  spec: EmptySpecSchema,
  specRequired: false,
  status: BGPSessionStateStatusSchema,
  printerColumns: [
    { name: "Node", type: "string", jsonPath: ".status.node" },
    { name: "Peer", type: "string", jsonPath: ".status.peer" },
    { name: "BGP Status", type: "string", jsonPath: ".status.bgpStatus" },
    { name: "BFD Status", type: "string", jsonPath: ".status.bfdStatus" },
    { name: "Prefixes", type: "integer", jsonPath: ".status.advertisedPrefixes", priority: 1 },
    { name: "Last Error", type: "string", jsonPath: ".status.lastError", priority: 1 },
    age,
  ],
};

/** The kinds users write; validateConfig reads these. */
export const CONFIG_KINDS: readonly KindDefinition[] = [
  IPADDRESSPOOL,
  L2ADVERTISEMENT,
  BGPADVERTISEMENT,
  BGPPEER,
  BFDPROFILE,
  COMMUNITY,
];

/** The kinds IronLB writes to report state. */
export const STATUS_KINDS: readonly KindDefinition[] = [SERVICEL2STATUS, SERVICEBGPSTATUS, BGPSESSIONSTATE];

export const ALL_KINDS: readonly KindDefinition[] = [...CONFIG_KINDS, ...STATUS_KINDS];
