/**
 * AdmissionReview v1 handling, pure: parse the review the API server posts, decide with the shared
 * whole-configuration validation, and build the response. No I/O here; server.ts does the HTTP.
 *
 * The decision compares the configuration before and after the change: a change is rejected when
 * it brings errors that were not there before. A change to a cluster whose configuration is
 * already invalid (the webhook was off when the bad object went in) is still allowed when it does
 * not make things worse, so the bad object can be fixed or deleted; errors that remain on the
 * object being written come back as warnings.
 */
import { validateConfig, type ConfigInput } from "../api/config.js";
import type { ConfigError } from "../api/configError.js";
import { CONFIG_KINDS } from "../api/kinds.js";
import { IRONLB_API_VERSION } from "../api/schema/common.js";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
const IRONLB_GROUP = IRONLB_API_VERSION.split("/")[0] as string;
const IRONLB_VERSION = IRONLB_API_VERSION.split("/")[1] as string;

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** The parts of an AdmissionReview request the decision uses. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly operation: AdmissionOperation;
  readonly name: string;
  readonly namespace: string | undefined;
  /** The object as it would be stored (CREATE, UPDATE); null for DELETE. */
  readonly object: unknown;
  /** The stored object (UPDATE, DELETE); null for CREATE. */
  readonly oldObject: unknown;
  readonly username: string | undefined;
}

export class MalformedAdmissionReviewError extends Error {
  override readonly name = "MalformedAdmissionReviewError";
  readonly code = "ERR_WEBHOOK_MALFORMED_REVIEW";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(record: Record<string, unknown>, field: string, where: string): string {
  const value = record[field];
  if (typeof value !== "string") {
    throw new MalformedAdmissionReviewError(`${where}.${field} must be a string`);
  }
  return value;
}

const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/** Reads an AdmissionReview v1 body; throws MalformedAdmissionReviewError for anything else. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw new MalformedAdmissionReviewError("the body must be a JSON object");
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== "AdmissionReview") {
    throw new MalformedAdmissionReviewError(
      `expected apiVersion ${ADMISSION_API_VERSION} and kind AdmissionReview, got ${JSON.stringify(body.apiVersion)} ${JSON.stringify(body.kind)}`,
    );
  }
  const request = body.request;
  if (!isRecord(request)) throw new MalformedAdmissionReviewError("request must be an object");
  const uid = requireString(request, "uid", "request");
  if (uid === "") throw new MalformedAdmissionReviewError("request.uid must not be empty");
  const kind = request.kind;
  if (!isRecord(kind)) throw new MalformedAdmissionReviewError("request.kind must be an object");
  const operation = requireString(request, "operation", "request");
  if (!OPERATIONS.includes(operation)) {
    throw new MalformedAdmissionReviewError(
      `request.operation ${JSON.stringify(operation)} is not an operation`,
    );
  }
  const namespace = request.namespace;
  if (namespace !== undefined && typeof namespace !== "string") {
    throw new MalformedAdmissionReviewError("request.namespace must be a string");
  }
  const userInfo = isRecord(request.userInfo) ? request.userInfo : {};
  return {
    uid,
    kind: {
      group: requireString(kind, "group", "request.kind"),
      version: requireString(kind, "version", "request.kind"),
      kind: requireString(kind, "kind", "request.kind"),
    },
    operation: operation as AdmissionOperation,
    name: typeof request.name === "string" ? request.name : "",
    namespace: namespace === "" ? undefined : namespace,
    object: request.object ?? null,
    oldObject: request.oldObject ?? null,
    username: typeof userInfo.username === "string" ? userInfo.username : undefined,
  };
}

export interface AdmissionCause {
  readonly reason: string;
  readonly field: string;
  readonly message: string;
}

export interface AdmissionDecision {
  readonly allowed: boolean;
  /** HTTP-style code of a rejection. */
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly causes?: readonly AdmissionCause[];
  readonly warnings?: readonly string[];
}

/** Which ConfigInput list holds each configuration kind. */
const INPUT_FIELD: Readonly<Record<string, keyof ConfigInput>> = {
  IPAddressPool: "ipAddressPools",
  L2Advertisement: "l2Advertisements",
  BGPAdvertisement: "bgpAdvertisements",
  BGPPeer: "bgpPeers",
  BFDProfile: "bfdProfiles",
  Community: "communities",
};

/** The configuration kinds the webhook validates (every kind with an INPUT_FIELD entry). */
export const VALIDATED_KINDS = CONFIG_KINDS.filter((def) => def.kind in INPUT_FIELD);

/**
 * Users whose deletions are always allowed: the namespace controller empties a terminating
 * namespace and the garbage collector follows ownerReferences, both in no useful order, and a
 * rejected deletion would leave the namespace stuck terminating.
 */
export const UNCONDITIONAL_DELETERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
];

export interface AdmissionContext {
  /** The IronLB namespace: configuration objects anywhere else are never read. */
  readonly namespace: string;
  /** The configuration objects in the cluster now (the controller's caches). */
  readonly current: ConfigInput;
}

function metadataOf(object: unknown): Record<string, unknown> {
  return isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
}

function namespaceOf(object: unknown): string | undefined {
  const namespace = metadataOf(object).namespace;
  return typeof namespace === "string" && namespace !== "" ? namespace : undefined;
}

function nameOf(object: unknown): string | undefined {
  const name = metadataOf(object).name;
  return typeof name === "string" ? name : undefined;
}

/** `current` with only the objects of `namespace` (objects with no namespace count as in it). */
function inNamespace(current: ConfigInput, namespace: string): Record<keyof ConfigInput, unknown[]> {
  const pick = (list: readonly unknown[] | undefined): unknown[] =>
    (list ?? []).filter((object) => {
      const objectNamespace = namespaceOf(object);
      return objectNamespace === undefined || objectNamespace === namespace;
    });
  return {
    ipAddressPools: pick(current.ipAddressPools),
    l2Advertisements: pick(current.l2Advertisements),
    bgpAdvertisements: pick(current.bgpAdvertisements),
    bgpPeers: pick(current.bgpPeers),
    bfdProfiles: pick(current.bfdProfiles),
    communities: pick(current.communities),
  };
}

function errorKey(error: ConfigError): string {
  return error.toString();
}

function describeChange(request: AdmissionRequest): string {
  const object = `${request.kind.kind} "${request.name}"`;
  return request.operation === "DELETE" ? `deleting ${object}` : object;
}

function causeOf(error: ConfigError, kind: string, name: string): AdmissionCause {
  const own = error.kind === kind && error.name === name;
  return {
    reason: "FieldValueInvalid",
    field: own ? error.path : `${error.kind}(${error.name}).${error.path}`,
    message: error.toString(),
  };
}

const ALLOW: AdmissionDecision = { allowed: true };

/** Decides one admission request against the current configuration. */
export function decideAdmission(request: AdmissionRequest, context: AdmissionContext): AdmissionDecision {
  const { kind, operation } = request;
  const field = INPUT_FIELD[kind.kind];
  // Not ours (a rule broader than it should be): never block what IronLB does not read.
  if (kind.group !== IRONLB_GROUP || kind.version !== IRONLB_VERSION || field === undefined) return ALLOW;
  if (operation === "CONNECT") return ALLOW;
  const name =
    request.name !== "" ? request.name : (nameOf(request.object) ?? nameOf(request.oldObject) ?? "");
  const namespace = request.namespace ?? namespaceOf(request.object) ?? namespaceOf(request.oldObject);

  if (operation === "DELETE") {
    if (request.username !== undefined && UNCONDITIONAL_DELETERS.includes(request.username)) return ALLOW;
    if (namespace !== undefined && namespace !== context.namespace) return ALLOW;
  } else if (namespace !== undefined && namespace !== context.namespace) {
    return {
      allowed: false,
      code: 403,
      reason: "Forbidden",
      message: `${kind.kind} "${name}": metadata.namespace: "${namespace}": IronLB reads its configuration only from namespace "${context.namespace}"`,
      causes: [
        {
          reason: "FieldValueNotSupported",
          field: "metadata.namespace",
          message: `must be "${context.namespace}"`,
        },
      ],
    };
  }

  const before = inNamespace(context.current, context.namespace);
  const after = { ...before, [field]: before[field].filter((object) => nameOf(object) !== name) };
  if (operation !== "DELETE") after[field].push(request.object);

  const was = validateConfig(before);
  const will = validateConfig(after);
  const errorsBefore = new Set((was.ok ? [] : was.errors).map(errorKey));
  const errorsAfter = will.ok ? [] : will.errors;
  const introduced = errorsAfter.filter((error) => !errorsBefore.has(errorKey(error)));

  if (introduced.length > 0) {
    const count = `${introduced.length} error${introduced.length === 1 ? "" : "s"}`;
    return {
      allowed: false,
      code: 422,
      reason: "Invalid",
      message:
        `${describeChange(request)} would make the IronLB configuration invalid (${count}):\n` +
        introduced.map((error) => `  ${error.toString()}`).join("\n"),
      causes: introduced.map((error) => causeOf(error, kind.kind, name)),
    };
  }
  if (operation === "DELETE") return ALLOW;
  const own = (error: ConfigError): boolean => error.kind === kind.kind && error.name === name;
  const warnings = [
    ...errorsAfter.filter(own).map((error) => `still invalid: ${error.toString()}`),
    ...will.warnings.filter(own).map((warning) => warning.toString()),
  ];
  return warnings.length > 0 ? { allowed: true, warnings } : ALLOW;
}

/** The AdmissionReview v1 response for request `uid`. */
export function admissionReviewResponse(
  uid: string,
  decision: AdmissionDecision,
  details?: { readonly kind: string; readonly name: string },
): Record<string, unknown> {
  const response: Record<string, unknown> = { uid, allowed: decision.allowed };
  if (!decision.allowed) {
    response.status = {
      status: "Failure",
      code: decision.code ?? 403,
      reason: decision.reason ?? "Forbidden",
      message: decision.message ?? "rejected by the IronLB webhook",
      ...(decision.causes === undefined
        ? {}
        : {
            details: {
              ...(details === undefined
                ? {}
                : { group: IRONLB_GROUP, kind: details.kind, name: details.name }),
              causes: decision.causes,
            },
          }),
    };
  }
  if (decision.warnings !== undefined && decision.warnings.length > 0) response.warnings = decision.warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}
