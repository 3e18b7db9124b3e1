/**
 * The domains screen in a real pseudo-terminal (tmux): create, edit and delete reach the database;
 * cancelling a delete changes nothing; deleting a domain in use shows the server's refusal.
 */
import assert from "node:assert/strict";
import { cli } from "./helpers.ts";
import { HAS_TMUX, queryObjects, withTuiOnNewDatabase } from "./tui_helpers.ts";

Deno.test({
  name: "domains screen: create, edit, refused and cancelled deletes, delete",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await tui.waitFor("? Go to");
      await tui.choose("Domains");
      let screen = await tui.waitFor("+ New domain");
      assert.match(screen, /example\.org +1 +Created on first start/);

      // Create: a bad name is refused by the declaration's rule before anything is sent.
      await tui.keys("n");
      await tui.waitFor("? Domain name");
      await tui.type("not a domain");
      await tui.keys("Enter");
      await tui.waitFor("must be a domain name such as example.org");
      await tui.keys("C-u");
      await tui.type("example.net");
      await tui.keys("Enter");
      await tui.waitFor("? Description");
      await tui.type("Second domain");
      await tui.keys("Enter");
      await tui.waitFor(/Created domain example\.net[\s\S]*❯ OK/);
      await tui.keys("Enter");
      await tui.waitFor("+ New domain");

      // A taken name is refused; only the name is asked again, the description kept.
      await tui.keys("n");
      await tui.waitFor("? Domain name");
      await tui.type("example.net");
      await tui.keys("Enter");
      await tui.waitFor("? Description");
      await tui.type("Kept description");
      await tui.keys("Enter");
      screen = await tui.waitFor(/example\.net[\s\S]*\? Domain name/);
      assert.doesNotMatch(screen, /\? Description/);
      await tui.keys("C-u");
      await tui.type("example.com");
      await tui.keys("Enter");
      await tui.waitFor(/Created domain example\.com[\s\S]*❯ OK/);
      const kept = (await queryObjects(dataDir, "domain")).find((d) => d.name === "example.com");
      assert.equal(kept?.description, "Kept description");
      // Removed again, so the rest of the test sees example.org and example.net only.
      assert.equal((await cli(["--data", dataDir, "delete", "domain", String(kept?.id)])).code, 0);
      const created = (await queryObjects(dataDir, "domain")).find((d) => d.name === "example.net");
      assert.equal(created?.description, "Second domain");

      // Edit the description.
      await tui.keys("Enter");
      screen = await tui.waitFor(/example\.net +0 +Second domain[\s\S]*↑↓ move/);
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor("? Domain");
      await tui.keys("Enter");
      await tui.waitFor("? Description (empty clears it) Second domain");
      await tui.keys("C-u");
      await tui.type("Backup MX");
      await tui.keys("Enter");
      await tui.waitFor(/Description +Backup MX[\s\S]*\? Domain/);
      assert.equal(
        (await queryObjects(dataDir, "domain")).find((d) => d.name === "example.net")?.description,
        "Backup MX",
      );
      // Cleared to nothing, the description goes (the line does not fall back to the old text).
      await tui.keys("Enter");
      await tui.waitFor("? Description (empty clears it) Backup MX");
      await tui.keys("C-u", "Enter");
      await tui.waitFor(/Description +–[\s\S]*\? Domain/);
      const cleared = (await queryObjects(dataDir, "domain")).find((d) => d.name === "example.net");
      assert.equal(cleared?.description ?? null, null);
      await tui.keys("Enter");
      await tui.waitFor("? Description (empty clears it)");
      await tui.type("Backup MX");
      await tui.keys("Enter");
      await tui.waitFor(/Description +Backup MX[\s\S]*\? Domain/);

      // Delete, answered no: nothing changes.
      await tui.keys("Down", "Down", "Down", "Down", "Enter");
      await tui.waitFor("? Delete example.net?");
      await tui.keys("Enter");
      await tui.waitFor("❯ Delete…");
      assert.equal((await queryObjects(dataDir, "domain")).length, 2);

      // Delete, answered yes.
      await tui.keys("Enter");
      await tui.waitFor("? Delete example.net?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitFor(/Deleted domain example\.net\.[\s\S]*❯ OK/);
      assert.deepEqual((await queryObjects(dataDir, "domain")).map((d) => d.name), ["example.org"]);

      // A domain in use: the server's refusal, in its words; the domain stays.
      await tui.keys("Enter");
      await tui.waitFor("+ New domain");
      await tui.keys("Down", "Enter");
      await tui.waitFor("? Domain");
      await tui.keys("Down", "Down", "Down", "Down", "Enter");
      screen = await tui.waitFor("? Delete example.org?");
      assert.match(screen, /1 account uses it/);
      await tui.type("y");
      await tui.keys("Enter");
      screen = await tui.waitFor('Cannot delete domain "example.org"');
      assert.match(screen, /still used by admin@example.org/);
      assert.deepEqual((await queryObjects(dataDir, "domain")).map((d) => d.name), ["example.org"]);
    }),
});

Deno.test({
  name: "domains screen: set the catch-all, then see the DNS records the domain needs",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, dataDir) => {
      await tui.waitFor("? Go to");
      await tui.choose("Domains");
      await tui.waitFor("+ New domain");
      await tui.keys("Down", "Enter");
      const screen = await tui.waitFor(/Catch-all[\s\S]*\? Domain/);
      assert.match(screen, /Catch-all +none \(unknown addresses are refused\)/);

      // A malformed address is refused by the declaration's rule; a good one is saved.
      await tui.keys("Down", "Down", "Enter");
      await tui.waitFor("? Catch-all address (empty: none)");
      await tui.type("not an address");
      await tui.keys("Enter");
      await tui.waitFor("is not an email address");
      await tui.keys("C-u");
      await tui.type("admin@example.org");
      await tui.keys("Enter");
      await tui.waitFor(/Catch-all +admin@example\.org[\s\S]*\? Domain/);
      assert.equal((await queryObjects(dataDir, "domain"))[0].catchAll, "admin@example.org");

      // The DNS records, as `postern dns` prints them (a terminal of 70 rows shows them all).
      await tui.keys("Down", "Enter");
      const records = await tui.waitFor("autodiscover.example.org.");
      assert.match(records, /example\.org\.\s+3600\s+IN\s+MX\s+10 example\.org\./);
      assert.match(
        records,
        /pe\d{6}[a-z]?\._domainkey\.example\.org\.\s+3600\s+IN\s+TXT\s+"v=DKIM1; k=ed25519;/,
      );
      // No submission listener is configured for this TUI: published as not offered.
      assert.match(records, /_submission\._tcp\.example\.org\.\s+3600\s+IN\s+SRV\s+0 0 0 \./);
      await tui.keys("Enter");
      await tui.waitFor("? Domain");
    }, { size: [100, 70] }),
});
