import { Node } from "kaygraph";
import { z } from "zod";

/** Shared by both versions of `process` (kept outside graphs/, which holds only graph definitions). */
export const Operation = z.enum(["uppercase", "lowercase", "title", "reverse"]);
export type Operation = z.output<typeof Operation>;

/** Applies a word-level operation to a text. */
export function applyOperation(text: string, operation: Operation): string {
  const words = text.split(/\s+/).filter(Boolean);
  switch (operation) {
    case "lowercase":
      return words.join(" ").toLowerCase();
    case "title":
      return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join(" ");
    case "reverse":
      return words.reverse().join(" ");
    default:
      return words.join(" ").toUpperCase();
  }
}

/** What the transform node needs in the shared store. */
export interface TextShared {
  input: { text: string; options: { operation: Operation } };
  result?: string;
}

/** The node both versions run: reads the text, applies the operation, stores `result`. */
export class TransformText extends Node<TextShared, TextShared["input"], string> {
  override prep(shared: TextShared) {
    return shared.input;
  }
  override exec({ text, options }: TextShared["input"]) {
    return applyOperation(text, options.operation);
  }
  override post(shared: TextShared, _input: unknown, result: string) {
    shared.result = result;
  }
}
