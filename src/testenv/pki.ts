import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Paths of the keys and certificates a test control plane runs with (all PEM). */
export interface ControlPlanePki {
  /** CA that signs the serving certificate and the client certificates. */
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  /** Client certificate in group system:masters (an alternative to the admin token). */
  readonly adminCert: string;
  readonly adminKey: string;
  /** Key pair that signs and verifies ServiceAccount tokens (TokenRequest needs it). */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export class PkiError extends Error {
  override readonly name = "PkiError";
  readonly code = "TESTENV_PKI";
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new PkiError(`openssl ${args[0] ?? ""} failed (is the openssl CLI installed?): ${detail}`);
  }
}

const ecKey = (path: string): Promise<void> =>
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);

async function signedCert(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  pki: { caCert: string; caKey: string },
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await ecKey(key);
  await openssl(["req", "-new", "-key", key, "-subj", subject, "-out", csr]);
  await writeFile(ext, extensions);
  await openssl(
    ["x509", "-req", "-in", csr, "-CA", pki.caCert, "-CAkey", pki.caKey, "-CAcreateserial"].concat([
      "-days",
      "30",
      "-sha256",
      "-extfile",
      ext,
      "-out",
      cert,
    ]),
  );
  return { cert, key };
}

/**
 * Creates a throwaway CA, a serving certificate for the loopback addresses (and the in-cluster
 * names and first Service IPs, so in-cluster style clients verify too), an admin client
 * certificate and the ServiceAccount signing key pair, all inside `dir`.
 */
export async function createPki(dir: string, serviceIPs: readonly string[]): Promise<ControlPlanePki> {
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.crt");
  await ecKey(caKey);
  await openssl(
    ["req", "-x509", "-new", "-key", caKey, "-subj", "/CN=ironlb-testenv-ca", "-days", "30"].concat(
      ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      ["-out", caCert],
    ),
  );
  const ca = { caCert, caKey };
  const altNames = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default"]
    .concat(["DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"])
    .concat(
      ["IP:127.0.0.1", "IP:::1"],
      serviceIPs.map((ip) => `IP:${ip}`),
    );
  const serving = await signedCert(
    dir,
    "apiserver",
    "/CN=kube-apiserver",
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${altNames.join(",")}\n`,
    ca,
  );
  const admin = await signedCert(
    dir,
    "admin",
    "/O=system:masters/CN=ironlb-testenv-admin",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    ca,
  );
  const serviceAccountKey = join(dir, "sa.key");
  const serviceAccountPub = join(dir, "sa.pub");
  await openssl([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
    "-out",
    serviceAccountKey,
  ]);
  await openssl(["pkey", "-in", serviceAccountKey, "-pubout", "-out", serviceAccountPub]);
  return {
    caCert,
    caKey,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey,
    serviceAccountPub,
  };
}
