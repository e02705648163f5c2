/**
 * The error catalogue: every error a user can see from the CLI or the library has a permanent,
 * searchable code, a title, an exit code and usually a hint. Codes never change meaning.
 */

/** Exit codes of the `kaygraph` command (DESIGN.md section 4). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;

/** One entry of the catalogue. */
export interface ErrorSpec {
  /** Permanent code, `KG_*`. */
  readonly code: string;
  /** Short title printed first. */
  readonly title: string;
  /** Exit code of the CLI when this error ends it. */
  readonly exit: 0 | 1 | 2 | 130;
  /** Default hint: what to do about it. */
  readonly hint?: string;
}

const spec = <T extends Record<string, ErrorSpec>>(entries: T): T => entries;

/** Every error the CLI and library raise on purpose. */
export const Errors = spec({
  Usage: { code: "KG_USAGE", title: "Invalid command line", exit: 2, hint: "Run `kaygraph --help` for usage." },
  ConfigInvalid: { code: "KG_CONFIG_INVALID", title: "Invalid kaygraph settings", exit: 2, hint: "Fix the settings listed above; see README.md#settings." },
  ConfigLoad: { code: "KG_CONFIG_LOAD", title: "Could not load the config file", exit: 2 },
  EnvFile: { code: "KG_ENV_FILE", title: "Could not read the .env file", exit: 2 },
  GraphsDirMissing: { code: "KG_GRAPHS_DIR_MISSING", title: "Graphs directory not found", exit: 2, hint: "Create it, or point `graphs` in kaygraph.config.ts at your graph files." },
  GraphLoad: { code: "KG_GRAPH_LOAD", title: "A graph file failed to load", exit: 2 },
  DefinitionInvalid: { code: "KG_DEFINITION_INVALID", title: "Invalid graph definition", exit: 2 },
  DefinitionDuplicate: { code: "KG_DEFINITION_DUPLICATE", title: "Duplicate graph definition", exit: 2, hint: "Give each definition a unique name and version." },
  NoGraphs: { code: "KG_NO_GRAPHS", title: "No graph definitions found", exit: 2, hint: "Add a file to graphs/ that default-exports defineGraph({...})." },
  GraphNotFound: { code: "KG_GRAPH_NOT_FOUND", title: "Unknown graph", exit: 2 },
  InputInvalid: { code: "KG_INPUT_INVALID", title: "Invalid input", exit: 2 },
  InputRead: { code: "KG_INPUT_READ", title: "Could not read the input", exit: 2 },
  RunFailed: { code: "KG_RUN_FAILED", title: "The graph run failed", exit: 1 },
  RunTimeout: { code: "KG_RUN_TIMEOUT", title: "The graph run timed out", exit: 1, hint: "Raise --timeout or the definition's timeoutMs." },
  Interrupted: { code: "KG_INTERRUPTED", title: "Interrupted", exit: 130 },
  RunAwaitsResume: { code: "KG_RUN_AWAITS_RESUME", title: "The graph asks for a resume value", exit: 2 },
  AuthSecretMissing: { code: "KG_AUTH_SECRET_MISSING", title: "JWT auth needs a secret key", exit: 2, hint: "Set KAYGRAPH_SECRET_KEY (at least 32 bytes) in the environment or .env." },
  AuthSecretWeak: { code: "KG_AUTH_SECRET_WEAK", title: "JWT secret key is too short", exit: 2, hint: "Use at least 32 bytes, e.g. `openssl rand -base64 48`." },
  AuthKeyInvalid: { code: "KG_AUTH_KEY_INVALID", title: "Invalid JWT key settings", exit: 2 },
  ServerListen: { code: "KG_SERVER_LISTEN", title: "The server could not listen", exit: 1 },
  ServerCrashLoop: { code: "KG_SERVER_CRASH_LOOP", title: "Workers keep crashing", exit: 1, hint: "Read the worker errors above; fix them and start again." },
  StoreUnavailable: { code: "KG_STORE_UNAVAILABLE", title: "The task store is unavailable", exit: 1 },
  CodegenFailed: { code: "KG_CODEGEN_FAILED", title: "Code generation failed", exit: 1 },
  InitTargetNotEmpty: { code: "KG_INIT_TARGET_NOT_EMPTY", title: "Target directory is not empty", exit: 2, hint: "Choose an empty directory or pass --force." },
  InitTargetInvalid: { code: "KG_INIT_TARGET_INVALID", title: "Cannot create the project there", exit: 2, hint: "Choose another project directory." },
  InitTemplateUnknown: { code: "KG_INIT_TEMPLATE_UNKNOWN", title: "Unknown template", exit: 2 },
  InitInstallFailed: { code: "KG_INIT_INSTALL_FAILED", title: "Installing dependencies failed", exit: 1 },
  InitWriteFailed: { code: "KG_INIT_WRITE_FAILED", title: "Could not write the project files", exit: 1, hint: "Check the directory's permissions and free space, then run `kaygraph init` again with --force." },
  Cancelled: { code: "KG_CANCELLED", title: "Cancelled", exit: 130 },
});

/** Options for a {@link KaygraphError}. */
export interface KaygraphErrorOptions {
  /** What happened, in this case. Defaults to the spec's title. */
  message?: string;
  /** What to do about it; overrides the spec's hint. */
  hint?: string;
  /** The underlying error, shown with `--debug`. */
  cause?: unknown;
}

/**
 * An expected, user-facing error: printed as title, message and hint without a stack trace.
 *
 * @example
 * throw new KaygraphError(Errors.ConfigInvalid, { message: "server.port: must be an integer (from env PORT)" });
 */
export class KaygraphError extends Error {
  /** Permanent `KG_*` code. */
  readonly code: string;
  /** Short title of the error kind. */
  readonly title: string;
  /** What to do about it. */
  readonly hint: string | undefined;
  /** Exit code the CLI ends with. */
  readonly exitCode: 0 | 1 | 2 | 130;

  constructor(kind: ErrorSpec, options: KaygraphErrorOptions = {}) {
    super(options.message ?? kind.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KaygraphError";
    this.code = kind.code;
    this.title = kind.title;
    this.hint = options.hint ?? kind.hint;
    this.exitCode = kind.exit;
  }

  /** True for any KaygraphError, even one from another copy of the package. */
  static is(error: unknown): error is KaygraphError {
    return error instanceof KaygraphError || (error instanceof Error && error.name === "KaygraphError" && "exitCode" in error);
  }
}
