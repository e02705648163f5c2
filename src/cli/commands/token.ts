import { Command } from "commander";
import { loadProject } from "../project.js";

interface TokenFlags {
  sub: string;
  tier?: string;
  expires?: string;
}

/** `kaygraph token --sub <id> [--tier <t>] [--expires <dur>]`: a JWT signed with the configured secret. */
export function tokenCommand(): Command {
  return new Command("token")
    .description("print a JWT signed with the configured secret (KAYGRAPH_SECRET_KEY), for local testing")
    .requiredOption("--sub <id>", "the subject (sub claim)")
    .option("--tier <tier>", "the rate tier claim (free, basic, premium…)")
    .option("--expires <duration>", 'lifetime: seconds or "15m", "2h", "7d"', "1h")
    .action(async (flags: TokenFlags, command: Command) => {
      const { config } = await loadProject(command);
      const { signToken } = await import("../../security/index.js");
      const token = await signToken({ sub: flags.sub, tier: flags.tier, expiresIn: flags.expires, issuer: config.auth.issuer, audience: config.auth.audience }, config.auth.secret);
      process.stdout.write(`${token}\n`);
    });
}
