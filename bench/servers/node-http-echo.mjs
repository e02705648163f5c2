// Baseline: a raw node:http server running the same graph (read body, parse, validate, run, answer).
import http from "node:http";
import { tsImport } from "tsx/esm/api";

const { Echo, input, output } = await tsImport("../project/graphs/echo.ts", import.meta.url);
const { Graph } = await import("../../dist/index.js");
const graph = new Graph(new Echo());
const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/api/v1/echo") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const parsed = input.safeParse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    if (!parsed.success) {
      res.writeHead(422, { "content-type": "application/json" }).end('{"error":"invalid"}');
      return;
    }
    const shared = { input: parsed.data };
    await graph.run(shared);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: output.parse(shared.output) }));
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`ready port=${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
