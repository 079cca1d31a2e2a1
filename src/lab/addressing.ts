/**
 * The lab's names and addresses, all pure. Everything sits on the documentation LAN of the shared
 * conventions (192.0.2.0/24, 2001:db8:1::/64) with MACs from the documentation block
 * 00:00:5e:00:53:00/24 (RFC 7042), so a capture reads at a glance: node N is …11+N-1 everywhere.
 */

export const LAN_PREFIX_LENGTH_V4 = 24;
export const LAN_PREFIX_LENGTH_V6 = 64;

/** The largest lab: node addresses .11–.19 and MAC bytes 0x11–0x19 stay readable. */
export const MAX_NODES = 9;

/** The L2 pool of the demo configuration (inside the LAN, outside every host address). */
export const LAB_POOL_RANGES = ["192.0.2.200-192.0.2.250", "2001:db8:1::200-2001:db8:1::2ff"] as const;

/** Host addresses of the lab's fixed members. */
export const CLIENT_ADDRESSES = { ipv4: "192.0.2.2", ipv6: "2001:db8:1::2", mac: "00:00:5e:00:53:02" };
export const CONTROL_PLANE_ADDRESSES = {
  ipv4: "192.0.2.10",
  ipv6: "2001:db8:1::10",
  mac: "00:00:5e:00:53:10",
};

/** kube-apiserver's port on the control-plane namespace's LAN address. */
export const API_SERVER_PORT = 6443;
/** The HTTP backend's port on every node: the demo Service's port and target port. */
export const BACKEND_PORT = 80;
/** Speakers' /metrics port inside their node namespace. */
export const SPEAKER_METRICS_PORT = 7473;
/** Controller's /metrics port inside the control-plane namespace. */
export const CONTROLLER_METRICS_PORT = 7472;

export class LabConfigError extends Error {
  override readonly name = "LabConfigError";
  readonly code = "LAB_CONFIG";
}

export interface NodeAddressing {
  /** 1-based position. */
  readonly index: number;
  /** Kubernetes Node name and speaker --node: ilb-node1 … */
  readonly nodeName: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** MAC of the node's LAN link (ilb-eth0). */
  readonly mac: string;
  /** MAC of its optional second LAN link (ilb-eth1). */
  readonly secondMac: string;
}

const macByte = (value: number): string => value.toString(16).padStart(2, "0");

/** Node `index` (1-based): 192.0.2.(10+index), 2001:db8:1::(10+index), MAC …:53:(10+index). */
export function nodeAddressing(index: number): NodeAddressing {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw new LabConfigError(`node index must be 1…${MAX_NODES}, got ${index}`);
  }
  const host = 10 + index;
  return {
    index,
    nodeName: `ilb-node${index}`,
    ipv4: `192.0.2.${host}`,
    // The same digits as the IPv4 host part, so ::11 pairs with .11.
    ipv6: `2001:db8:1::${host}`,
    mac: `00:00:5e:00:53:${macByte(0x10 + index)}`,
    secondMac: `00:00:5e:00:53:${macByte(0x20 + index)}`,
  };
}

export function validateNodeCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) {
    throw new LabConfigError(`--nodes must be an integer from 1 to ${MAX_NODES}, got ${String(count)}`);
  }
  return count;
}

/** URL host form of an address: IPv6 in brackets. */
export const urlHost = (address: string): string => (address.includes(":") ? `[${address}]` : address);
