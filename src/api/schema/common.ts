import { Type, type Static } from "@sinclair/typebox";

/** The API group and version of every IronLB configuration and status kind. */
export const API_GROUP = "ironlb.io";
export const API_VERSION = "v1beta1";
export const IRONLB_API_VERSION = `${API_GROUP}/${API_VERSION}`;
export const DEFAULT_NAMESPACE = "ironlb-system";

/**
 * Schema options that only the validator reads: `errorMessage` replaces TypeBox's generic text
 * for pattern failures. The CRD generator drops every keyword it does not know.
 */
export interface IronLBSchemaOptions {
  errorMessage?: string;
}

export const LabelSelectorRequirementSchema = Type.Object(
  {
    key: Type.String({ description: "The label key the requirement applies to." }),
    operator: Type.String({ description: "One of In, NotIn, Exists, DoesNotExist." }),
    values: Type.Optional(
      Type.Array(Type.String(), {
        description: "Values for In and NotIn; must be empty for Exists and DoesNotExist.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** A Kubernetes metav1.LabelSelector: matchLabels and matchExpressions are ANDed. */
export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: "Labels that must all match exactly." }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(LabelSelectorRequirementSchema, { description: "Requirements that must all hold." }),
    ),
  },
  { additionalProperties: false, "x-kubernetes-map-type": "atomic" },
);
export type LabelSelectorSpec = Static<typeof LabelSelectorSchema>;

export function selectorList(description: string) {
  return Type.Array(LabelSelectorSchema, { description });
}

export function nameList(description: string) {
  return Type.Array(Type.String({ minLength: 1 }), { description });
}

/**
 * A Go/Kubernetes duration string ("90s", "1m30s", "500ms"), as metav1.Duration serialises.
 * No sign: negative timers are meaningless here.
 */
export const DURATION_PATTERN = "^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$";

export function durationString(description: string) {
  const options: IronLBSchemaOptions = {
    errorMessage: 'must be a duration such as "90s", "1m30s" or "500ms"',
  };
  return Type.String({ pattern: DURATION_PATTERN, description, ...options });
}

/** An unsigned 32-bit integer (AS numbers, LOCAL_PREF); int64 so the API server keeps it exact. */
export function uint32(description: string, minimum = 0) {
  return Type.Integer({ minimum, maximum: 4294967295, format: "int64", description });
}
