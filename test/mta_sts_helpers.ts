/** What the MTA-STS tests share: a test CA and certificates made by openssl (Debian package `openssl`). */
import { hasCommand } from "./smtp_helpers.ts";

/** Whether openssl is installed (tests that need it are skipped otherwise). */
export const HAS_OPENSSL = await hasCommand("openssl");

/** A CA and, for each entry of `wanted`, a certificate for its host names signed by it; PEM texts. */
export async function testPki(
  dir: string,
  wanted: Record<string, string[]>,
): Promise<{ ca: string; certs: Record<string, { key: string; cert: string }> }> {
  const openssl = async (args: string) => {
    const out = await new Deno.Command("openssl", {
      args: args.split(" "),
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (out.code !== 0) throw new Error(`openssl ${args}: ${new TextDecoder().decode(out.stderr)}`);
  };
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  await openssl(
    `req -x509 ${ec} -keyout ca.key -out ca.pem -days 2 -subj /CN=PosternTestCA ` +
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
  );
  const certs: Record<string, { key: string; cert: string }> = {};
  for (const [label, names] of Object.entries(wanted)) {
    await openssl(`req ${ec} -keyout ${label}.key -out ${label}.csr -subj /CN=${names[0]}`);
    await Deno.writeTextFile(
      `${dir}/${label}.ext`,
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\n`,
    );
    await openssl(
      `x509 -req -in ${label}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ${label}.pem -days 2 ` +
        `-extfile ${label}.ext`,
    );
    certs[label] = {
      key: await Deno.readTextFile(`${dir}/${label}.key`),
      cert: await Deno.readTextFile(`${dir}/${label}.pem`),
    };
  }
  return { ca: await Deno.readTextFile(`${dir}/ca.pem`), certs };
}
