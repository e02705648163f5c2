import helmet, { type HelmetOptions } from "helmet";

/**
 * helmet's headers for our options, computed once: helmet's policy is static for a static configuration, so
 * running its dozen small middlewares on every request only repeats the same `setHeader` calls. We run it
 * once against a recording response and set the result in one call per request.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => void (headers[name] = String(value)),
    removeHeader: (name: string) => void delete headers[name],
    getHeader: (name: string) => headers[name],
  };
  let called = false;
  helmet(options)({ method: "GET", headers: {} } as never, recorder as never, () => (called = true));
  if (!called) throw new Error("helmet did not finish synchronously; cannot precompute its headers");
  return headers;
}

/**
 * helmet's options for API responses (JSON and event streams): its defaults, with the Content-Security-Policy
 * a JSON API wants — nothing may load and nothing may frame it (OWASP REST guidance). The docs page gets
 * helmet's page policy instead (see {@link DOCS_HELMET}).
 */
export const API_HELMET: HelmetOptions = {
  crossOriginResourcePolicy: { policy: "same-site" },
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: "deny" },
  // Headers that only steer how browsers treat HTML documents (legacy IE downloads, Flash/PDF policies, DNS
  // prefetching, XSS auditors, agent clustering): meaningless on JSON and event streams, so not sent there.
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xDnsPrefetchControl: false,
  xXssProtection: false,
  originAgentCluster: false,
};

/**
 * helmet's page policy, for the docs page and a project's static pages (scripts and styles from this origin),
 * without `upgrade-insecure-requests`, which would break a page served over plain http from another host.
 */
export const PAGE_HELMET: HelmetOptions = { crossOriginResourcePolicy: { policy: "same-site" }, contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };
