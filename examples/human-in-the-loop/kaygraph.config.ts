import { defineConfig } from "kaygraph";

export default defineConfig({
  server: { port: 8000 },
});
