/** HeldEvents: events held for one turn go with the lease's next write, or on their own, in call order. */
import { describe, expect, it } from "vitest";
import { HeldEvents } from "../../../src/tasks/held-events.js";

describe("HeldEvents", () => {
  it("sends the events held in one turn once, together and in call order, when nobody takes them", async () => {
    const held = new HeldEvents();
    const sent: string[][] = [];
    const send = async (bodies: string[]) => (sent.push([...bodies]), true);
    const both = Promise.all([held.hold("t", ["a", "b"], send), held.hold("t", ["c"], send), held.hold("u", ["x"], send)]);
    expect(sent).toEqual([]);
    expect(await both).toEqual([true, true, true]);
    expect(sent).toEqual([["a", "b", "c"], ["x"]]);
  });

  it("hands the events to a write of the same turn, which settles them like its own call (stored, fenced or failed)", async () => {
    const held = new HeldEvents();
    const send = async () => {
      throw new Error("must not be sent on their own");
    };
    const stored = held.hold("t", ["a"], send);
    const taken = held.take("t");
    expect(taken?.bodies).toEqual(["a"]);
    expect(held.take("t")).toBeUndefined();
    taken?.settle(Promise.resolve(true));
    expect(await stored).toBe(true);

    const fenced = held.hold("t", ["b"], send);
    held.take("t")?.settle(Promise.resolve(false));
    expect(await fenced).toBe(false);

    const failed = held.hold("t", ["c"], send);
    held.take("t")?.settle(Promise.reject(new Error("Redis is down")));
    await expect(failed).rejects.toThrow("Redis is down");
  });

  it("holds events appended after the send as a new batch (nothing is lost or sent twice)", async () => {
    const held = new HeldEvents();
    const sent: string[][] = [];
    const send = async (bodies: string[]) => (sent.push([...bodies]), true);
    await held.hold("t", ["a"], send);
    const later = held.hold("t", ["b"], send);
    const taken = held.take("t");
    expect(taken?.bodies).toEqual(["b"]);
    taken?.settle(Promise.resolve(true));
    expect(await later).toBe(true);
    expect(sent).toEqual([["a"]]);
  });

  it("holds the turn's latest checkpoint with its events: sent together, or handed to a write of the same turn", async () => {
    const held = new HeldEvents();
    const sent: [string[], string][] = [];
    const send = async (bodies: string[], checkpoint: string) => (sent.push([[...bodies], checkpoint]), true);
    const both = Promise.all([held.hold("t", ["a"], send), held.hold("t", ["b"], send, "cp1"), held.hold("t", [], send, "cp2"), held.hold("t", ["c"], send)]);
    expect(await both).toEqual([true, true, true, true]);
    expect(sent).toEqual([[["a", "b", "c"], "cp2"]]);

    const stored = held.hold("t", ["d"], send, "cp3");
    const taken = held.take("t");
    expect([taken?.bodies, taken?.checkpoint]).toEqual([["d"], "cp3"]);
    taken?.settle(Promise.resolve(false));
    expect(await stored).toBe(false);
    expect(sent).toHaveLength(1);
  });
});
