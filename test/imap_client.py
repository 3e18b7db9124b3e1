"""Drives Python's imaplib through a list of steps (test/imap_*_test.ts).

Reads a JSON object on stdin: port, tls ("starttls" or "implicit"), steps: a list of
[method, *args] where method is an IMAP4 method (login, capability, list, status, create,
delete, rename, subscribe, unsubscribe, lsub, namespace, getacl, myrights, setacl, deleteacl,
getquota, getquotaroot, logout, noop, enable) or one of:
  ["authenticate", mechanism, user, secret]  (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER)
  ["compress"]                                 (COMPRESS DEFLATE; imaplib has no support: raw)
  ["append", mailbox, flags, date, text]       (APPEND; the message given as text)
  ["idle", seconds]                            (IDLE until an untagged response or `seconds`, then
                                                DONE; "IDLING" is printed on stderr once idling, so
                                                the test can change the mailbox meanwhile)
Prints a JSON list with one entry per step: {"typ": "OK"|"NO"|"BAD", "data": [...]} or
{"error": "..."} when imaplib raised (a NO to LOGIN raises IMAP4.error).
"""
import imaplib
import json
import select
import ssl
import sys

job = json.load(sys.stdin)
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, tuple):
        return [text(v) for v in value]
    if isinstance(value, list):
        return [text(v) for v in value]
    return value


def authenticate(client, mechanism, user, secret):
    if mechanism == "PLAIN":
        return client.authenticate("PLAIN", lambda _: f"\0{user}\0{secret}")
    if mechanism == "LOGIN":
        answers = iter([user, secret])
        return client.authenticate("LOGIN", lambda _: next(answers))
    if mechanism == "XOAUTH2":
        first = f"user={user}\x01auth=Bearer {secret}\x01\x01"
    else:
        first = f"n,a={user},\x01auth=Bearer {secret}\x01\x01"
    sent = []

    def answer(_challenge):
        # The first call is the response; a later one answers the server's JSON error challenge.
        if sent:
            return "\x01" if mechanism == "OAUTHBEARER" else ""
        sent.append(True)
        return first

    return client.authenticate(mechanism, answer)


def idle(client, seconds):
    # Python 3.11's imaplib has no IDLE (3.14 adds one): the exchange by hand.
    tag = client._new_tag().decode()
    client.send(f"{tag} IDLE\r\n".encode())
    lines = [client.readline().decode().strip()]
    print("IDLING", file=sys.stderr, flush=True)
    # select, not a socket timeout: a timed-out socket file cannot be read again.
    if client.sock.pending() if hasattr(client.sock, "pending") else False:
        lines.append(client.readline().decode().strip())
    elif select.select([client.sock], [], [], seconds)[0]:
        lines.append(client.readline().decode().strip())
    client.send(b"DONE\r\n")
    while not lines[-1].startswith(tag + " "):
        lines.append(client.readline().decode().strip())
    return lines[-1].split(" ")[1], lines


results = []
try:
    if job["tls"] == "implicit":
        client = imaplib.IMAP4_SSL("127.0.0.1", job["port"], ssl_context=context, timeout=60)
    else:
        client = imaplib.IMAP4("127.0.0.1", job["port"], timeout=60)
        client.starttls(ssl_context=context)
    for step in job["steps"]:
        method, *args = step
        try:
            if method == "authenticate":
                typ, data = authenticate(client, *args)
            elif method == "append":
                mailbox, flags, date, message = args
                typ, data = client.append(mailbox, flags, date, message.encode())
            elif method == "idle":
                typ, data = idle(client, args[0])
            elif method == "raw":
                # A command imaplib does not know (LISTRIGHTS, CREATE with USE…) is sent as given.
                imaplib.Commands.setdefault(args[0], ("AUTH", "SELECTED"))
                typ, data = client._simple_command(*args)
                name = args[0]
                data = client.untagged_responses.pop(name, data)
            else:
                typ, data = getattr(client, method)(*args)
            results.append({"typ": typ, "data": text(data)})
        except (imaplib.IMAP4.error, imaplib.IMAP4.abort) as error:
            results.append({"error": str(error)})
            if isinstance(error, imaplib.IMAP4.abort):
                break
except Exception as error:  # noqa: BLE001 - reported to the test
    results.append({"error": f"{type(error).__name__}: {error}"})
print(json.dumps(results))
