import { describe, expect, it } from "vitest";
import { validateConfig } from "../../../src/api/config.js";
import {
  admissionReviewResponse,
  decideAdmission,
  MalformedAdmissionReviewError,
  parseAdmissionReview,
  type AdmissionDecision,
} from "../../../src/webhook/admission.js";
import { NAMESPACE, object, review, validCluster, type ReviewOptions } from "./fixtures.js";

type Cluster = ReturnType<typeof validCluster>;

function decide(
  cluster: Cluster,
  kind: string,
  name: string,
  options: ReviewOptions = {},
): AdmissionDecision {
  return decideAdmission(parseAdmissionReview(review(kind, name, options)), {
    namespace: NAMESPACE,
    current: cluster,
  });
}

describe("the fixture", () => {
  it("is a valid configuration", () => {
    expect(validateConfig(validCluster()).ok).toBe(true);
  });
});

describe("parseAdmissionReview", () => {
  const valid = review("IPAddressPool", "lan", { object: object("IPAddressPool", "lan", { addresses: [] }) });
  const withRequest = (change: Record<string, unknown>): unknown => ({
    ...valid,
    request: { ...(valid.request as Record<string, unknown>), ...change },
  });
  it.each([
    { description: "null", body: null },
    { description: "an array", body: [valid] },
    { description: "an AdmissionReview v1beta1", body: { ...valid, apiVersion: "admission.k8s.io/v1beta1" } },
    { description: "another kind", body: { ...valid, kind: "TokenReview" } },
    { description: "no request", body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" } },
    { description: "a request that is a string", body: { ...valid, request: "x" } },
    { description: "no uid", body: withRequest({ uid: undefined }) },
    { description: "an empty uid", body: withRequest({ uid: "" }) },
    { description: "a kind that is a string", body: withRequest({ kind: "IPAddressPool" }) },
    {
      description: "a kind without a version",
      body: withRequest({ kind: { group: "ironlb.io", kind: "X" } }),
    },
    { description: "an unknown operation", body: withRequest({ operation: "PATCH" }) },
    { description: "a numeric namespace", body: withRequest({ namespace: 7 }) },
  ])("rejects $description", ({ body }) => {
    expect(() => parseAdmissionReview(body)).toThrow(MalformedAdmissionReviewError);
  });

  it("reads the fields the decision needs", () => {
    const request = parseAdmissionReview(
      review("BGPPeer", "router", { operation: "DELETE", oldObject: { x: 1 }, username: "bob" }),
    );
    expect(request).toEqual({
      uid: "0c9a5b2e-1d7f-4a3c-9e57-000000000001",
      kind: { group: "ironlb.io", version: "v1beta1", kind: "BGPPeer" },
      operation: "DELETE",
      name: "router",
      namespace: NAMESPACE,
      object: null,
      oldObject: { x: 1 },
      username: "bob",
    });
  });
});

interface Case {
  description: string;
  cluster?: (c: Cluster) => void;
  kind: string;
  name: string;
  options: ReviewOptions;
  allowed: boolean;
  /** Each must appear in the message (rejections) or in a warning (allowed with warnings). */
  mentions?: string[];
  /** Field paths of status.details.causes. */
  fields?: string[];
  code?: number;
}

const pool = (name: string, addresses: string[], extra?: { namespace?: string }): unknown =>
  object("IPAddressPool", name, { addresses }, extra);

const cases: Case[] = [
  {
    description: "a new valid pool",
    kind: "IPAddressPool",
    name: "more",
    options: { object: pool("more", ["192.0.2.10-192.0.2.20"]) },
    allowed: true,
  },
  {
    description: "a new pool overlapping an existing one",
    kind: "IPAddressPool",
    name: "more",
    options: { object: pool("more", ["192.0.2.240/28"]) },
    allowed: false,
    code: 422,
    mentions: ['IPAddressPool "more": spec.addresses[0]: "192.0.2.240/28"'],
    fields: ["spec.addresses[0]"],
  },
  {
    description: "an invalid range",
    kind: "IPAddressPool",
    name: "more",
    options: { object: pool("more", ["192.0.2.9-192.0.2.1", "192.0.2.300"]) },
    allowed: false,
    mentions: [
      '"more": spec.addresses[0]: "192.0.2.9-192.0.2.1"',
      '"more": spec.addresses[1]: "192.0.2.300"',
    ],
    fields: ["spec.addresses[0]", "spec.addresses[1]"],
  },
  {
    description: "a pool in another namespace",
    kind: "IPAddressPool",
    name: "elsewhere",
    options: { object: pool("elsewhere", ["192.0.2.10/32"], { namespace: "default" }) },
    allowed: false,
    code: 403,
    mentions: ['metadata.namespace: "default"', `namespace "${NAMESPACE}"`],
    fields: ["metadata.namespace"],
  },
  {
    description:
      "an update that narrows a pool below the advertisement's aggregationLength (error on another object)",
    kind: "IPAddressPool",
    name: "bgp",
    options: {
      operation: "UPDATE",
      object: pool("bgp", ["198.51.100.0/25"]),
      oldObject: pool("bgp", ["198.51.100.0/24"]),
    },
    allowed: false,
    mentions: ['BGPAdvertisement "bgp": spec.aggregationLength: 24'],
    fields: ["BGPAdvertisement(bgp).spec.aggregationLength"],
  },
  {
    description: "a peer with a hold time under 3s and a keepalive longer than it",
    kind: "BGPPeer",
    name: "router",
    options: {
      operation: "UPDATE",
      object: object("BGPPeer", "router", {
        myASN: 64501,
        peerASN: 64500,
        peerAddress: "203.0.113.1",
        holdTime: "2s",
        keepaliveTime: "10s",
      }),
    },
    allowed: false,
    mentions: ['BGPPeer "router": spec.holdTime: "2s"', 'BGPPeer "router": spec.keepaliveTime: "10s"'],
  },
  {
    description: "deleting a Community alias an advertisement uses",
    kind: "Community",
    name: "aliases",
    options: { operation: "DELETE", oldObject: validCluster().communities[0] },
    allowed: false,
    mentions: ['deleting Community "aliases"', 'BGPAdvertisement "bgp": spec.communities[0]: "no-export"'],
    fields: ["BGPAdvertisement(bgp).spec.communities[0]"],
  },
  {
    description: "the namespace controller deleting a Community alias in use (namespace teardown)",
    kind: "Community",
    name: "aliases",
    options: { operation: "DELETE", username: "system:serviceaccount:kube-system:namespace-controller" },
    allowed: true,
  },
  {
    description: "deleting a BFD profile nobody uses",
    cluster: (c) => {
      c.bfdProfiles.push(object("BFDProfile", "spare", {}));
    },
    kind: "BFDProfile",
    name: "spare",
    options: { operation: "DELETE" },
    allowed: true,
  },
  {
    description: "deleting the BFD profile a peer names",
    kind: "BFDProfile",
    name: "fast",
    options: { operation: "DELETE" },
    allowed: false,
    mentions: ['BGPPeer "router": spec.bfdProfile: "fast"'],
  },
  {
    description: "a change unrelated to an object that was already invalid (webhook was off)",
    cluster: (c) => {
      c.ipAddressPools.push(pool("broken", ["192.0.2.9-192.0.2.1"]));
    },
    kind: "IPAddressPool",
    name: "more",
    options: { object: pool("more", ["192.0.2.10/32"]) },
    allowed: true,
  },
  {
    description: "an update that leaves an invalid object as invalid as it was: allowed, with a warning",
    cluster: (c) => {
      c.ipAddressPools.push(pool("broken", ["192.0.2.9-192.0.2.1"]));
    },
    kind: "IPAddressPool",
    name: "broken",
    options: {
      operation: "UPDATE",
      object: object("IPAddressPool", "broken", { addresses: ["192.0.2.9-192.0.2.1"], autoAssign: false }),
    },
    allowed: true,
    mentions: ['still invalid: IPAddressPool "broken": spec.addresses[0]'],
  },
  {
    description: "an update that fixes an invalid object",
    cluster: (c) => {
      c.ipAddressPools.push(pool("broken", ["192.0.2.9-192.0.2.1"]));
    },
    kind: "IPAddressPool",
    name: "broken",
    options: { operation: "UPDATE", object: pool("broken", ["192.0.2.1-192.0.2.9"]) },
    allowed: true,
  },
  {
    description: "an unknown spec field: allowed, with a warning",
    kind: "L2Advertisement",
    name: "lan",
    options: {
      operation: "UPDATE",
      object: object("L2Advertisement", "lan", { ipAddressPools: ["lan"], interfacez: ["eth0"] }),
    },
    allowed: true,
    mentions: ["spec.interfacez"],
  },
  {
    description: "an object of a version IronLB does not validate",
    kind: "IPAddressPool",
    name: "x",
    options: { version: "v1alpha1", object: pool("x", ["not an address"]) },
    allowed: true,
  },
  {
    description: "a MetalLB object routed here by a too-broad rule",
    kind: "IPAddressPool",
    name: "x",
    options: { group: "metallb.io", object: pool("x", ["not an address"]) },
    allowed: true,
  },
  {
    description: "objects of other namespaces in the cache do not count",
    cluster: (c) => {
      c.ipAddressPools.push(pool("foreign", ["192.0.2.10/32"], { namespace: "default" }));
    },
    kind: "IPAddressPool",
    name: "more",
    options: { object: pool("more", ["192.0.2.10/32"]) },
    allowed: true,
  },
];

describe("decideAdmission", () => {
  it.each(cases)(
    "$description",
    ({ cluster: change, kind, name, options, allowed, mentions, fields, code }) => {
      const cluster = validCluster();
      change?.(cluster);
      const decision = decide(cluster, kind, name, options);
      expect(decision.allowed, decision.message).toBe(allowed);
      const text = allowed ? (decision.warnings ?? []).join("\n") : (decision.message ?? "");
      for (const mention of mentions ?? []) expect(text).toContain(mention);
      if (allowed && mentions === undefined) expect(decision.warnings).toBeUndefined();
      if (fields !== undefined) expect(decision.causes?.map((c) => c.field)).toEqual(fields);
      if (code !== undefined) expect(decision.code).toBe(code);
    },
  );

  it("reports only the errors a change brings, not those that were there before", () => {
    const cluster = validCluster();
    cluster.ipAddressPools.push(pool("broken", ["192.0.2.9-192.0.2.1"]));
    const decision = decide(cluster, "IPAddressPool", "more", { object: pool("more", ["192.0.2.300"]) });
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('"more"');
    expect(decision.message).not.toContain('"broken"');
    expect(decision.message).toMatch(/\(1 error\)/);
  });
});

describe("admissionReviewResponse", () => {
  it("an allowed request echoes the uid", () => {
    expect(admissionReviewResponse("u1", { allowed: true })).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u1", allowed: true },
    });
  });

  it("a rejection carries code, reason, message, causes and warnings", () => {
    const body = admissionReviewResponse(
      "u2",
      {
        allowed: false,
        code: 422,
        reason: "Invalid",
        message: "bad",
        causes: [{ reason: "FieldValueInvalid", field: "spec.x", message: "no" }],
        warnings: ["careful"],
      },
      { kind: "IPAddressPool", name: "p" },
    );
    expect(body.response).toEqual({
      uid: "u2",
      allowed: false,
      status: {
        status: "Failure",
        code: 422,
        reason: "Invalid",
        message: "bad",
        details: {
          group: "ironlb.io",
          kind: "IPAddressPool",
          name: "p",
          causes: [{ reason: "FieldValueInvalid", field: "spec.x", message: "no" }],
        },
      },
      warnings: ["careful"],
    });
  });
});
