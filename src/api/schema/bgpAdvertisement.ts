import { Type, type Static } from "@sinclair/typebox";
import { nameList, selectorList, uint32 } from "./common.js";

export const BGP_ADVERTISEMENT_DEFAULTS = { aggregationLength: 32, aggregationLengthV6: 128 } as const;

export const BGPAdvertisementSpecSchema = Type.Object(
  {
    aggregationLength: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 32,
        default: BGP_ADVERTISEMENT_DEFAULTS.aggregationLength,
        description: "Prefix length IPv4 Service addresses are rolled up to; 32 announces each address.",
      }),
    ),
    aggregationLengthV6: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 128,
        default: BGP_ADVERTISEMENT_DEFAULTS.aggregationLengthV6,
        description: "Prefix length IPv6 Service addresses are rolled up to; 128 announces each address.",
      }),
    ),
    localPref: Type.Optional(uint32("BGP LOCAL_PREF attribute of the announced routes (iBGP only).")),
    communities: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'BGP communities: "65000:100" (16-bit halves), "large:1:2:3" (32-bit parts) or the name of a Community alias.',
      }),
    ),
    ipAddressPools: Type.Optional(nameList("Names of the IPAddressPools to announce.")),
    ipAddressPoolSelectors: Type.Optional(
      selectorList(
        "Labels of IPAddressPools to announce. With neither ipAddressPools nor selectors, every pool is announced.",
      ),
    ),
    nodeSelectors: Type.Optional(selectorList("Nodes that announce; empty means every node.")),
    peers: Type.Optional(nameList("Names of the BGPPeers to announce to; empty means every peer.")),
  },
  { additionalProperties: false, description: "Announce addresses of some pools to BGP peers." },
);
export type BGPAdvertisementSpec = Static<typeof BGPAdvertisementSpecSchema>;
