// One linter, configured once: ESLint with typescript-eslint's recommended rules, plus type-aware checks
// for floating promises in the source tree (an un-awaited promise is a lost error in a server).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
    rules: {
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
);
