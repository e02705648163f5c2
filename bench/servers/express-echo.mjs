// Baseline: a bare Express 5 app with a hand-written handler running the same graph (validate, run, answer).
import express from "express";
import { tsImport } from "tsx/esm/api";

const { Echo, input, output } = await tsImport("../project/graphs/echo.ts", import.meta.url);
const { Graph } = await import("../../dist/index.js");
const graph = new Graph(new Echo());
const app = express();
app.disable("x-powered-by");
app.use(express.json({ limit: "1mb" }));
app.post("/api/v1/echo", async (req, res) => {
  const parsed = input.safeParse(req.body);
  if (!parsed.success) return res.status(422).json({ error: "invalid", details: parsed.error.issues });
  const shared = { input: parsed.data };
  await graph.run(shared);
  res.json({ result: output.parse(shared.output) });
});
const server = app.listen(0, "127.0.0.1", () => process.stdout.write(`ready port=${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
