import type { Logger } from "pino";
import type { Identity } from "../definition/define.js";

declare global {
  namespace Express {
    interface Request {
      /** The caller's identity when JWT auth is on. */
      user?: Identity;
      /** A logger bound to the request id (created on first use). */
      log: Logger;
    }
  }
}
