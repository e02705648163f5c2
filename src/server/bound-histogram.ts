import { Histogram, type LabelValues } from "prom-client";

/** One label set of a histogram, bound once: see {@link bindHistogram}. */
export interface BoundObserver {
  observe(value: number): void;
}

/** prom-client's per-label-set state of a histogram (not part of its typed API; checked by the unit test). */
interface LabelSetState {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface HistogramState {
  hashMap: Record<string, LabelSetState>;
  upperBounds: readonly number[];
}

/**
 * An observer of `histogram` for one fixed label set that updates the label set's counts directly. prom-client's
 * own `labels(...).observe` converts, validates and hashes the label object on every call, which cost more
 * than anything else of the metrics on a request of a trivial graph; the counts and the exported text are the
 * same (test/unit/server/bound-histogram.test.ts compares them with prom-client's own). A registry reset
 * (`resetMetrics`) is noticed: the label set is set up again.
 *
 * @example
 * const ok = bindHistogram(httpDuration, { method: "POST", route: "/api/v1/echo", status: "200" });
 * ok.observe(0.004);
 */
export function bindHistogram<T extends string>(histogram: Histogram<T>, labels: LabelValues<T>): BoundObserver {
  const state = histogram as unknown as HistogramState;
  let map: HistogramState["hashMap"] | undefined;
  let entry: LabelSetState | undefined;
  const names = Object.keys(labels) as T[];
  const lookup = (): LabelSetState | undefined => Object.values(state.hashMap).find((e) => Object.keys(e.labels).length === names.length && names.every((k) => String(e.labels[k]) === String(labels[k])));
  const find = (): LabelSetState => {
    // zero() creates the label set (it would also clear one that exists, so only when there is none).
    if (lookup() === undefined) histogram.zero(labels);
    map = state.hashMap;
    const found = lookup();
    if (found === undefined) throw new Error("prom-client's histogram state is not what bindHistogram expects");
    return found;
  };
  const bounds = state.upperBounds;
  return {
    observe(value: number): void {
      if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
      // A reset replaced the map: the label set is set up anew.
      if (entry === undefined || map !== state.hashMap) entry = find();
      for (const bound of bounds) {
        if (value <= bound) {
          entry.bucketValues[bound] = (entry.bucketValues[bound] ?? 0) + 1;
          break;
        }
      }
      entry.sum += value;
      entry.count += 1;
    },
  };
}
