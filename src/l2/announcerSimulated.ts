/**
 * Sockets that go nowhere, for running a speaker without touching a network: every send
 * "succeeds" (so the takeover metrics still count), nothing is ever received. Used with a
 * simulated link list by the integration tests (`ironlb speaker --simulate-network DIR`), where
 * the speaker runs in the host's namespace and must not answer ARP on the host's links.
 */
import type { AnnouncerIO } from "./announcer.js";

export const simulatedAnnouncerIO: AnnouncerIO = {
  openArp: () => ({ send: () => undefined, close: () => undefined }),
  openNdp: () => ({
    send: () => undefined,
    joinGroup: () => undefined,
    leaveGroup: () => undefined,
    close: () => undefined,
  }),
};
