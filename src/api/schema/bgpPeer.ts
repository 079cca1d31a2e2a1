import { Type, type Static } from "@sinclair/typebox";
import { durationString, selectorList, uint32 } from "./common.js";

export const BGP_PEER_DEFAULTS = {
  peerPort: 179,
  ebgpMultiHop: false,
  enableGracefulRestart: false,
  /** Used when neither holdTime nor keepaliveTime is set (MetalLB's default). */
  holdTimeSeconds: 90,
  /** RFC 4271's suggested ConnectRetryTime. */
  connectTimeSeconds: 120,
} as const;

export const DynamicASNSchema = Type.Union([Type.Literal("internal"), Type.Literal("external")], {
  description:
    "Accept the peer's AS number from its OPEN: internal (must equal myASN) or external (must differ). Exclusive with peerASN.",
});
export type DynamicASNMode = Static<typeof DynamicASNSchema>;

export const SecretReferenceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Name of the Secret." }),
    namespace: Type.Optional(
      Type.String({ description: "Namespace of the Secret; defaults to the BGPPeer's namespace." }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'A Secret of type kubernetes.io/basic-auth holding the TCP MD5 password under the key "password".',
  },
);

export const BGPPeerSpecSchema = Type.Object(
  {
    myASN: uint32("AS number of the local end of the session.", 1),
    peerASN: Type.Optional(uint32("AS number expected from the peer. Exclusive with dynamicASN.", 1)),
    dynamicASN: Type.Optional(DynamicASNSchema),
    peerAddress: Type.String({ minLength: 1, description: "Address to connect to." }),
    sourceAddress: Type.Optional(Type.String({ description: "Local address to connect from." })),
    peerPort: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        default: BGP_PEER_DEFAULTS.peerPort,
        description: "TCP port of the peer.",
      }),
    ),
    holdTime: Type.Optional(durationString("Proposed BGP hold time (RFC 4271): 0 or at least 3s.")),
    keepaliveTime: Type.Optional(
      durationString("Interval between KEEPALIVEs; at most holdTime (defaults to a third of it)."),
    ),
    connectTime: Type.Optional(
      durationString("Wait between connection attempts: whole seconds from 1s to 65535s."),
    ),
    routerID: Type.Optional(
      Type.String({ description: "BGP identifier (an IPv4 address) to send to the peer." }),
    ),
    nodeSelectors: Type.Optional(selectorList("Nodes that peer with it; empty means every node.")),
    password: Type.Optional(
      Type.String({ description: "TCP MD5 password (RFC 2385). Prefer passwordSecret. Exclusive with it." }),
    ),
    passwordSecret: Type.Optional(SecretReferenceSchema),
    bfdProfile: Type.Optional(
      Type.String({ description: "Name of the BFDProfile for a BFD session with the peer; unset: no BFD." }),
    ),
    ebgpMultiHop: Type.Optional(
      Type.Boolean({
        default: BGP_PEER_DEFAULTS.ebgpMultiHop,
        description: "The eBGP peer is more than one hop away.",
      }),
    ),
    enableGracefulRestart: Type.Optional(
      Type.Boolean({
        default: BGP_PEER_DEFAULTS.enableGracefulRestart,
        description: "Ask the peer to keep our routes while our session restarts (RFC 4724).",
      }),
    ),
  },
  { additionalProperties: false, description: "A BGP router the speakers open sessions with." },
);
export type BGPPeerSpec = Static<typeof BGPPeerSpecSchema>;
