/**
 * When kaygraph exports traces itself: read from the standard OpenTelemetry variables, nothing else.
 * Unset variables mean no export and no SDK loaded (the API alone is a no-op).
 */

/** The OTLP over HTTP encodings kaygraph can send. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** What the `OTEL_*` variables ask for. */
export type TracingSettings = { export: false; warning?: string } | { export: true; protocol: OtlpProtocol; warning?: string };

const SUPPORTED: ReadonlySet<string> = new Set(["http/protobuf", "http/json"]);

/**
 * Reads `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` and
 * `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`. Export is on when the exporter list names `otlp`, or when it is
 * unset and an OTLP endpoint is set; `none` or a disabled SDK turns it off. Exporters kaygraph does not ship
 * (console, zipkin, grpc) are left out with a warning rather than failing the server.
 *
 * @example
 * tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }) // { export: true, protocol: "http/protobuf" }
 */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings {
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") return { export: false };
  const listed = (env["OTEL_TRACES_EXPORTER"] ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  const endpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  if (listed.includes("none")) return { export: false };
  const others = listed.filter((name) => name !== "otlp");
  const unsupported = others.length > 0 ? `OTEL_TRACES_EXPORTER=${others.join(",")} is not supported by kaygraph (only otlp over HTTP); ignored.` : undefined;
  const wanted = listed.includes("otlp") || (listed.length === 0 && Boolean(endpoint));
  if (!wanted) return unsupported ? { export: false, warning: unsupported } : { export: false };
  const protocol = (env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] || env["OTEL_EXPORTER_OTLP_PROTOCOL"] || "http/protobuf").trim();
  if (!SUPPORTED.has(protocol)) {
    return { export: false, warning: `OTLP protocol ${protocol} is not supported by kaygraph; set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf or http/json. Traces are not exported.` };
  }
  return unsupported ? { export: true, protocol: protocol as OtlpProtocol, warning: unsupported } : { export: true, protocol: protocol as OtlpProtocol };
}
