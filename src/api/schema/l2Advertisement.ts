import { Type, type Static } from "@sinclair/typebox";
import { nameList, selectorList } from "./common.js";

export const L2AdvertisementSpecSchema = Type.Object(
  {
    ipAddressPools: Type.Optional(nameList("Names of the IPAddressPools to announce.")),
    ipAddressPoolSelectors: Type.Optional(
      selectorList(
        "Labels of IPAddressPools to announce. With neither ipAddressPools nor selectors, every pool is announced.",
      ),
    ),
    nodeSelectors: Type.Optional(selectorList("Nodes that may announce; empty means every node.")),
    interfaces: Type.Optional(nameList("Node interfaces to answer ARP/NDP on; empty means every interface.")),
    serviceSelectors: Type.Optional(
      selectorList("Labels of Services this advertisement announces; empty means every Service."),
    ),
  },
  {
    additionalProperties: false,
    description: "Announce addresses of some pools with ARP and NDP (Layer 2 mode).",
  },
);
export type L2AdvertisementSpec = Static<typeof L2AdvertisementSpecSchema>;
