import type { RunEvent } from "kaygraph";
import { describe, expect, it } from "vitest";
// Typed in-process handlers, written by `kaygraph generate` (npm test runs it first).
import { handlers } from "../.kaygraph/generated/routes.js";
import type { TokenChunk } from "../graphs/chat.js";

const chat = handlers.chat.v1;

function tokensOf(events: RunEvent[]): TokenChunk[] {
  return events.flatMap((e) => (e.type === "data" ? [e.chunk as TokenChunk] : []));
}

describe("chat", () => {
  it("streams the reply token by token, then returns all of it", async () => {
    const events: RunEvent[] = [];
    const out = await chat({ prompt: "Hi", delayMs: 0 }, { onEvent: (e) => events.push(e) });
    const tokens = tokensOf(events);
    expect(tokens.length).toBeGreaterThan(10);
    expect(tokens.map((t) => t.index)).toEqual(tokens.map((_, i) => i));
    expect(tokens.map((t) => t.token).join("")).toBe(out.text);
    expect(out).toMatchObject({ tokens: tokens.length, finish: "stop" });
    expect(out.text.startsWith('You said: "Hi".')).toBe(true);
    // Every data event comes before the one result event that ends the run.
    expect(events.at(-1)).toMatchObject({ type: "result", result: out });
  });

  it("stops at maxTokens", async () => {
    const out = await chat({ prompt: "Hi", maxTokens: 3, delayMs: 0 });
    expect(out).toEqual({ text: 'You said: "Hi". ', tokens: 3, finish: "length" });
  });

  it("stops streaming when the caller goes away", async () => {
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const run = chat(
      { prompt: "Hi", delayMs: 5 },
      {
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event);
          // Hang up after the second token, as a closed browser tab would.
          if (event.type === "data" && (event.chunk as TokenChunk).index === 1) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: "ABORTED" });
    expect(tokensOf(events)).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "ABORTED" });
  });

  it("rejects an empty prompt", async () => {
    await expect(chat({ prompt: " " })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });
});
