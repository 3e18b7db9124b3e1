"""Submits one message with Python's smtplib (test/smtp_submission_*_test.ts).

Reads a JSON object on stdin: port, tls ("starttls" or "implicit"), mechanism (PLAIN, LOGIN,
XOAUTH2, OAUTHBEARER), user, secret (password or access token), mail_from, rcpt_to (list), message.
Prints a JSON object: {"ok": true} or {"ok": false, "code": N, "reply": "..."}.
"""
import json
import smtplib
import ssl
import sys

job = json.load(sys.stdin)
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE


def bearer_response(mechanism):
    user, token = job["user"], job["secret"]
    if mechanism == "XOAUTH2":
        first = f"user={user}\x01auth=Bearer {token}\x01\x01"
    else:
        first = f"n,a={user},\x01host=127.0.0.1\x01port={job['port']}\x01auth=Bearer {token}\x01\x01"
    sent = []

    def answer(challenge=None):
        # The first call is the initial response; a later one answers the server's error challenge.
        if sent:
            return "\x01" if mechanism == "OAUTHBEARER" else ""
        sent.append(True)
        return first

    return answer


try:
    if job["tls"] == "implicit":
        client = smtplib.SMTP_SSL("127.0.0.1", job["port"], context=context, timeout=60)
    else:
        client = smtplib.SMTP("127.0.0.1", job["port"], timeout=60)
        client.ehlo("python.test")
        client.starttls(context=context)
    client.ehlo("python.test")
    mechanism = job["mechanism"]
    client.user, client.password = job["user"], job["secret"]
    if mechanism == "PLAIN":
        client.auth("PLAIN", client.auth_plain)
    elif mechanism == "LOGIN":
        client.auth("LOGIN", client.auth_login, initial_response_ok=False)
    else:
        client.auth(mechanism, bearer_response(mechanism))
    client.sendmail(job["mail_from"], job["rcpt_to"], job["message"].encode("utf-8"))
    client.quit()
    print(json.dumps({"ok": True}))
except smtplib.SMTPResponseException as error:
    print(json.dumps({"ok": False, "code": error.smtp_code, "reply": error.smtp_error.decode("utf-8", "replace")}))
except smtplib.SMTPRecipientsRefused as error:
    code, reply = list(error.recipients.values())[0]
    print(json.dumps({"ok": False, "code": code, "reply": reply.decode("utf-8", "replace")}))
