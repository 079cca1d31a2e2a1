import { request } from "node:https";
import { TLSSocket } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../../src/api/config.js";
import {
  defaultCertificatePolicy,
  issueCA,
  issueServingCertificate,
  type KeyAndCertificate,
} from "../../../src/webhook/certs.js";
import {
  startAdmissionServer,
  type AdmissionServer,
  type ConfigObjectsProvider,
} from "../../../src/webhook/server.js";
import { NAMESPACE, object, review, validCluster } from "./fixtures.js";

const identity = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] };
let ca: KeyAndCertificate;
let serving: KeyAndCertificate;

beforeAll(async () => {
  const now = Date.now();
  ca = await issueCA(defaultCertificatePolicy, now);
  serving = await issueServingCertificate(ca, identity, defaultCertificatePolicy, now);
});

const servers: AdmissionServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(configObjects: ConfigObjectsProvider = () => validCluster()): Promise<AdmissionServer> {
  const server = await startAdmissionServer({
    listen: { host: "127.0.0.1", port: 0 },
    certificate: serving,
    namespace: NAMESPACE,
    configObjects,
  });
  servers.push(server);
  return server;
}

interface Reply {
  status: number;
  body: string;
  peerFingerprint: string;
}

function call(
  server: AdmissionServer,
  options: { method?: string; path?: string; body?: string | Buffer; trust?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.address.port,
        method: options.method ?? "POST",
        path: options.path ?? "/validate",
        ca: options.trust ?? ca.certPem,
        headers: { "Content-Type": "application/json" },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            peerFingerprint:
              res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().fingerprint256 : "",
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const validReview = JSON.stringify(
  review("IPAddressPool", "more", {
    object: object("IPAddressPool", "more", { addresses: ["192.0.2.10/32"] }),
  }),
);

describe("admission server", () => {
  it("answers an AdmissionReview with the decision for its uid", async () => {
    const server = await start();
    const reply = await call(server, { body: validReview });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "0c9a5b2e-1d7f-4a3c-9e57-000000000001", allowed: true },
    });
  });

  it("rejects an invalid object naming the field path", async () => {
    const server = await start();
    const body = JSON.stringify(
      review("IPAddressPool", "more", {
        uid: "u-bad",
        object: object("IPAddressPool", "more", { addresses: ["192.0.2.1/24"] }),
      }),
    );
    const reply = JSON.parse((await call(server, { body })).body) as {
      response: { uid: string; allowed: boolean; status: { code: number; message: string } };
    };
    expect(reply.response.uid).toBe("u-bad");
    expect(reply.response.allowed).toBe(false);
    expect(reply.response.status.code).toBe(422);
    expect(reply.response.status.message).toContain(
      'IPAddressPool "more": spec.addresses[0]: "192.0.2.1/24"',
    );
  });

  it.each([
    { description: "a body that is not JSON", body: "{", status: 400, text: "not JSON" },
    {
      description: "JSON that is not an AdmissionReview",
      body: '{"kind":"Pod"}',
      status: 400,
      text: "AdmissionReview",
    },
    {
      description: "an AdmissionReview without a uid",
      body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} }),
      status: 400,
      text: "uid",
    },
    { description: "an empty body", body: "", status: 400, text: "not JSON" },
    { description: "another path", path: "/mutate", body: validReview, status: 404, text: "not found" },
    { description: "GET", method: "GET", status: 405, text: "method not allowed" },
    {
      description: "a body over the size limit",
      body: Buffer.alloc(5 * 1024 * 1024, 0x20),
      status: 413,
      text: "larger than",
    },
  ])("answers $status to $description and keeps serving", async ({ body, path, method, status, text }) => {
    const server = await start();
    const reply = await call(server, {
      ...(body === undefined ? {} : { body }),
      ...(path === undefined ? {} : { path }),
      ...(method === undefined ? {} : { method }),
    });
    expect(reply.status).toBe(status);
    expect(reply.body).toContain(text);
    expect((await call(server, { body: validReview })).status).toBe(200);
  });

  it("rejects (fails closed) when the current configuration cannot be read", async () => {
    const server = await start(() => Promise.reject(new Error("caches not synced")));
    const reply = JSON.parse((await call(server, { body: validReview })).body) as {
      response: { allowed: boolean; status: { code: number; message: string } };
    };
    expect(reply.response.allowed).toBe(false);
    expect(reply.response.status.code).toBe(500);
    expect(reply.response.status.message).toContain("caches not synced");
  });

  it("validates against the configuration the provider returns at the time of the call", async () => {
    let current: ConfigInput = {};
    const server = await start(() => current);
    const overlapping = JSON.stringify(
      review("IPAddressPool", "more", {
        object: object("IPAddressPool", "more", { addresses: ["192.0.2.210/32"] }),
      }),
    );
    const allowed = (reply: Reply): boolean =>
      (JSON.parse(reply.body) as { response: { allowed: boolean } }).response.allowed;
    expect(allowed(await call(server, { body: overlapping }))).toBe(true);
    current = validCluster();
    expect(allowed(await call(server, { body: overlapping }))).toBe(false);
  });

  it("serves a new certificate on new connections after setCertificate", async () => {
    const server = await start();
    const first = await call(server, { body: validReview });
    const nextCA = await issueCA(defaultCertificatePolicy, Date.now());
    const next = await issueServingCertificate(nextCA, identity, defaultCertificatePolicy, Date.now());
    server.setCertificate(next);
    const second = await call(server, { body: validReview, trust: nextCA.certPem });
    expect(second.status).toBe(200);
    expect(second.peerFingerprint).not.toBe(first.peerFingerprint);
    // A client that trusts only the old CA can no longer connect.
    await expect(call(server, { body: validReview })).rejects.toThrow();
  });
});
