/**
 * Starting and stopping kaygraph's own OpenTelemetry SDK. The SDK packages are imported only when the
 * `OTEL_*` variables ask for export, so a server without them loads none of it.
 */
import type { Logger } from "pino";
import { tracingSettings } from "./settings.js";

/** The running SDK of this process. */
interface Started {
  shutdown(): Promise<void>;
}

let started: Promise<Started | undefined> | undefined;
let active = false;

/**
 * Starts exporting traces if the `OTEL_*` variables say so (see {@link tracingSettings}): a tracer provider
 * with a batching OTLP/HTTP exporter (protobuf or JSON, endpoint and headers from the same variables), the
 * W3C trace-context propagator and an AsyncLocalStorage context manager, registered globally. Once per process;
 * later calls return the first call's promise. Resolves to true when export is on.
 *
 * @example
 * await startTracing(process.env, logger); // then kaygraph.run / kaygraph.node spans are exported
 */
export async function startTracing(env: NodeJS.ProcessEnv, logger?: Pick<Logger, "warn">): Promise<boolean> {
  started ??= load(env, logger);
  return (await started) !== undefined;
}

/** True once {@link startTracing} registered kaygraph's SDK in this process. */
export function tracingExported(): boolean {
  return active;
}

/** Flushes spans not yet sent and stops the exporter (bounded by the exporter's own timeout). */
export async function stopTracing(): Promise<void> {
  const sdk = await started;
  await sdk?.shutdown();
}

async function load(env: NodeJS.ProcessEnv, logger?: Pick<Logger, "warn">): Promise<Started | undefined> {
  const settings = tracingSettings(env);
  if (settings.warning) logger?.warn(settings.warning);
  if (!settings.export) return undefined;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, resources, exporters] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    settings.protocol === "http/json" ? import("@opentelemetry/exporter-trace-otlp-http") : import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);
  // The environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) wins over kaygraph's default name.
  const resource = resources.resourceFromAttributes({ "service.name": "kaygraph" }).merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new exporters.OTLPTraceExporter())] });
  provider.register();
  active = true;
  return { shutdown: () => provider.shutdown() };
}
