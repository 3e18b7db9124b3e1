/**
 * The dispatch table: every command the session answers, the states it is valid in and its
 * handler, in one place to grep. A command the decoder parses but that is missing here is answered
 * `BAD … is not supported yet` (the selected state's commands are added with their handlers).
 */
import type { CommandBody } from "../command.ts";
import type { CommandEntry, SessionState } from "../session.ts";
import {
  capability,
  compress,
  enable,
  id,
  idle,
  logout,
  namespace,
  noop,
  nothingSelected,
} from "./general.ts";
import { fetch } from "./fetch.ts";
import { authenticate, login, starttls } from "./login.ts";
import { store } from "./store.ts";
import { append } from "./append.ts";
import { copyOrMove } from "./copy.ts";
import { getAcl, getQuota, getQuotaRoot, listRights, myRights, setAcl, setQuota } from "./acl_quota.ts";
import { search, sort, thread } from "./search.ts";
import { close, expunge, select, unselect } from "./select.ts";
import { create, deleteMailbox, list, lsub, rename, statusCommand, subscribe } from "./mailboxes.ts";

const ANY: readonly SessionState[] = ["notAuthenticated", "authenticated", "selected"];
const BEFORE_LOGIN: readonly SessionState[] = ["notAuthenticated"];
const LOGGED_IN: readonly SessionState[] = ["authenticated", "selected"];
const SELECTED: readonly SessionState[] = ["selected"];

/** Command name → entry. */
export const COMMANDS: Partial<Record<CommandBody["name"], CommandEntry>> = {
  CAPABILITY: { states: ANY, run: capability },
  NOOP: { states: ANY, expunges: true, run: noop },
  LOGOUT: { states: ANY, run: logout },
  ID: { states: ANY, run: id },
  STARTTLS: { states: BEFORE_LOGIN, run: starttls },
  LOGIN: { states: BEFORE_LOGIN, run: login },
  AUTHENTICATE: { states: BEFORE_LOGIN, run: authenticate },
  ENABLE: { states: LOGGED_IN, run: enable },
  NAMESPACE: { states: LOGGED_IN, run: namespace },
  COMPRESS: { states: LOGGED_IN, run: compress },
  IDLE: { states: LOGGED_IN, run: idle },
  SELECT: { states: LOGGED_IN, synced: true, run: select },
  EXAMINE: { states: LOGGED_IN, synced: true, run: select },
  UNSELECT: { states: LOGGED_IN, run: (s, c) => s.selected ? unselect(s, c) : nothingSelected(s, c) },
  CLOSE: { states: LOGGED_IN, run: (s, c) => s.selected ? close(s, c) : nothingSelected(s, c) },
  CHECK: { states: SELECTED, expunges: true, run: noop },
  EXPUNGE: { states: SELECTED, expunges: true, run: expunge },
  LIST: { states: LOGGED_IN, run: list },
  LSUB: { states: LOGGED_IN, run: lsub },
  STATUS: { states: LOGGED_IN, run: statusCommand },
  CREATE: { states: LOGGED_IN, run: create },
  DELETE: { states: LOGGED_IN, run: deleteMailbox },
  RENAME: { states: LOGGED_IN, run: rename },
  SUBSCRIBE: { states: LOGGED_IN, run: subscribe },
  UNSUBSCRIBE: { states: LOGGED_IN, run: subscribe },
  MYRIGHTS: { states: LOGGED_IN, run: myRights },
  GETACL: { states: LOGGED_IN, run: getAcl },
  LISTRIGHTS: { states: LOGGED_IN, run: listRights },
  SETACL: { states: LOGGED_IN, run: setAcl },
  DELETEACL: { states: LOGGED_IN, run: setAcl },
  GETQUOTA: { states: LOGGED_IN, run: getQuota },
  GETQUOTAROOT: { states: LOGGED_IN, run: getQuotaRoot },
  SETQUOTA: { states: LOGGED_IN, run: setQuota },
  FETCH: { states: ["selected"], run: fetch },
  STORE: { states: ["selected"], run: store },
  SEARCH: { states: ["selected"], run: search },
  SORT: { states: ["selected"], run: sort },
  THREAD: { states: ["selected"], run: thread },
  APPEND: { states: LOGGED_IN, expunges: true, run: append },
  COPY: { states: ["selected"], expunges: true, run: copyOrMove },
  // RFC 6851 §3.3: MOVE's own expunges are written by the handler; the sync may add others.
  MOVE: { states: ["selected"], expunges: true, run: copyOrMove },
};
