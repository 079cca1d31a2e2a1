import { Type, type Static } from "@sinclair/typebox";

export const CommunityAliasSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Alias usable in BGPAdvertisement.communities." }),
    value: Type.String({
      minLength: 1,
      description: 'The community: "65535:65281" (16-bit halves) or "large:1:2:3" (32-bit parts).',
    }),
  },
  { additionalProperties: false },
);

export const CommunitySpecSchema = Type.Object(
  {
    communities: Type.Optional(Type.Array(CommunityAliasSchema, { description: "Named BGP communities." })),
  },
  { additionalProperties: false, description: "Names for BGP community values." },
);
export type CommunitySpec = Static<typeof CommunitySpecSchema>;
