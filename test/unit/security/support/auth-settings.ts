// `auth` settings as the config schema resolves them, for building verifiers in tests.
import type { AuthSettings } from "../../../../src/security/jwt/index.js";

/** JWT settings with the schema's defaults plus `overrides`. */
export function authSettings(overrides: Partial<AuthSettings> = {}): AuthSettings {
  return { mode: "jwt", clockTolerance: 30, ...overrides };
}
