/**
 * The menu every screen uses (on @inquirer/core, like ./line_prompt.ts): ↑↓ or k/j move, PgUp/PgDn a
 * page, Home/End to the ends, enter picks. When the choices do not fit, a mark above and below says
 * how many more there are (`↑ 3 more`, `↓ 12 more`), which @inquirer/select does not.
 */
import {
  createPrompt,
  isEnterKey,
  makeTheme,
  type Status,
  useKeypress,
  usePrefix,
  useState,
} from "@inquirer/core";
import { styleText } from "node:util";

/** A choice of the menu. */
export interface MenuChoice<T> {
  value: T;
  name: string;
  description?: string;
  disabled?: boolean | string;
}

/** What the menu shows. */
export interface MenuConfig<T> {
  message: string;
  choices: readonly MenuChoice<T>[];
  /** Rows for the choices, marks included. */
  pageSize: number;
  default?: T;
  /** The line of keys under the menu. */
  keysHelp: string;
  /** Told the choice under the cursor after each move (to put it back after a redraw). */
  onMove?: (value: T) => void;
}

const HIDE_CURSOR = "\x1b[?25l";

/** Which rows of `count` choices to show so that `active` is visible, from the top shown before. */
export function menuWindow(
  count: number,
  active: number,
  options: { pageSize: number; top: number },
): { top: number; rows: number } {
  if (count <= options.pageSize) return { top: 0, rows: count };
  // Two rows go to the marks, at least one to a choice.
  const rows = Math.max(1, options.pageSize - 2);
  let top = Math.min(Math.max(0, options.top), count - rows);
  if (active < top) top = active;
  if (active >= top + rows) top = active - rows + 1;
  return { top, rows };
}

/** The prompt; answers the value of the choice picked. */
export const menu = createPrompt<unknown, MenuConfig<unknown>>((config, done) => {
  const theme = makeTheme({});
  const [status, setStatus] = useState<Status>("idle");
  const prefix = usePrefix({ status, theme });
  const { choices, pageSize } = config;
  const start = choices.findIndex((c) => c.value === config.default);
  const [active, setActive] = useState(start === -1 ? 0 : start);
  const [top, setTop] = useState(0);
  const [error, setError] = useState<string | undefined>(undefined);
  const page = menuWindow(choices.length, active, { pageSize, top });
  const last = choices.length - 1;

  useKeypress((key) => {
    if (status !== "idle") return;
    setError(undefined);
    const choice = choices[active];
    if (isEnterKey(key)) {
      if (choice.disabled) return setError("This choice cannot be picked now.");
      setStatus("done");
      return done(choice.value);
    }
    const step = Math.max(1, page.rows - 1);
    const moves: Record<string, number> = {
      up: active - 1,
      k: active - 1,
      down: active + 1,
      j: active + 1,
      pageup: active - step,
      pagedown: active + step,
      home: 0,
      end: last,
    };
    const target = key.ctrl ? undefined : moves[key.name];
    if (target === undefined) return;
    const next = Math.min(last, Math.max(0, target));
    setActive(next);
    setTop(menuWindow(choices.length, next, { pageSize, top: page.top }).top);
    config.onMove?.(choices[next].value);
  });

  const message = theme.style.message(config.message, status);
  const chosen = choices[active];
  if (status === "done") return `${prefix} ${message} ${theme.style.answer(chosen.name.trim())}`;
  const shown = choices.slice(page.top, page.top + page.rows).map((choice, i) => {
    const here = page.top + i === active;
    const line = `${here ? "❯" : " "} ${choice.name}`;
    if (choice.disabled) {
      return styleText("dim", `${line} ${typeof choice.disabled === "string" ? choice.disabled : ""}`);
    }
    return here ? theme.style.highlight(line) : line;
  });
  const fits = page.rows === choices.length;
  const above = page.top;
  const below = choices.length - page.top - page.rows;
  const lines = [
    `${prefix} ${message}`,
    ...(fits ? [] : [above ? styleText("dim", `  ↑ ${above} more`) : " "]),
    ...shown,
    ...(fits ? [] : [below ? styleText("dim", `  ↓ ${below} more`) : " "]),
    " ",
    chosen.description ? styleText("cyan", chosen.description) : "",
    error ? theme.style.error(error) : "",
    config.keysHelp,
  ].filter((line, i) => i === 0 || line !== "");
  return `${lines.join("\n").trimEnd()}${HIDE_CURSOR}`;
});
