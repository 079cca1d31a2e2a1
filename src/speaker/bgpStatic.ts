/**
 * A BGP speaker fed from a file instead of the Kubernetes API: the same objects the cluster would
 * hold (ironlb.io configuration, Services with their status, EndpointSlices, Nodes, Secrets) as a
 * multi-document YAML, turned into the announcement snapshot, the node's identity and the Secret
 * lookup the BgpSpeaker takes. Pure apart from reading the file; the lab and interop tests use
 * it to run a node's BGP sessions without a control plane.
 */
import { readFileSync } from "node:fs";
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { snapshotFromKubernetes } from "../announce/kubernetes.js";
import type { AnnouncementSnapshot } from "../announce/snapshot.js";
import { configInputFromObjects, validateConfig } from "../api/config.js";
import {
  nodeIdentityFromNode,
  passwordFromSecret,
  type NodeIdentity,
  type PasswordLookup,
  type SecretLike,
} from "./bgpPeers.js";

export class StaticSourceError extends Error {
  override readonly name = "StaticSourceError";
  readonly code = "ERR_STATIC_SOURCE";
}

export interface StaticState {
  readonly snapshot: AnnouncementSnapshot;
  readonly identity: NodeIdentity;
  readonly passwords: PasswordLookup;
}

interface Meta {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}

const kindOf = (o: unknown): string | undefined => (o as Meta | null)?.kind;

/** The state of `node` from a list of objects (every node is taken as live: there are no Leases). */
export function staticState(objects: readonly unknown[], node: string, lbClass?: string): StaticState {
  const { input, other } = configInputFromObjects(objects);
  const result = validateConfig(input);
  if (!result.ok) {
    throw new StaticSourceError(
      `invalid IronLB configuration: ${result.errors.map((e) => e.message).join("; ")}`,
    );
  }
  const of = <T>(kind: string): T[] => other.filter((o) => kindOf(o) === kind) as T[];
  const nodes = of<V1Node>("Node");
  const secrets = of<SecretLike & Meta>("Secret");
  const snapshot = snapshotFromKubernetes({
    config: result.config,
    services: of<V1Service>("Service"),
    endpointSlices: of<V1EndpointSlice>("EndpointSlice"),
    nodes,
    liveSpeakers: nodes.map((n) => n.metadata?.name ?? ""),
    lbClass,
  });
  const self = nodes.find((n) => n.metadata?.name === node);
  return {
    snapshot,
    identity: self === undefined ? { name: node } : nodeIdentityFromNode(self, node),
    passwords: (namespace, name) =>
      passwordFromSecret(
        secrets.find((s) => s.metadata?.namespace === namespace && s.metadata.name === name),
      ),
  };
}

/**
 * Parses a multi-document YAML (empty documents skipped). Documents written in JSON's flow style
 * (what the lab writes for large tables) take JSON.parse, a hundred times faster than a YAML parser
 * on tens of thousands of objects; anything else goes through the YAML parser.
 */
export function parseObjects(text: string): unknown[] {
  const out: unknown[] = [];
  // A "---" line at column 0 always starts a document, even after a block scalar.
  for (const chunk of text.split(/^---[ \t]*$/m)) {
    const trimmed = chunk.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("{")) {
      try {
        out.push(JSON.parse(trimmed));
        continue;
      } catch {
        // Flow-style YAML that is not JSON: the YAML parser below takes it.
      }
    }
    for (const doc of parseAllDocuments(chunk)) {
      if (doc.errors.length > 0)
        throw new StaticSourceError(`YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      const value: unknown = doc.toJS();
      if (value !== null && value !== undefined) out.push(value);
    }
  }
  return out;
}

export function readStaticState(path: string, node: string, lbClass?: string): StaticState {
  return staticState(parseObjects(readFileSync(path, "utf8")), node, lbClass);
}
