/**
 * `postern dkim-rotate DOMAIN`: the RotateDkimKeys action (src/model/actions.ts): new DKIM keys for
 * the domain sign from now on; the old public keys stay published (`postern dns`) until their
 * x:DkimKey objects are deleted. Locally or on a server.
 */
import { domainNameSchema } from "../model/objects/mod.ts";
import { type ConnectOptions, withClient } from "./connect.ts";
import { output, UsageError } from "./io.ts";
import { say } from "./streams.ts";

/** Rotates the DKIM keys of `domain` and prints the new selectors. */
export async function dkimRotateCommand(domain: string, options: ConnectOptions): Promise<void> {
  const parsed = domainNameSchema.safeParse(domain);
  if (!parsed.success) {
    throw new UsageError(`"${domain}" is not a domain name: ${parsed.error.issues[0]?.message}`);
  }
  const answer = await withClient(
    options,
    (client) => client.report("RotateDkimKeys", { domain: parsed.data }),
  );
  const selectors = answer.selectors as string[];
  if (options.json) output({ domain: parsed.data, selectors }, options);
  else {
    say(
      `${parsed.data} now signs with ${
        selectors.join(" and ")
      }; publish their records (postern dns ${parsed.data}) ` +
        "and delete the retired keys (postern delete dkim-key ID) once mail signed with them has been read",
    );
  }
}
