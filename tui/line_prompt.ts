/**
 * A line of text that starts filled in with the current value, to be edited: unlike @inquirer/input's
 * editable default, a line cleared to nothing answers "" (input would answer its default again).
 */
import {
  createPrompt,
  isEnterKey,
  makeTheme,
  type Status,
  useEffect,
  useKeypress,
  usePrefix,
  useState,
} from "@inquirer/core";

/** What the prompt asks. */
export interface LineConfig {
  message: string;
  /** The text on the line when the prompt opens. */
  initial: string;
  validate?: (value: string) => true | string;
}

/** The prompt; answers the line as it is when enter is pressed and `validate` accepts it. */
export const line = createPrompt<string, LineConfig>((config, done) => {
  const theme = makeTheme({});
  const [status, setStatus] = useState<Status>("idle");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const prefix = usePrefix({ status, theme });
  useEffect((rl) => {
    if (config.initial) {
      rl.write(config.initial);
      setValue(config.initial);
    }
  }, []);
  useKeypress((key, rl) => {
    if (status !== "idle") return;
    if (isEnterKey(key)) {
      const verdict = config.validate ? config.validate(value) : true;
      if (verdict === true) {
        setStatus("done");
        done(value);
      } else {
        rl.write(value);
        setError(verdict);
      }
      return;
    }
    setValue(rl.line);
    setError(undefined);
  });
  const shown = status === "done" ? theme.style.answer(value) : value;
  return [
    [prefix, theme.style.message(config.message, status), shown].join(" "),
    error ? theme.style.error(error) : "",
  ];
});
