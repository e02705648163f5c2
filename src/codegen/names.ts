import { Errors, KaygraphError } from "../errors.js";

/** `hello-world` → `HelloWorld`; a leading digit gets a `G` (`3d` → `G3d`). The base of every generated name. */
export function pascalName(name: string): string {
  const pascal = name
    .split(/[-_]/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
  return /^[0-9]/.test(pascal) ? `G${pascal}` : pascal;
}

/** `hello-world` → `helloWorld`: the key of a graph on the generated client and handler map. */
export function camelName(name: string): string {
  const pascal = pascalName(name);
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

/**
 * Fails when two distinct graph names map to the same generated name (`hello-world` and `hello_world` are
 * both `HelloWorld`), which would make duplicate TypeScript declarations and OpenAPI schemas.
 *
 * @example
 * assertDistinctNames(["hello-world", "hello_world"]); // throws KG_DEFINITION_DUPLICATE
 */
export function assertDistinctNames(names: Iterable<string>): void {
  const seen = new Map<string, string>();
  for (const name of names) {
    const pascal = pascalName(name);
    const other = seen.get(pascal);
    if (other !== undefined && other !== name) {
      throw new KaygraphError(Errors.DefinitionDuplicate, {
        message: `Graphs "${other}" and "${name}" both generate the type names ${pascal}V<n>; generated code and OpenAPI schemas would clash.`,
        hint: "Rename one of them (set name: in defineGraph) so that the names differ by more than '-', '_' or case.",
      });
    }
    seen.set(pascal, name);
  }
}

/** Orders strings by UTF-16 code units: the same order on every machine (unlike `localeCompare`). */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
