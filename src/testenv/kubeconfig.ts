import { stringify } from "yaml";

export interface KubeconfigInput {
  /** https://host:port of the API server. */
  readonly server: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  readonly caPem: string;
  /** Name of the user entry and of the context (e.g. "admin", "system:serviceaccount:ns:sa"). */
  readonly userName: string;
  /** Bearer token of that user. */
  readonly token: string;
  /** Default namespace of the context, if any. */
  readonly namespace?: string;
}

const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** A self-contained kubeconfig (CA embedded) with one cluster, one user and one current context. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context: Record<string, string> = { cluster: "ironlb-testenv", user: input.userName };
  if (input.namespace !== undefined) context["namespace"] = input.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "ironlb-testenv",
        cluster: { server: input.server, "certificate-authority-data": base64(input.caPem) },
      },
    ],
    users: [{ name: input.userName, user: { token: input.token } }],
    contexts: [{ name: input.userName, context }],
    "current-context": input.userName,
  });
}
