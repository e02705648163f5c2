import type { Response } from "express";

interface RunLocals {
  abortRun?: (reason: Error) => void;
}

/**
 * An AbortController for the run answering `res`, aborted when the client goes away before the response is
 * sent (the request-context middleware's own close listener fires it: one listener per response instead of
 * two), or when the server's drain deadline comes before the run ends (see {@link abortRunOf}).
 */
export function clientGone(res: Response): AbortController {
  const controller = new AbortController();
  (res.locals as RunLocals).abortRun = (reason) => controller.abort(reason);
  return controller;
}

/** The function that aborts the run answering `res`, if a run answers it. */
export function abortRunOf(res: object): ((reason: Error) => void) | undefined {
  return (res as { locals?: RunLocals }).locals?.abortRun;
}
