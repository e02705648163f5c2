// Free loopback ports and a tiny HTTP server for JWKS tests.
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { onTestFinished } from "vitest";

/** A TCP port that was free a moment ago (bind to 0, read, close). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  return port;
}

/** A JSON server on port 0 that records every requested path; closed after the test. */
export async function jsonServer(body: () => unknown): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(body()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  onTestFinished(() => {
    // jose's fetch keeps the connection alive; drop it so close() does not wait for the idle timeout.
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${port}`, paths, server };
}
