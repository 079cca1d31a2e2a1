import { Type, type Static } from "@sinclair/typebox";

/** Status-only kinds (the speaker writes them; users read them). Their spec is empty. */
export const EmptySpecSchema = Type.Object({}, { description: "No fields: everything is in status." });

const serviceFields = {
  node: Type.Optional(Type.String({ description: "Node that announces the Service." })),
  serviceName: Type.Optional(Type.String({ description: "Name of the Service." })),
  serviceNamespace: Type.Optional(Type.String({ description: "Namespace of the Service." })),
};

export const ServiceL2StatusStatusSchema = Type.Object(
  {
    ...serviceFields,
    interfaces: Type.Optional(
      Type.Array(Type.Object({ name: Type.Optional(Type.String({ description: "Interface name." })) }), {
        description: "Interfaces the node answers ARP/NDP on for the Service.",
      }),
    ),
  },
  { description: "Which node answers ARP/NDP for a Service's addresses, and where." },
);
export type ServiceL2StatusStatus = Static<typeof ServiceL2StatusStatusSchema>;

export const ServiceBGPStatusStatusSchema = Type.Object(
  {
    ...serviceFields,
    peers: Type.Optional(
      Type.Array(Type.String(), { description: "BGPPeers the node announces the Service to." }),
    ),
  },
  { description: "Which peers a node announces a Service's addresses to." },
);
export type ServiceBGPStatusStatus = Static<typeof ServiceBGPStatusStatusSchema>;

export const BGPSessionStateStatusSchema = Type.Object(
  {
    node: Type.Optional(Type.String({ description: "Node of the session." })),
    peer: Type.Optional(Type.String({ description: "Address of the peer." })),
    bgpStatus: Type.Optional(Type.String({ description: "BGP FSM state, e.g. Established." })),
    bfdStatus: Type.Optional(
      Type.String({
        description:
          "State of the session's BFD session: Up, Down, Init or AdminDown; N/A when the BGPPeer has no bfdProfile or names one that does not exist.",
      }),
    ),
    bfdProfile: Type.Optional(Type.String({ description: "The BFDProfile the BGPPeer names, if any." })),
    peerName: Type.Optional(Type.String({ description: "Name of the BGPPeer." })),
    lastError: Type.Optional(
      Type.String({
        description:
          "The session's last error, kept after it recovers: why it last left Established, or the last NOTIFICATION sent or received (which also explains a session that never got there), or the last TCP connection that could not be opened, e.g. NOTIFICATION received: OPEN Message Error / Bad Peer As, or connect ECONNREFUSED 192.0.2.1:179.",
      }),
    ),
    stateSince: Type.Optional(
      Type.String({
        format: "date-time",
        description:
          "When the session last became Established, or, when it is not Established, since when it has been out of Established (it alternates between Connect and Active while it retries) or since the speaker started it (RFC 3339).",
      }),
    ),
    advertisedPrefixes: Type.Optional(
      Type.Integer({ minimum: 0, description: "Prefixes the peer currently has from this node." }),
    ),
    prefixes: Type.Optional(
      Type.Array(Type.String(), {
        description: "The advertised prefixes (the first 100 when there are more; see advertisedPrefixes).",
      }),
    ),
  },
  { description: "State of one BGP session of one node." },
);
export type BGPSessionStateStatus = Static<typeof BGPSessionStateStatusSchema>;
