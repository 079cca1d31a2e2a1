/**
 * Numbers of the BGP-4 wire format (RFC 4271 and the extensions IronLB speaks), named once so
 * the codec, the state machine and the tests read as prose.
 */

export const BGP_VERSION = 4;
export const BGP_PORT = 179;
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** RFC 4271 maximum message size (RFC 8654 extended messages are not negotiated). */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 6793: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** Smallest valid total length (header included) per message type (RFC 4271 6.1, RFC 2918). */
export const MIN_MESSAGE_LENGTH: Readonly<Record<MessageTypeCode, number>> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

export const Afi = { IPv4: 1, IPv6: 2 } as const;
export const Safi = { Unicast: 1 } as const;

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}
export const IPV4_UNICAST: AfiSafi = { afi: Afi.IPv4, safi: Safi.Unicast };
export const IPV6_UNICAST: AfiSafi = { afi: Afi.IPv6, safi: Safi.Unicast };

export function sameAfiSafi(a: AfiSafi, b: AfiSafi): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

export function formatAfiSafi(f: AfiSafi): string {
  if (sameAfiSafi(f, IPV4_UNICAST)) return "ipv4-unicast";
  if (sameAfiSafi(f, IPV6_UNICAST)) return "ipv6-unicast";
  return `afi${f.afi}-safi${f.safi}`;
}

/** OPEN optional parameter types (RFC 5492; 255 marks RFC 9072 extended encoding). */
export const OptionalParameterType = { Capabilities: 2, ExtendedLength: 255 } as const;

export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  GracefulRestart: 64,
  FourOctetAs: 65,
} as const;

export const AttributeFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const AttributeType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunities: 32,
} as const;

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type OriginCode = (typeof Origin)[keyof typeof Origin];

export const AsPathSegmentType = { Set: 1, Sequence: 2, ConfedSequence: 3, ConfedSet: 4 } as const;

/** NOTIFICATION error codes (RFC 4271 4.5, RFC 7313 for code 7). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;

export const HeaderErrorSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

export const OpenErrorSubcode = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

export const UpdateErrorSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** RFC 6608. */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** RFC 4486, RFC 8538 (Hard Reset), RFC 9384 (BFD Down). */
export const CeaseSubcode = {
  MaximumPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
  BfdDown: 10,
} as const;

export const RouteRefreshErrorSubcode = { InvalidMessageLength: 1 } as const;

const codeNames: Readonly<Record<number, string>> = {
  1: "Message Header Error",
  2: "OPEN Message Error",
  3: "UPDATE Message Error",
  4: "Hold Timer Expired",
  5: "Finite State Machine Error",
  6: "Cease",
  7: "ROUTE-REFRESH Message Error",
};

function invert(table: Readonly<Record<string, number>>): Readonly<Record<number, string>> {
  const out: Record<number, string> = {};
  for (const [name, value] of Object.entries(table)) {
    out[value] = name.replace(/([a-z])([A-Z])/g, "$1 $2");
  }
  return out;
}

const subcodeNames: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: invert(HeaderErrorSubcode),
  2: invert(OpenErrorSubcode),
  3: invert(UpdateErrorSubcode),
  5: invert(FsmErrorSubcode),
  6: invert(CeaseSubcode),
  7: invert(RouteRefreshErrorSubcode),
};

/** "Cease / Administrative Shutdown", for logs and status. Unknown values are shown as numbers. */
export function describeNotification(code: number, subcode: number): string {
  const codeName = codeNames[code] ?? `error code ${code}`;
  const sub = subcodeNames[code]?.[subcode];
  if (sub !== undefined) return `${codeName} / ${sub}`;
  return subcode === 0 ? codeName : `${codeName} / subcode ${subcode}`;
}
