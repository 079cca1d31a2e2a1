import { Type, type Static } from "@sinclair/typebox";
import { selectorList } from "./common.js";

export const POOL_DEFAULTS = { autoAssign: true, avoidBuggyIPs: false } as const;

export const ServiceAllocationSchema = Type.Object(
  {
    priority: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Lower is tried first among matching pools; 0 or unset means no priority (tried after pools with one), as in MetalLB.",
      }),
    ),
    namespaces: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: "Namespaces whose Services may use the pool.",
      }),
    ),
    namespaceSelectors: Type.Optional(
      selectorList("Labels of namespaces whose Services may use the pool; an alternative to namespaces."),
    ),
    serviceSelectors: Type.Optional(selectorList("Labels of Services that may use the pool.")),
  },
  {
    additionalProperties: false,
    description: "Restricts the pool to some namespaces or Services, and orders matching pools by priority.",
  },
);

export const IPAddressPoolSpecSchema = Type.Object(
  {
    addresses: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description:
        'Address ranges of the pool: CIDRs ("198.51.100.0/24"), "start-end" ranges or single addresses, IPv4 and IPv6.',
    }),
    autoAssign: Type.Optional(
      Type.Boolean({
        default: POOL_DEFAULTS.autoAssign,
        description: "false: the pool serves only Services that ask for it or for one of its addresses.",
      }),
    ),
    avoidBuggyIPs: Type.Optional(
      Type.Boolean({
        default: POOL_DEFAULTS.avoidBuggyIPs,
        description: "Skip IPv4 addresses ending in .0 and .255, which some clients mishandle.",
      }),
    ),
    serviceAllocation: Type.Optional(ServiceAllocationSchema),
  },
  {
    additionalProperties: false,
    description: "A pool of addresses IronLB may give to LoadBalancer Services.",
  },
);
export type IPAddressPoolSpec = Static<typeof IPAddressPoolSpecSchema>;

function counter(description: string) {
  return Type.Integer({ minimum: 0, format: "int64", description });
}

export const IPAddressPoolStatusSchema = Type.Object(
  {
    assignedIPv4: counter("Number of IPv4 addresses assigned to Services."),
    assignedIPv6: counter("Number of IPv6 addresses assigned to Services."),
    availableIPv4: counter("Number of IPv4 addresses still free."),
    availableIPv6: counter("Number of IPv6 addresses still free (capped at the int64 maximum)."),
  },
  { additionalProperties: false, description: "Address usage of the pool, written by the controller." },
);
export type IPAddressPoolStatus = Static<typeof IPAddressPoolStatusSchema>;
