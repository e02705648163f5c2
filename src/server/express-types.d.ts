import type { Identity } from "../definition/define.js";

declare global {
  namespace Express {
    interface Request {
      /** The caller's identity when JWT auth is on. */
      user?: Identity;
    }
  }
}
