// One linter, configured once: ESLint with typescript-eslint's recommended rules, plus type-aware checks
// for floating promises in the source tree (an un-awaited promise is a lost error in a server), and the
// layering of DESIGN section 6: no import cycles, and no layer importing one above it.
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * Layers of src/, and the folders each may not import (everything above it). Dependencies point one way:
 * cli → (process | init) → server → (runs | codegen) → (tasks | definition | security) → graph →
 * config/errors (pocketflow sits on graph; client imports only itself, see its own block). Dynamic
 * `import()` is how the CLI loads commands lazily; it is not checked here.
 */
const UPPER = ["server", "process", "init", "cli"];
const ABOVE = {
  graph: ["definition", "tasks", "security", "runs", "codegen", "pocketflow", ...UPPER],
  config: ["graph", "definition", "tasks", "security", "runs", "codegen", "pocketflow", ...UPPER],
  definition: ["tasks", "security", "runs", "codegen", "pocketflow", ...UPPER],
  tasks: ["runs", "codegen", "pocketflow", ...UPPER],
  security: ["tasks", "definition", "runs", "codegen", "pocketflow", ...UPPER],
  pocketflow: ["definition", "tasks", "security", "runs", "codegen", ...UPPER],
  runs: ["codegen", "pocketflow", ...UPPER],
  codegen: ["tasks", "security", "runs", "pocketflow", ...UPPER],
  server: ["process", "init", "cli"],
  init: ["server", "process", "cli"],
  process: ["init", "cli"],
};

const layerRules = Object.entries(ABOVE).map(([layer, forbidden]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      { patterns: [{ regex: `^(\\.\\./)+(${forbidden.join("|")})(/|$)`, message: `src/${layer} is below these layers (DESIGN section 6): move the code down or pass it in.` }] },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "templates/**/node_modules/**", "test/fixtures/**/node_modules/**", "**/.kaygraph/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", AbortController: "readonly", AbortSignal: "readonly", performance: "readonly", fetch: "readonly", Buffer: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", setImmediate: "readonly", structuredClone: "readonly", queueMicrotask: "readonly", Response: "readonly", Request: "readonly", Headers: "readonly", WebSocket: "readonly", document: "readonly", window: "readonly", EventSource: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "no-empty": ["error", { allowEmptyCatch: false }],
    },
  },
  {
    files: ["src/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  {
    // The studio page's script runs in the browser only.
    files: ["studio/**/*.js"],
    languageOptions: { globals: { Node: "readonly", sessionStorage: "readonly", location: "readonly" } },
  },
  {
    // kaygraph/client runs in browsers and is copied into generated clients: web platform only, relative imports only.
    files: ["src/client/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ regex: "^(?!\\./)", message: "kaygraph/client imports only its own modules (./x.js): it runs in browsers and is copied into generated clients." }] }],
      "no-restricted-globals": ["error", "process", "Buffer", "setImmediate", "require", "__dirname", "__filename"],
    },
  },
  ...layerRules,
);
