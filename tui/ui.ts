/**
 * What every screen uses: the backend, the prompts, drawing a screen (title, where, keys, body) and
 * reporting errors in the words the object layer used.
 */
import Table from "cli-table3";
import { styleText } from "node:util";
import type { AdminBackend } from "./backend_types.ts";
import { Key, keyLine, Prompts, type Terminal } from "./terminal.ts";

/**
 * Clears the (alternate) screen and puts the cursor top left. Never ESC[3J: that erases the
 * terminal's scrollback, where `postern init` printed the once-only administrator password.
 */
const CLEAR = "\x1b[2J\x1b[H";

/** The screens' shared state and helpers. */
export class Ui {
  readonly prompts: Prompts;

  constructor(readonly terminal: Terminal, readonly backend: AdminBackend) {
    this.prompts = new Prompts(terminal);
    this.prompts.redraw = () => this.#last && this.draw(...this.#last);
  }

  /** The last screen drawn, to draw again at the new size when the terminal is resized. */
  #last?: Parameters<Ui["draw"]>;

  get columns(): number {
    return Math.max(40, this.terminal.size().columns);
  }

  get rows(): number {
    return Math.max(12, this.terminal.size().rows);
  }

  /** Writes text as is. */
  write(text: string): void {
    this.terminal.output.write(text);
  }

  /**
   * Clears the screen and draws the header (the path of screens, where the UI works), a line of
   * keys when the screen's prompt does not show its own, and the body.
   */
  draw(path: readonly string[], body: readonly string[] = [], keys?: readonly [string, string][]): void {
    this.#last = [path, body, keys];
    const title = ["Postern admin", ...path].join(" › ");
    const where = `${this.backend.mode} ${this.backend.location}`;
    const room = this.columns - title.length - 2;
    const right = where.length <= room ? where : "…" + where.slice(where.length - room + 1);
    const lines = [
      styleText("bold", title) + " ".repeat(Math.max(2, this.columns - title.length - right.length)) +
      styleText("dim", right),
      styleText("dim", "─".repeat(this.columns)),
      ...(keys ? [keyLine(keys)] : []),
      ...body,
    ].flatMap((line) => wrap(line, this.columns));
    this.#drawn = lines.length;
    this.write(CLEAR + lines.map((line) => line + "\n").join(""));
  }

  #drawn = 0;

  /**
   * Rows the menu under the screen last drawn can use for its choices, leaving `reserve` for its
   * question, the choice's description and the line of keys.
   */
  pageSize(reserve = 5): number {
    return Math.max(3, this.rows - this.#drawn - reserve);
  }

  /** Waits for enter (or q/Esc). */
  async pause(message = "Continue"): Promise<void> {
    await this.prompts.menu(message, [{ value: true, name: "OK" }], { pageSize: 1 });
  }

  /** Shows an error (with each property's own message) under the header, and waits. */
  async showError(path: readonly string[], error: unknown, body: readonly string[] = []): Promise<void> {
    this.draw(path, [...body, "", ...errorLines(error)]);
    await this.pause();
  }

  /** Shows the outcome of an action, and waits. */
  async showDone(path: readonly string[], lines: readonly string[]): Promise<void> {
    this.draw(path, ["", ...lines]);
    await this.pause();
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A line cut at spaces into lines of at most `width` visible characters (colours dropped if cut). */
export function wrap(line: string, width: number): string[] {
  const plain = line.replace(ANSI, "");
  if ([...plain].length <= width) return [line];
  const out: string[] = [];
  let current = "";
  for (const word of plain.split(/(?<= )/)) {
    if (current && [...(current + word).trimEnd()].length > width) {
      out.push(current.trimEnd());
      current = "";
    }
    current += word;
    while ([...current.trimEnd()].length > width) {
      const chars = [...current];
      out.push(chars.slice(0, width).join(""));
      current = chars.slice(width).join("");
    }
  }
  if (current.trim()) out.push(current.trimEnd());
  return out;
}

/** An error in words: the message, then each property's problem when it adds something. */
export function errorLines(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  const lines = [styleText("red", `Error: ${message}`)];
  const problems = (error as { problems?: { property: string; message: string }[] }).problems ?? [];
  for (const p of problems) {
    if (p.property && p.message !== message) lines.push(`  ${p.property}: ${p.message}`);
  }
  return lines;
}

/** The message of the problem with `property`, else the error's own message. */
export function fieldError(error: unknown, property: string): string {
  const problems = (error as { problems?: { property: string; message: string }[] }).problems ?? [];
  const own = problems.find((p) => p.property === property || p.property.startsWith(`${property}/`));
  return own?.message ?? (error instanceof Error ? error.message : String(error));
}

const NO_BORDERS = {
  top: "",
  "top-mid": "",
  "top-left": "",
  "top-right": "",
  bottom: "",
  "bottom-mid": "",
  "bottom-left": "",
  "bottom-right": "",
  left: "",
  "left-mid": "",
  mid: "",
  "mid-mid": "",
  right: "",
  "right-mid": "",
  middle: " ",
};

/**
 * A table without borders as lines (the first is the heading), fitted into `width` columns by
 * shrinking the widest columns; used both for bodies and for the rows of a list menu.
 */
export function tableLines(head: readonly string[], rows: readonly string[][], width: number): string[] {
  const natural = head.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const widths = [...natural];
  const room = width - (widths.length - 1);
  while (widths.reduce((a, b) => a + b, 0) > room) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest] <= 4) break;
    widths[widest]--;
  }
  const table = new Table({
    head: [...head],
    chars: NO_BORDERS,
    colWidths: widths,
    wordWrap: false,
    style: { head: Deno.noColor ? [] : ["bold"], border: [], "padding-left": 0, "padding-right": 0 },
  });
  for (const row of rows) table.push(row.map((cell) => cell ?? ""));
  return table.toString().split("\n").map((line) => line.trimEnd());
}

/** Two columns of label and value, as a detail view. */
export function detailLines(pairs: readonly (readonly [string, string])[], width: number): string[] {
  const labelWidth = Math.max(...pairs.map(([label]) => label.length));
  const table = new Table({
    chars: NO_BORDERS,
    colWidths: [labelWidth + 1, Math.max(10, width - labelWidth - 2)],
    wordWrap: false,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 1 },
  });
  for (const [label, value] of pairs) table.push([styleText("bold", label), value]);
  return table.toString().split("\n").map((line) => line.trimEnd());
}

/** Whether a prompt answer is a key rather than a value. */
export function isKey(answer: unknown): answer is Key {
  return answer instanceof Key;
}
