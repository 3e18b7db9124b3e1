/**
 * The terminal the admin UI draws on, and its prompts with the UI's keys: every prompt comes from
 * @inquirer/prompts (the editable line from ./line_prompt.ts, on @inquirer/core); a key such as `q`, `?` or Esc stops the prompt through its abort signal and is
 * returned as a {@link Key}, so each screen decides what the key means.
 */
import { line } from "./line_prompt.ts";
import { AbortPromptError, ExitPromptError } from "@inquirer/core";
import { menu } from "./menu_prompt.ts";
import { pager } from "./pager_prompt.ts";
import { checkbox, confirm, input, number, password, search } from "@inquirer/prompts";
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import { styleText } from "node:util";

/** Where the UI reads keys and writes screens; tests pass streams instead of the real terminal. */
export interface Terminal {
  input: Readable;
  output: Writable;
  /** Columns and rows; 80×24 when unknown. */
  size(): { columns: number; rows: number };
  /** Calls `listener` when the terminal is resized, until the function returned is called. */
  onResize?(listener: () => void): () => void;
}

/** The process's own terminal. */
export function processTerminal(): Terminal {
  return {
    input: process.stdin,
    output: process.stdout,
    size() {
      try {
        return Deno.consoleSize();
      } catch {
        return { columns: 80, rows: 24 };
      }
    },
    onResize(listener) {
      try {
        Deno.addSignalListener("SIGWINCH", listener);
      } catch {
        return () => {}; // No SIGWINCH (Windows): the screen is fitted again at the next draw.
      }
      return () => Deno.removeSignalListener("SIGWINCH", listener);
    },
  };
}

/** A key the user pressed instead of answering a prompt. */
export class Key {
  /** `name` is what the key means ("back"); `pressed` the key itself ("q", "escape"). */
  constructor(readonly name: string, readonly pressed: string = name) {}
}

/** Ctrl+C (or the terminal closing): leave the UI at once. */
export class QuitSignal extends Error {
  override name = "QuitSignal";
}

/** A choice in a menu or list. */
export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
  disabled?: boolean | string;
}

interface KeyEvent {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
}

type Context = { input: Readable; output: Writable; signal: AbortSignal };

const RESIZED = Symbol("resized");

/** What the standard keys mean on every screen. */
const STANDARD_KEYS: Record<string, string> = { q: "back", escape: "back", "?": "help" };

/** Prompts on one terminal, each with the keys that may stop it. */
export class Prompts {
  constructor(readonly terminal: Terminal) {}

  /** Draws the screen above the prompt again (the UI sets it); called when the terminal is resized. */
  redraw?: () => void;

  /**
   * Runs one prompt; if the user presses one of `keys` (single characters, or "escape") the prompt
   * stops and that key is returned (q and Esc as "back", ? as "help"). Ctrl+C throws {@link QuitSignal}.
   * When the terminal is resized the screen is drawn again and the prompt asked anew.
   */
  async ask<T>(prompt: (context: Context) => Promise<T>, keys: readonly string[] = []): Promise<T | Key> {
    for (;;) {
      const answer = await this.#askOnce(prompt, keys);
      if (answer !== RESIZED) return answer;
      this.redraw?.();
    }
  }

  async #askOnce<T>(
    prompt: (context: Context) => Promise<T>,
    keys: readonly string[],
  ): Promise<T | Key | typeof RESIZED> {
    const { input: stream, output } = this.terminal;
    const controller = new AbortController();
    let pressed: string | undefined;
    let resized = false;
    const stopResize = this.terminal.onResize?.(() => {
      if (pressed) return;
      resized = true;
      controller.abort();
    });
    const listener = (text: string | undefined, key: KeyEvent | undefined) => {
      if (pressed) return;
      // A lone Esc arrives as "escape" with meta set; other keys count only without modifiers.
      const name = key?.name === "escape" ? "escape" : key?.ctrl || key?.meta ? undefined : text;
      if (name && keys.includes(name)) {
        pressed = name;
        controller.abort();
      }
    };
    stream.on("keypress", listener);
    try {
      return await prompt({ input: stream, output, signal: controller.signal });
    } catch (error) {
      if (error instanceof AbortPromptError && resized) return RESIZED;
      if (error instanceof AbortPromptError && pressed) {
        return new Key(STANDARD_KEYS[pressed] ?? pressed, pressed);
      }
      if (error instanceof ExitPromptError) throw new QuitSignal("Interrupted");
      throw error;
    } finally {
      stream.off("keypress", listener);
      stopResize?.();
    }
  }

  /**
   * A menu (./menu_prompt.ts): arrows or k/j, PgUp/PgDn, Home/End move, enter picks a choice. `q`/Esc returns the Key "back", `?` the Key "help", and
   * each of `keys` (e.g. `["/", "search"]`) its own Key; all of them are listed in the help line.
   */
  menu<T>(
    message: string,
    choices: readonly Choice<T>[],
    options: {
      keys?: readonly [string, string][];
      back?: string;
      /** Rows for the choices; a function is asked again when the terminal is resized. */
      pageSize?: number | (() => number);
      default?: T;
      /** False inside a form, where `?` has no help page to open (default true). */
      help?: boolean;
    } = {},
  ): Promise<T | Key> {
    const extra = options.keys ?? [];
    const withHelp = options.help ?? true;
    const keysHelp = keyLine([
      ["↑↓", "move"],
      ["enter", "select"],
      ...extra,
      ["q/esc", options.back ?? "back"],
      ...(withHelp ? [["?", "help"] as const] : []),
    ]);
    const { pageSize = 10 } = options;
    // The choice under the cursor, so that a menu asked again after a resize keeps it.
    let current = options.default;
    return this.ask((context) =>
      menu({
        message,
        choices,
        pageSize: typeof pageSize === "function" ? pageSize() : pageSize,
        default: current,
        keysHelp,
        onMove: (value) => current = value as T,
      }, context) as Promise<T>, [...extra.map(([key]) => key), "q", "escape", ...(withHelp ? ["?"] : [])]);
  }

  /**
   * Text that may be taller than the screen (./pager_prompt.ts): it scrolls; enter, q or Esc return
   * the Key "back", each of `keys` its own Key.
   */
  async page(
    message: string,
    lines: readonly string[],
    options: { pageSize: () => number; keys?: readonly [string, string][] },
  ): Promise<Key> {
    const extra = options.keys ?? [];
    const keysHelp = keyLine([["↑↓ PgUp/PgDn", "scroll"], ...extra, ["enter/q/esc", "back"]]);
    const answer = await this.ask(
      (context) => pager({ message, lines, pageSize: options.pageSize(), keysHelp }, context),
      [...extra.map(([key]) => key), "q", "escape"],
    );
    return answer instanceof Key ? answer : new Key("back", "enter");
  }

  /**
   * A line of text; Esc cancels (returns a Key). With `editable` the line starts as the default, to be
   * edited, and clearing it answers ""; otherwise an empty line answers the default.
   */
  text(
    message: string,
    options: { default?: string; editable?: boolean; validate?: (value: string) => true | string } = {},
  ): Promise<string | Key> {
    if (options.editable) {
      return this.ask(
        (context) => line({ message, initial: options.default ?? "", validate: options.validate }, context),
        ["escape"],
      );
    }
    return this.ask(
      (context) => input({ message, default: options.default, validate: options.validate }, context),
      ["escape"],
    );
  }

  /** A whole number; blank gives undefined unless `required`. */
  number(
    message: string,
    options: { default?: number; min?: number; max?: number; required?: boolean } = {},
  ): Promise<number | undefined | Key> {
    return this.ask((context) =>
      number({
        message,
        default: options.default,
        min: options.min,
        max: options.max,
        step: 1,
        required: options.required ?? false,
      }, context), ["escape"]);
  }

  /** Yes or no. */
  yesNo(message: string, defaultAnswer = false): Promise<boolean | Key> {
    return this.ask((context) => confirm({ message, default: defaultAnswer }, context), ["escape"]);
  }

  /** A secret typed with a mask. */
  secret(message: string, validate?: (value: string) => true | string): Promise<string | Key> {
    return this.ask((context) => password({ message, mask: "*", validate }, context), ["escape"]);
  }

  /** Several of a fixed set of values. */
  several<T>(message: string, choices: readonly (Choice<T> & { checked?: boolean })[]): Promise<T[] | Key> {
    return this.ask((context) => checkbox({ message, choices, loop: false }, context), ["escape"]);
  }

  /** Search as you type: `source` is asked again for each new term. */
  find<T>(
    message: string,
    source: (term: string) => Promise<readonly Choice<T>[]>,
    pageSize = 10,
  ): Promise<T | Key> {
    return this.ask((context) =>
      search({
        message,
        pageSize,
        source: (term) => source(term ?? ""),
        theme: {
          style: {
            keysHelpTip: () =>
              keyLine([["type", "search"], ["↑↓", "move"], ["enter", "open"], ["esc", "back"]]),
          },
        },
      }, context), ["escape"]);
  }
}

/** The help line of keys: `↑↓ move · enter select · q back`. */
export function keyLine(keys: readonly (readonly [string, string])[]): string {
  return keys.map(([key, action]) => `${styleText("bold", key)} ${action}`).join(" · ");
}
