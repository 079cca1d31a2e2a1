/**
 * MetalLB's legacy configuration: a ConfigMap (usually metallb-system/config) whose data key
 * `config` holds YAML with address-pools, peers, bgp-communities and bfd-profiles. The format
 * most older guides show; converted here to IronLB objects.
 */
import { parse } from "yaml";
import { convertFields, convertList, legacySelector, type FieldRule } from "./fields.js";
import { isRecord, type ConversionSink } from "./types.js";

const SKIP = { skip: true } as const;
const TOP_LEVEL = new Set(["address-pools", "peers", "bgp-communities", "bfd-profiles"]);

/** True when a parsed document has the shape of the legacy configuration (outside a ConfigMap). */
export function looksLikeLegacyConfig(doc: unknown): doc is Record<string, unknown> {
  return isRecord(doc) && doc.apiVersion === undefined && Object.keys(doc).some((k) => TOP_LEVEL.has(k));
}

/** A DNS-subdomain name for a peer, from its address ("peer-203.0.113.1", "peer-2001-db8--1"). */
function peerName(address: unknown, index: number, taken: Set<string>): string {
  const base =
    typeof address === "string" && address.trim() !== ""
      ? `peer-${address
          .trim()
          .toLowerCase()
          .replace(/:/g, "-")
          .replace(/[^a-z0-9.-]/g, "")}`
      : `peer-${index + 1}`;
  let name = base.replace(/[-.]+$/, "");
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

function convertPeers(peers: unknown, sink: ConversionSink, from: string): void {
  if (!Array.isArray(peers)) {
    sink.dropped(from, "peers", "must be a list; not converted");
    return;
  }
  const taken = new Set<string>();
  peers.forEach((peer, i) => {
    const at = `peers[${i}]`;
    if (!isRecord(peer)) {
      sink.dropped(from, at, "must be a map; not converted");
      return;
    }
    const rules: Record<string, FieldRule> = {
      "my-asn": "myASN",
      "peer-asn": "peerASN",
      "peer-address": "peerAddress",
      "source-address": "sourceAddress",
      "peer-port": { to: "peerPort", convert: (v) => (v === 0 ? undefined : v) },
      "hold-time": "holdTime",
      "keepalive-time": "keepaliveTime",
      "router-id": "routerID",
      password: "password",
      "bfd-profile": "bfdProfile",
      "ebgp-multihop": "ebgpMultiHop",
      "node-selectors": {
        to: "nodeSelectors",
        convert: (v, p) => convertList(v, p, legacySelector(sink, from)),
      },
    };
    const spec = convertFields(peer, rules, sink, from, at);
    sink.emit("BGPPeer", peerName(peer["peer-address"], i, taken), spec);
  });
}

function convertCommunities(communities: unknown, sink: ConversionSink, from: string): void {
  if (!isRecord(communities)) {
    sink.dropped(from, "bgp-communities", "must be a map of alias: value; not converted");
    return;
  }
  const aliases = Object.entries(communities).map(([name, value]) => ({ name, value }));
  sink.emit("Community", "bgp-communities", { communities: aliases });
}

function convertBFDProfiles(profiles: unknown, sink: ConversionSink, from: string): void {
  if (!Array.isArray(profiles)) {
    sink.dropped(from, "bfd-profiles", "must be a list; not converted");
    return;
  }
  profiles.forEach((profile, i) => {
    const at = `bfd-profiles[${i}]`;
    if (!isRecord(profile) || typeof profile.name !== "string") {
      sink.dropped(from, at, "a BFD profile needs a name; not converted");
      return;
    }
    const spec = convertFields(
      profile,
      {
        name: SKIP,
        "receive-interval": "receiveInterval",
        "transmit-interval": "transmitInterval",
        "detect-multiplier": "detectMultiplier",
        "echo-interval": "echoInterval",
        "echo-mode": "echoMode",
        "passive-mode": "passiveMode",
        "minimum-ttl": "minimumTtl",
      },
      sink,
      from,
      at,
    );
    sink.emit("BFDProfile", profile.name, spec);
  });
}

function convertBGPAdvertisement(
  ad: unknown,
  sink: ConversionSink,
  from: string,
  at: string,
): Record<string, unknown> {
  if (!isRecord(ad)) {
    sink.dropped(from, at, "must be a map; not converted");
    return {};
  }
  return convertFields(
    ad,
    {
      "aggregation-length": "aggregationLength",
      "aggregation-length-v6": "aggregationLengthV6",
      localpref: "localPref",
      communities: "communities",
    },
    sink,
    from,
    at,
  );
}

/**
 * One pool: an IPAddressPool, plus an L2Advertisement (layer2) or one BGPAdvertisement per
 * bgp-advertisements entry (bgp; one default when there is none), each naming just this pool.
 */
export function convertPool(
  pool: Record<string, unknown>,
  keys: { protocol: string; bgpAdvertisements: string; fields: Readonly<Record<string, FieldRule>> },
  sink: ConversionSink,
  from: string,
  at: string,
  convertAd: (ad: unknown, path: string) => Record<string, unknown>,
): void {
  const name = typeof pool.name === "string" ? pool.name : "";
  if (name === "") {
    sink.dropped(from, at, "a pool needs a name; not converted");
    return;
  }
  const rules: Record<string, FieldRule> = {
    ...keys.fields,
    name: SKIP,
    [keys.protocol]: SKIP,
    [keys.bgpAdvertisements]: SKIP,
  };
  sink.emit("IPAddressPool", name, convertFields(pool, rules, sink, from, at));
  const protocol = pool[keys.protocol];
  const ads = pool[keys.bgpAdvertisements];
  const adsPath = `${at}.${keys.bgpAdvertisements}`;
  if (protocol === "layer2") {
    sink.emit("L2Advertisement", name, { ipAddressPools: [name] });
    if (ads !== undefined)
      sink.dropped(from, adsPath, "BGP advertisements of a layer2 pool do nothing; not converted");
  } else if (protocol === "bgp") {
    const list = Array.isArray(ads) ? ads : [];
    if (ads !== undefined && !Array.isArray(ads))
      sink.dropped(from, adsPath, "must be a list; not converted");
    if (list.length === 0) sink.emit("BGPAdvertisement", name, { ipAddressPools: [name] });
    list.forEach((ad, i) => {
      const adName = list.length === 1 ? name : `${name}-${i + 1}`;
      sink.emit("BGPAdvertisement", adName, { ipAddressPools: [name], ...convertAd(ad, `${adsPath}[${i}]`) });
    });
  } else {
    sink.dropped(
      from,
      `${at}.${keys.protocol}`,
      `protocol must be layer2 or bgp (got ${protocol === undefined ? "nothing" : JSON.stringify(protocol)}); the pool was converted without an advertisement, so its addresses would be assigned but never announced`,
    );
  }
}

function convertPools(pools: unknown, sink: ConversionSink, from: string): void {
  if (!Array.isArray(pools)) {
    sink.dropped(from, "address-pools", "must be a list; not converted");
    return;
  }
  pools.forEach((pool, i) => {
    const at = `address-pools[${i}]`;
    if (!isRecord(pool)) {
      sink.dropped(from, at, "must be a map; not converted");
      return;
    }
    convertPool(
      pool,
      {
        protocol: "protocol",
        bgpAdvertisements: "bgp-advertisements",
        fields: { addresses: "addresses", "auto-assign": "autoAssign", "avoid-buggy-ips": "avoidBuggyIPs" },
      },
      sink,
      from,
      at,
      (ad, path) => convertBGPAdvertisement(ad, sink, from, path),
    );
  });
}

/** Converts a parsed legacy configuration (the YAML inside the ConfigMap's `config` key). */
export function convertLegacyConfig(
  config: Record<string, unknown>,
  sink: ConversionSink,
  from: string,
): void {
  for (const key of Object.keys(config)) {
    if (!TOP_LEVEL.has(key)) sink.dropped(from, key, "unknown section, not converted");
  }
  // Order matters only for readability of the output: pools first, like the guides.
  if (config["address-pools"] !== undefined) convertPools(config["address-pools"], sink, from);
  if (config["bgp-communities"] !== undefined) convertCommunities(config["bgp-communities"], sink, from);
  if (config["bfd-profiles"] !== undefined) convertBFDProfiles(config["bfd-profiles"], sink, from);
  if (config.peers !== undefined) convertPeers(config.peers, sink, from);
}

/** Converts a ConfigMap holding MetalLB's legacy configuration; says so when it holds none. */
export function convertLegacyConfigMap(configMap: Record<string, unknown>, sink: ConversionSink): void {
  const meta = isRecord(configMap.metadata) ? configMap.metadata : {};
  const ns = typeof meta.namespace === "string" ? `${meta.namespace}/` : "";
  const from = `ConfigMap ${ns}${typeof meta.name === "string" ? meta.name : "(unnamed)"}`;
  const data = isRecord(configMap.data) ? configMap.data : {};
  const text = data.config;
  if (typeof text !== "string") {
    sink.dropped(from, "data", "no `config` key: not a MetalLB configuration; not converted");
    return;
  }
  let config: unknown;
  try {
    config = parse(text);
  } catch (err) {
    sink.dropped(
      from,
      "data.config",
      `is not valid YAML (${err instanceof Error ? err.message : String(err)})`,
    );
    return;
  }
  if (config === null || config === undefined) {
    sink.note(from, "data.config", "is empty; nothing to convert");
    return;
  }
  if (!isRecord(config)) {
    sink.dropped(from, "data.config", "must be a YAML map; not converted");
    return;
  }
  convertLegacyConfig(config, sink, from);
  for (const key of Object.keys(data)) {
    if (key !== "config") sink.dropped(from, `data.${key}`, "unknown key, not converted");
  }
}
