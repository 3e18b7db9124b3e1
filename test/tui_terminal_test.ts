/**
 * The admin UI as a terminal program (tmux): it leaves the scrollback as it found it, draws again
 * when the terminal is resized, asks before Esc leaves it, and pages long menus with marks.
 */
import assert from "node:assert/strict";
import { HAS_TMUX, type TuiSession, withTuiOnNewDatabase } from "./tui_helpers.ts";

/** The once-only password in what `init` printed; opens the Domains screen; returns the password. */
async function passwordThenDomains(tui: TuiSession, init: string): Promise<string> {
  const password = /adminPassword\W+(\S+)/.exec(init)?.[1];
  assert.ok(password, `init printed no password:\n${init}`);
  await tui.waitFor("? Go to");
  await tui.choose("Domains");
  await tui.waitFor("+ New domain");
  return password;
}

Deno.test({
  // Without the alternate screen (a terminal or multiplexer that ignores it), a clear that also erased
  // the scrollback (ESC[3J) took the password with it.
  name: "tui: what init printed before it is still in the terminal's scrollback after quitting",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, _dataDir, init) => {
      // A few screens, each drawn from a cleared screen.
      const password = await passwordThenDomains(tui, init);
      await tui.keys("q");
      await tui.waitFor("? Go to");
      await tui.keys("q");
      await tui.waitForExit();
      const history = await tui.history();
      assert.ok(history.includes(password), `the scrollback lost "${password}":\n${history}`);
    }, { showInit: true, alternateScreen: false }),
});

Deno.test({
  name: "tui: Ctrl+C deep in a screen leaves the alternate screen and the scrollback as they were",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui, _dataDir, init) => {
      const password = await passwordThenDomains(tui, init);
      await tui.keys("n");
      await tui.waitFor("? Domain name");
      await tui.keys("C-c");
      await tui.waitForExit();
      // Back on the main screen: what init printed is on it again, the UI's screens are not.
      const screen = await tui.screen();
      assert.ok(screen.includes("Secrets above are shown only this once"), screen);
      assert.doesNotMatch(screen, /Postern admin ›/);
      assert.ok((await tui.history()).includes(password));
    }, { showInit: true }),
});

Deno.test({
  name: "tui: Esc on the home screen asks before quitting; no stays, yes quits",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui) => {
      await tui.waitFor("? Go to");
      // The help says so.
      await tui.keys("?");
      await tui.waitFor("On Home: q quits, esc asks first");
      await tui.keys("Enter");
      await tui.waitFor("? Go to");
      await tui.keys("Escape");
      await tui.waitFor("? Quit the admin UI?");
      await tui.keys("Enter"); // No is the default.
      await tui.waitFor("? Go to");
      assert.equal(await tui.exited(), false);
      await tui.keys("Escape");
      await tui.waitFor("? Quit the admin UI?");
      await tui.keys("Escape"); // Esc on the question stays too.
      await tui.waitFor("? Go to");
      assert.equal(await tui.exited(), false);
      await tui.keys("Escape");
      await tui.waitFor("? Quit the admin UI?");
      await tui.type("y");
      await tui.keys("Enter");
      await tui.waitForExit();
    }),
});

/** The width of the rule under the screen's title. */
function ruleWidth(screen: string): number {
  return Math.max(...screen.split("\n").map((line) => /^─+$/.test(line) ? [...line].length : 0));
}

Deno.test({
  name: "tui: a resize draws the screen again at the new size; the menu keeps its cursor",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui) => {
      let screen = await tui.waitFor("? Go to");
      assert.equal(ruleWidth(screen), 80);
      assert.doesNotMatch(screen, /more/);

      await tui.resize(100, 30);
      // The rule and the menu are drawn one after the other: wait for both.
      screen = await tui.waitFor(/^─{100}$[\s\S]*❯ Accounts/m);

      // Too short for the ten choices: marks say how many are out of view.
      await tui.resize(70, 15);
      screen = await tui.waitFor(/^─{70}$[\s\S]*↓ \d+ more/m);
      await tui.keys("End");
      await tui.waitFor("❯ Quit");

      // The cursor stays on its choice through a resize.
      await tui.resize(80, 24);
      screen = await tui.waitFor(/^─{80}$[\s\S]*❯ Quit/m);
      assert.equal(ruleWidth(screen), 80);
    }),
});

Deno.test({
  name: "tui: menus move with j/k, PgUp/PgDn, Home/End, and mark how many choices are out of view",
  ignore: !HAS_TMUX,
  fn: () =>
    withTuiOnNewDatabase(async (tui) => {
      let screen = await tui.waitFor("? Go to");
      assert.match(screen, /↓ \d+ more/);
      assert.doesNotMatch(screen, /↑ \d+ more/);
      assert.match(screen, /❯ Accounts/);

      // j moves down, End to the last, k back up, PgUp a page; the marks follow.
      await tui.keys("j");
      screen = await tui.waitFor("❯ Groups");
      await tui.keys("End");
      screen = await tui.waitFor("❯ Quit");
      assert.match(screen, /↑ \d+ more/);
      assert.doesNotMatch(screen, /↓ \d+ more/);
      await tui.keys("k");
      screen = await tui.waitFor("❯ Actions");
      await tui.keys("PPage");
      screen = await tui.waitFor(/↓ \d+ more/);
      assert.doesNotMatch(screen, /❯ Actions|❯ Quit/);
      await tui.keys("Home");
      await tui.waitFor("❯ Accounts");
      await tui.keys("NPage");
      screen = await tui.waitFor(/↑ \d+ more/);
      assert.doesNotMatch(screen, /❯ Accounts/);
    }, { size: [70, 15] }),
});
