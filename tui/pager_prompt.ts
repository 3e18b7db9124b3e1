/**
 * A page of text taller than the screen (on @inquirer/core, like ./menu_prompt.ts): ↑↓ or k/j
 * scroll a line, PgUp/PgDn or space a page, Home/End to the ends, enter closes. Marks above and
 * below say how many lines are out of sight, as the menu's do.
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

/** What the pager shows. */
export interface PagerConfig {
  message: string;
  /** The text, already cut to the screen's width. */
  lines: readonly string[];
  /** Rows for the text, marks included. */
  pageSize: number;
  /** The line of keys under the text. */
  keysHelp: string;
}

const HIDE_CURSOR = "\x1b[?25l";

/** The first line to show after a move to `wanted`, kept within the text. */
export function pagerTop(count: number, wanted: number, pageSize: number): number {
  const rows = count <= pageSize ? count : Math.max(1, pageSize - 2);
  return Math.min(Math.max(0, wanted), Math.max(0, count - rows));
}

/** The prompt; answers when enter is pressed. */
export const pager = createPrompt<true, PagerConfig>((config, done) => {
  const theme = makeTheme({});
  const [status, setStatus] = useState<Status>("idle");
  const prefix = usePrefix({ status, theme });
  const [top, setTop] = useState(0);
  const { lines, pageSize } = config;
  const fits = lines.length <= pageSize;
  const rows = fits ? lines.length : Math.max(1, pageSize - 2);

  useKeypress((key) => {
    if (status !== "idle") return;
    if (isEnterKey(key)) {
      setStatus("done");
      return done(true);
    }
    const page = Math.max(1, rows - 1);
    const moves: Record<string, number> = {
      up: top - 1,
      k: top - 1,
      down: top + 1,
      j: top + 1,
      pageup: top - page,
      pagedown: top + page,
      space: top + page,
      home: 0,
      end: lines.length,
    };
    const wanted = key.ctrl ? undefined : moves[key.name];
    if (wanted !== undefined) setTop(pagerTop(lines.length, wanted, pageSize));
  });

  const message = theme.style.message(config.message, status);
  if (status === "done") return `${prefix} ${message}`;
  const start = pagerTop(lines.length, top, pageSize);
  const below = lines.length - start - rows;
  const out = [
    `${prefix} ${message}`,
    ...(fits ? [] : [start ? styleText("dim", `  ↑ ${start} more`) : " "]),
    ...lines.slice(start, start + rows),
    ...(fits ? [] : [below > 0 ? styleText("dim", `  ↓ ${below} more`) : " "]),
    config.keysHelp,
  ];
  return `${out.join("\n").trimEnd()}${HIDE_CURSOR}`;
});
