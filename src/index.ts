/**
 * kaygraph: the graph runtime and the tools to serve graphs as production APIs.
 *
 * @example
 * import { Node, Graph } from "kaygraph";
 */
export * from "./graph/index.js";
export { KaygraphError, Errors, ExitCode } from "./errors.js";
export type { ErrorSpec, KaygraphErrorOptions } from "./errors.js";
