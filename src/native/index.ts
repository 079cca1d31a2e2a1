/**
 * Typed access to IronLB's native addon (build/Release/ironlb_native.node): AF_PACKET and raw
 * ICMPv6 sockets for the Layer 2 responders, and TCP sockets with TCP_MD5SIG for BGP. The addon
 * only moves bytes; every protocol decision is made in TypeScript. It is loaded on first use,
 * so code that never opens a socket runs without it.
 */
import { createRequire } from "node:module";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { getSystemErrorName } from "node:util";
import type { IPAddr, IPFamily } from "../net/ip.js";
import { formatIP } from "../net/ip.js";
import { ipv6FromBytes, ipv6ToBytes } from "../l2/codec/ipv6.js";
import { macFromBytes, type MacAddress } from "../l2/codec/mac.js";

// ---------------------------------------------------------------------------------------------
// Loading and errors

/** Where the addon is expected: the same relative path from src/native and dist/native. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL("../../build/Release/ironlb_native.node", import.meta.url),
);

export class NativeAddonMissingError extends Error {
  override readonly name = "NativeAddonMissingError";
  readonly code = "ERR_IRONLB_NATIVE_MISSING";
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `IronLB's native addon is not built (${path}): run \`npm ci\` or \`node src/native/build.js\` ` +
        `(needs g++, make and python3; see scripts/setup.sh)`,
      { cause },
    );
  }
}

/** A failed system call in the addon: errno (negative, as Node reports it), code and syscall. */
export class NativeSocketError extends Error {
  override readonly name = "NativeSocketError";
  constructor(
    message: string,
    readonly code: string,
    readonly errno: number,
    readonly syscall: string,
  ) {
    super(message);
  }
}

interface RawSystemError {
  message: string;
  code: string;
  errno: number;
  syscall: string;
}

function isRawSystemError(error: unknown): error is RawSystemError {
  return error instanceof Error && typeof (error as Partial<RawSystemError>).syscall === "string";
}

/** Native errors become NativeSocketError; argument errors (TypeError…) pass through. */
function toNativeError(error: unknown): unknown {
  if (!isRawSystemError(error)) return error;
  return new NativeSocketError(error.message, error.code, error.errno, error.syscall);
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toNativeError(error);
  }
}

interface RawPacket {
  data: Buffer;
  packetType: number;
}
interface RawIcmp6Message {
  data: Buffer;
  source: Buffer;
  destination: Buffer;
  hopLimit: number;
  ifindex: number;
}
type RawBatchCallback<P> = (error: Error | null, batch: P[]) => void;

interface RawPolledSocket {
  close(): void;
  ref(): void;
  unref(): void;
  readonly closed: boolean;
  readonly ifindex: number;
  readonly ifname: string;
}
interface RawPacketSocket extends RawPolledSocket {
  send(frame: Uint8Array): number;
  readonly mac: Buffer;
}
interface RawIcmp6Socket extends RawPolledSocket {
  send(message: Uint8Array, destination: Buffer, source?: Buffer): number;
  joinGroup(group: Buffer): void;
  leaveGroup(group: Buffer): void;
}
interface TcpSocketOptions {
  localAddress?: Buffer;
  localPort?: number;
  device?: string;
  reuseAddress?: boolean;
}
interface NativeBinding {
  PacketSocket: new (
    iface: string | number,
    etherType: number,
    onBatch: RawBatchCallback<RawPacket>,
    maxBatch: number,
  ) => RawPacketSocket;
  Icmp6Socket: new (
    iface: string | number,
    icmpTypes: number[],
    onBatch: RawBatchCallback<RawIcmp6Message>,
    maxBatch: number,
  ) => RawIcmp6Socket;
  WritableWatch: new (fd: number, callback: () => void) => { close(): void };
  createTcpSocket(family: 4 | 6, options: TcpSocketOptions): number;
  setTcpMd5Key(fd: number, peer: Buffer, key: Buffer): void;
  /** Absent in an addon built before it existed (rebuild with node src/native/build.js). */
  setUnicastTtl?(fd: number, family: 4 | 6, ttl: number): void;
  connectTcp(fd: number, address: Buffer, port: number): boolean;
  listenTcp(fd: number, backlog: number): void;
  socketError(fd: number): number;
  closeFd(fd: number): void;
  attachMinTtlFilter?(fd: number, family: 4 | 6, minTtl: number): void;
}

let binding: NativeBinding | undefined;

/** Loads the addon once; throws NativeAddonMissingError when it has not been built. */
export function loadNative(): NativeBinding {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeBinding;
    } catch (error) {
      throw new NativeAddonMissingError(NATIVE_ADDON_PATH, error);
    }
  }
  return binding;
}

/** True when the addon is built and loads (for tests and `ironlb doctor`). */
export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// AF_PACKET

/** sll_pkttype of a received frame. */
export type PacketType = "host" | "broadcast" | "multicast" | "other-host" | "outgoing";
const PACKET_TYPES: readonly PacketType[] = ["host", "broadcast", "multicast", "other-host", "outgoing"];

export interface ReceivedFrame {
  /** The whole Ethernet frame, header included (no FCS). */
  readonly data: Buffer;
  readonly packetType: PacketType;
}

export interface PacketSocketOptions {
  /** Interface name or index. */
  readonly interface: string | number;
  /** Only frames of this EtherType are received (e.g. ETHERTYPE_ARP). */
  readonly etherType: number;
  /** Called with up to `maxBatch` frames per readiness event, never after close(). */
  readonly onFrames: (frames: ReceivedFrame[]) => void;
  /** A receive error (e.g. ENETDOWN when the link goes down); the socket stays open. */
  readonly onError?: (error: NativeSocketError) => void;
  readonly maxBatch?: number;
}

const DEFAULT_MAX_BATCH = 64;

function batchHandler<P, R>(
  convert: (raw: P) => R | undefined,
  deliver: (batch: R[]) => void,
  onError: ((error: NativeSocketError) => void) | undefined,
): RawBatchCallback<P> {
  return (error, batch) => {
    if (error !== null) {
      const converted = toNativeError(error);
      if (converted instanceof NativeSocketError) onError?.(converted);
    }
    const out: R[] = [];
    for (const raw of batch) {
      const value = convert(raw);
      if (value !== undefined) out.push(value);
    }
    if (out.length > 0) deliver(out);
  };
}

/** An AF_PACKET socket bound to one interface and EtherType: whole Ethernet frames. Needs CAP_NET_RAW. */
export class PacketSocket {
  readonly ifindex: number;
  readonly ifname: string;
  readonly mac: MacAddress;

  private constructor(private readonly raw: RawPacketSocket) {
    this.ifindex = raw.ifindex;
    this.ifname = raw.ifname;
    this.mac = macFromBytes(raw.mac);
  }

  static open(options: PacketSocketOptions): PacketSocket {
    const native = loadNative();
    const onBatch = batchHandler<RawPacket, ReceivedFrame>(
      (raw) => {
        // Frames this host sent are not "received" (only ETH_P_ALL taps get them on Linux,
        // but the filter keeps the contract independent of that).
        const packetType = PACKET_TYPES[raw.packetType] ?? "other-host";
        return packetType === "outgoing" ? undefined : { data: raw.data, packetType };
      },
      options.onFrames,
      options.onError,
    );
    const raw = call(
      () =>
        new native.PacketSocket(
          options.interface,
          options.etherType,
          onBatch,
          options.maxBatch ?? DEFAULT_MAX_BATCH,
        ),
    );
    return new PacketSocket(raw);
  }

  /** Sends one frame out of the bound interface; throws NativeSocketError on failure. */
  send(frame: Uint8Array): void {
    call(() => this.raw.send(frame));
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  /** Stops receiving and closes the descriptor; idempotent. No callback runs afterwards. */
  close(): void {
    this.raw.close();
  }

  /** Let the process exit while this socket is open (like net.Socket#unref). */
  unref(): this {
    this.raw.unref();
    return this;
  }

  ref(): this {
    this.raw.ref();
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Raw ICMPv6

export interface ReceivedIcmp6 {
  /** The ICMPv6 message (the kernel strips the IPv6 header). */
  readonly data: Buffer;
  readonly source: IPAddr;
  readonly destination: IPAddr;
  /** As reported by IPV6_RECVHOPLIMIT; -1 when missing. */
  readonly hopLimit: number;
  readonly ifindex: number;
}

export interface Icmp6SocketOptions {
  readonly interface: string | number;
  /** ICMPv6 types the kernel lets through (ICMP6_FILTER), e.g. [135, 136] for NS and NA. */
  readonly icmpTypes: readonly number[];
  readonly onMessages: (messages: ReceivedIcmp6[]) => void;
  readonly onError?: (error: NativeSocketError) => void;
  readonly maxBatch?: number;
}

/**
 * A raw ICMPv6 socket bound to one interface (SO_BINDTODEVICE), sending with hop limit 255.
 * Multicast group memberships are counted, so two addresses sharing a solicited-node group
 * can join and leave independently. Needs CAP_NET_RAW.
 */
export class Icmp6Socket {
  readonly ifindex: number;
  readonly ifname: string;
  private readonly groups = new Map<bigint, number>();

  private constructor(private readonly raw: RawIcmp6Socket) {
    this.ifindex = raw.ifindex;
    this.ifname = raw.ifname;
  }

  static open(options: Icmp6SocketOptions): Icmp6Socket {
    const native = loadNative();
    const onBatch = batchHandler<RawIcmp6Message, ReceivedIcmp6>(
      (raw) => ({
        data: raw.data,
        source: ipv6FromBytes(raw.source),
        destination: ipv6FromBytes(raw.destination),
        hopLimit: raw.hopLimit,
        ifindex: raw.ifindex,
      }),
      options.onMessages,
      options.onError,
    );
    const raw = call(
      () =>
        new native.Icmp6Socket(
          options.interface,
          [...options.icmpTypes],
          onBatch,
          options.maxBatch ?? DEFAULT_MAX_BATCH,
        ),
    );
    return new Icmp6Socket(raw);
  }

  /**
   * Sends an ICMPv6 message (hop limit 255). The kernel computes the checksum; `source`
   * must be an address of this host (default: the kernel's choice for the destination).
   */
  send(message: Uint8Array, destination: IPAddr, source?: IPAddr): void {
    const sourceBytes = source === undefined ? undefined : ipv6ToBytes(requireIPv6(source));
    call(() => this.raw.send(message, ipv6ToBytes(requireIPv6(destination)), sourceBytes));
  }

  /** Joins a multicast group on the bound interface (counted). */
  joinGroup(group: IPAddr): void {
    const count = this.groups.get(group.value) ?? 0;
    if (count === 0)
      call(() => {
        this.raw.joinGroup(ipv6ToBytes(requireIPv6(group)));
      });
    this.groups.set(group.value, count + 1);
  }

  /** Leaves a group once every join of it has been matched by a leave. */
  leaveGroup(group: IPAddr): void {
    const count = this.groups.get(group.value) ?? 0;
    if (count === 0) return;
    if (count === 1) {
      this.groups.delete(group.value);
      if (!this.raw.closed)
        call(() => {
          this.raw.leaveGroup(ipv6ToBytes(group));
        });
    } else {
      this.groups.set(group.value, count - 1);
    }
  }

  /** Groups currently joined, with their join counts. */
  joinedGroups(): ReadonlyMap<bigint, number> {
    return this.groups;
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  /** Closes the socket (the kernel drops its memberships); idempotent, no callback afterwards. */
  close(): void {
    this.raw.close();
    this.groups.clear();
  }

  unref(): this {
    this.raw.unref();
    return this;
  }

  ref(): this {
    this.raw.ref();
    return this;
  }
}

function requireIPv6(ip: IPAddr): IPAddr {
  if (ip.family !== "IPv6") throw new TypeError(`${formatIP(ip)} is not an IPv6 address`);
  return ip;
}

// ---------------------------------------------------------------------------------------------
// TCP with MD5 signatures (RFC 2385), for BGP

/** Longest key Linux accepts (TCP_MD5SIG_MAXKEYLEN). */
export const TCP_MD5_MAX_KEY_LENGTH = 80;

export class Md5KeyError extends Error {
  override readonly name = "Md5KeyError";
  readonly code = "ERR_TCP_MD5_KEY";
}

function keyBytes(key: string | Uint8Array): Buffer {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key);
  if (bytes.length === 0 || bytes.length > TCP_MD5_MAX_KEY_LENGTH) {
    throw new Md5KeyError(`TCP MD5 key must have 1 to ${TCP_MD5_MAX_KEY_LENGTH} bytes, not ${bytes.length}`);
  }
  return bytes;
}

function addressBytes(ip: IPAddr): Buffer {
  if (ip.family === "IPv6") return ipv6ToBytes(ip);
  const out = Buffer.alloc(4);
  out.writeUInt32BE(Number(ip.value), 0);
  return out;
}

/** The bytes naming `peer` on a socket of `family`: IPv4 peers of IPv6 sockets are v4-mapped. */
function peerBytesFor(family: IPFamily, peer: IPAddr): Buffer {
  if (family === peer.family) return addressBytes(peer);
  if (family === "IPv6") return ipv6ToBytes({ family: "IPv6", value: (0xffffn << 32n) | peer.value });
  throw new TypeError(`an IPv4 socket cannot have the IPv6 peer ${formatIP(peer)}`);
}

const familyNumber = (family: IPFamily): 4 | 6 => (family === "IPv4" ? 4 : 6);

export interface Md5SocketOptions {
  /** Address family of the socket. */
  readonly family: IPFamily;
  /** Bind to this source address (and/or port) before connecting or listening. */
  readonly localAddress?: IPAddr;
  readonly localPort?: number;
  /** SO_BINDTODEVICE (needs CAP_NET_RAW). */
  readonly device?: string;
  /** Peers and their keys, set with TCP_MD5SIG before connect()/listen(). */
  readonly keys: readonly { readonly peer: IPAddr; readonly key: string | Uint8Array }[];
  readonly reuseAddress?: boolean;
  /** IP_TTL / IPV6_UNICAST_HOPS of every packet sent (1..255); unset: the system default (64). */
  readonly ttl?: number;
}

/**
 * Creates a non-blocking TCP socket with TCP_MD5SIG keys set, optionally bound, and returns
 * its descriptor (the caller owns it: connect with connectMd5/listen with listenMd5, or close
 * it with closeFd). Lower level than connectMd5/listenMd5.
 */
export function createMd5Socket(options: Md5SocketOptions): number {
  const native = loadNative();
  const tcpOptions: TcpSocketOptions = {};
  if (options.localAddress !== undefined) {
    if (options.localAddress.family !== options.family) {
      throw new TypeError(`local address ${formatIP(options.localAddress)} is not ${options.family}`);
    }
    tcpOptions.localAddress = addressBytes(options.localAddress);
  }
  if (options.localPort !== undefined) tcpOptions.localPort = options.localPort;
  if (options.device !== undefined) tcpOptions.device = options.device;
  if (options.reuseAddress !== undefined) tcpOptions.reuseAddress = options.reuseAddress;
  const keys = options.keys.map(({ peer, key }) => ({
    peer: peerBytesFor(options.family, peer),
    key: keyBytes(key),
  }));
  const fd = call(() => native.createTcpSocket(familyNumber(options.family), tcpOptions));
  try {
    for (const { peer, key } of keys)
      call(() => {
        native.setTcpMd5Key(fd, peer, key);
      });
    if (options.ttl !== undefined) setUnicastTtl(native, fd, options.family, options.ttl);
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
  return fd;
}

export class NativeAddonOutdatedError extends Error {
  override readonly name = "NativeAddonOutdatedError";
  readonly code = "ERR_IRONLB_NATIVE_OUTDATED";
}

function setUnicastTtl(native: NativeBinding, fd: number, family: IPFamily, ttl: number): void {
  if (native.setUnicastTtl === undefined) {
    throw new NativeAddonOutdatedError(
      "the native addon predates setUnicastTtl: rebuild it (node src/native/build.js)",
    );
  }
  call(() => {
    native.setUnicastTtl?.(fd, familyNumber(family), ttl);
  });
}

/** Sets (or, with key null, removes) the MD5 key for `peer` on a socket of `family`. */
export function setMd5Key(fd: number, family: IPFamily, peer: IPAddr, key: string | Uint8Array | null): void {
  const bytes = key === null ? Buffer.alloc(0) : keyBytes(key);
  call(() => {
    loadNative().setTcpMd5Key(fd, peerBytesFor(family, peer), bytes);
  });
}

export function closeFd(fd: number): void {
  call(() => {
    loadNative().closeFd(fd);
  });
}

export class ConnectTimeoutError extends Error {
  override readonly name = "ConnectTimeoutError";
  readonly code = "ETIMEDOUT";
}

export interface TcpConnectOptions {
  readonly peer: IPAddr;
  readonly port?: number;
  /** TCP-MD5 key for the peer; unset: no signatures. */
  readonly key?: string | Uint8Array;
  /** IP_TTL / IPV6_UNICAST_HOPS (1..255), the SYN included; unset: the system default. */
  readonly ttl?: number;
  readonly localAddress?: IPAddr;
  readonly localPort?: number;
  readonly device?: string;
  /** Give up after this long (default 30 s): a peer with another key drops our SYNs silently. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type Md5ConnectOptions = TcpConnectOptions & { readonly key: string | Uint8Array };

/** Connects to `peer` with TCP MD5 signatures; see connectTcp. */
export function connectMd5(options: Md5ConnectOptions): Promise<net.Socket> {
  return connectTcp(options);
}

/**
 * Connects to `peer` from a socket prepared before connect() (TCP-MD5 key, TTL: what Node's net
 * module cannot set) and resolves with a connected net.Socket. The connect runs non-blocking; a
 * WritableWatch reports when it finished and SO_ERROR says how.
 */
export async function connectTcp(options: TcpConnectOptions): Promise<net.Socket> {
  const native = loadNative();
  options.signal?.throwIfAborted();
  const family = options.peer.family;
  const fd = createMd5Socket({
    family,
    keys: options.key === undefined ? [] : [{ peer: options.peer, key: options.key }],
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    ...(options.localPort === undefined ? {} : { localPort: options.localPort }),
    ...(options.device === undefined ? {} : { device: options.device }),
  });
  try {
    const connected = call(() => native.connectTcp(fd, addressBytes(options.peer), options.port ?? 179));
    if (!connected) await waitWritable(native, fd, options.timeoutMs ?? 30_000, options.signal);
    const err = native.socketError(fd);
    if (err !== 0) throw connectError(err, options.peer, options.port ?? 179);
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

function waitWritable(
  native: NativeBinding,
  fd: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      watch.close();
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error("aborted", { cause: error }));
    };
    const onAbort = (): void => {
      finish(signal?.reason);
    };
    const watch = new native.WritableWatch(fd, () => {
      finish();
    });
    const timer = setTimeout(() => {
      finish(new ConnectTimeoutError(`TCP connect did not complete within ${timeoutMs} ms`));
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function connectError(err: number, peer: IPAddr, port: number): NativeSocketError {
  const code = systemErrorName(err);
  return new NativeSocketError(
    `connect to ${formatIP(peer)} port ${port} failed: ${code}`,
    code,
    -err,
    "connect",
  );
}

/** "ECONNREFUSED" for 111, etc., via Node's own table (which wants libuv's negative codes). */
function systemErrorName(err: number): string {
  try {
    return getSystemErrorName(-err);
  } catch {
    return `E${err}`;
  }
}

export interface Md5ListenOptions {
  readonly family: IPFamily;
  readonly port: number;
  readonly localAddress?: IPAddr;
  readonly device?: string;
  readonly keys: readonly { readonly peer: IPAddr; readonly key: string | Uint8Array }[];
  readonly backlog?: number;
}

/** A listening net.Server whose socket checks MD5 signatures; keys can change while it runs. */
export interface Md5Server {
  readonly server: net.Server;
  readonly fd: number;
  setKey(peer: IPAddr, key: string | Uint8Array | null): void;
}

/** Listens with TCP MD5 keys for the given peers; connections from other peers are not accepted by the kernel. */
export async function listenMd5(options: Md5ListenOptions): Promise<Md5Server> {
  const native = loadNative();
  const fd = createMd5Socket({
    family: options.family,
    keys: options.keys,
    localPort: options.port,
    reuseAddress: true,
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    ...(options.device === undefined ? {} : { device: options.device }),
  });
  try {
    call(() => {
      native.listenTcp(fd, options.backlog ?? 511);
    });
  } catch (error) {
    native.closeFd(fd);
    throw error;
  }
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ fd }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    fd,
    setKey: (peer, key) => {
      setMd5Key(fd, options.family, peer, key);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Receive-side TTL check for UDP sockets (GTSM)

/**
 * Makes the kernel drop datagrams arriving on `fd` with an IPv4 TTL / IPv6 hop limit below
 * `minTtl` (a BPF socket filter: Linux applies IP_MINTTL to TCP only). Throws
 * NativeAddonMissingError without the addon, NativeSocketError when the kernel refuses.
 */
export function attachMinTtlFilter(fd: number, family: IPFamily, minTtl: number): void {
  const native = loadNative();
  if (native.attachMinTtlFilter === undefined)
    throw new NativeAddonMissingError(NATIVE_ADDON_PATH, new Error("the addon predates attachMinTtlFilter"));
  call(() => {
    native.attachMinTtlFilter?.(fd, family === "IPv4" ? 4 : 6, minTtl);
  });
}
