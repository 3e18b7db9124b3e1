/**
 * The domain's DNS screen on an 80×24 terminal (tmux): the records, taller than the screen, scroll
 * (End shows the last one, with how many lines are above), and `c` checks them against a real DNS
 * server (dnsmasq) given with --dns-server: the record left out is shown missing, the others ok.
 */
import assert from "node:assert/strict";
import { cli, withTempDir } from "./helpers.ts";
import { HAS_DNSMASQ, startDnsmasq } from "./dnsmasq_helpers.ts";
import { dnsmasqOptions, type Rec } from "./dns_check_helpers.ts";
import { HAS_TMUX, TuiSession } from "./tui_helpers.ts";

const ENV = { POSTERN_MAIL_HOST: "mail.example.org" };

Deno.test({
  name: "DNS screen: the records scroll on a 24-row terminal, and c checks what is published",
  ignore: !HAS_TMUX || !HAS_DNSMASQ,
  async fn() {
    await withTempDir("postern-tui-dns-", async (dir) => {
      const init = await cli(["--data", dir, "init", "--domain", "example.org"]);
      assert.equal(init.code, 0, init.stderr);
      const listed = await cli(["--data", dir, "--json", "dns", "example.org"], ENV);
      const records = (JSON.parse(listed.stdout).records as Rec[]).filter((r) =>
        !r.name.startsWith("_dmarc.")
      );
      const dns = await startDnsmasq({}, [
        "--local=/example.org/",
        ...dnsmasqOptions(records, "mail.example.org"),
      ]);
      const tui = await TuiSession.start(["--data", dir, "tui", "--dns-server", dns.server], ENV);
      try {
        await tui.waitFor("? Go to");
        await tui.choose("Domains");
        await tui.waitFor("+ New domain");
        await tui.keys("Down", "Enter");
        await tui.waitFor("? Domain");
        await tui.choose("DNS records");
        let screen = await tui.waitFor(/↓ \d+ more/);
        assert.match(screen, /^example\.org\.\s+3600\s+IN\s+MX\s+10 mail\.example\.org\.$/m);
        assert.doesNotMatch(screen, /autodiscover/);
        assert.match(screen, /c check what is published/);
        // Everything fits: the header, the question, the marks and the keys are all on the screen.
        assert.match(screen, /^Postern admin › Domains › example\.org › DNS records/);
        assert.match(screen, /^\? DNS records$/m);
        assert.match(screen, /↑↓ PgUp\/PgDn scroll/);

        await tui.keys("End");
        screen = await tui.waitFor("autodiscover.example.org.");
        assert.match(screen, /↑ \d+ more/);
        assert.doesNotMatch(screen, /IN\s+MX/);
        await tui.keys("Home");
        await tui.waitFor(/IN\s+MX/);

        await tui.keys("c");
        screen = await tui.waitFor("1 of 14 records are not as expected");
        assert.match(screen, /^ok +example\.org\. MX$/m);
        assert.match(screen, /^missing _dmarc\.example\.org\. TXT$/m);
        await tui.keys("Enter");
        await tui.waitFor("? Domain");
      } finally {
        await tui.close();
        await dns.stop();
      }
    });
  },
});
