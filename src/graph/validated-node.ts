import { Node, type NodeOptions } from "./node.js";

/** Anything with zod's `parse` (a zod schema, or your own). */
export interface ParseSchema<T = unknown> {
  parse(value: unknown): T;
}

/** Options of a {@link ValidatedNode}. */
export interface ValidatedNodeOptions extends NodeOptions {
  /** Validates what `prep` returned before `exec` sees it. */
  input?: ParseSchema;
  /** Validates what `exec` (or the fallback) returned before `post` sees it. */
  output?: ParseSchema;
}

/**
 * A node that validates `exec`'s input and output. Override `validateInput` / `validateOutput`, or pass zod
 * schemas. Each validator returns the value to use, or throws; validation failures are not retried and never
 * reach `execFallback` (they reach `onError`).
 *
 * @example
 * class Score extends ValidatedNode {
 *   constructor() { super({ input: z.object({ text: z.string() }), output: z.number().min(0) }) }
 *   exec({ text }: { text: string }) { return text.length }
 * }
 */
export class ValidatedNode<S = any, P = any, E = any> extends Node<S, P, E> {
  private readonly inputSchema: ParseSchema | undefined;
  private readonly outputSchema: ParseSchema | undefined;

  constructor(options: ValidatedNodeOptions | number = {}, wait?: number) {
    super(options, wait);
    this.inputSchema = typeof options === "number" ? undefined : options.input;
    this.outputSchema = typeof options === "number" ? undefined : options.output;
  }

  /** Returns the value `exec` receives, or throws. */
  validateInput(prepRes: P): P | Promise<P> {
    return this.inputSchema ? (this.inputSchema.parse(prepRes) as P) : prepRes;
  }

  /** Returns the value `post` receives, or throws. */
  validateOutput(execRes: E): E | Promise<E> {
    return this.outputSchema ? (this.outputSchema.parse(execRes) as E) : execRes;
  }

  override async _exec(prepRes: P): Promise<E> {
    const input = await this.validateInput(prepRes);
    const output = await super._exec(input);
    return this.validateOutput(output);
  }
}
