import net from "node:net";

/**
 * A free port on `host`, found by binding port 0 and closing at once. Workers of a cluster must all listen on
 * the same concrete port (node:cluster shares a handle per address and port, and a handle for port 0 gets a
 * new port whenever it is re-created), so the primary turns a configured 0 into a real port before forking.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
