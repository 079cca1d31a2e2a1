// Run inside a node namespace (`ip netns exec NS node --import tsx speakerApiListener.ts PORT`):
// opens a TCP listener on the namespace's own 127.0.0.1:PORT and hands it to the parent over the
// IPC channel, then exits. The parent (in the host's namespace) accepts the connections made to
// it from inside the namespace and relays them to the test API server on the host's loopback:
// speakers in the namespace reach the API server at https://127.0.0.1:PORT, and no address or
// route joins the host to the lab.
import net from "node:net";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || process.send === undefined) {
  process.stderr.write("usage (with an IPC channel): speakerApiListener.ts PORT\n");
  process.exit(2);
}
const server = net.createServer({ pauseOnConnect: true });
server.listen({ host: "127.0.0.1", port }, () => {
  process.send?.({ type: "listener" }, server, () => {
    server.close();
    process.disconnect();
  });
});
