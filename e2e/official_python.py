"""Drives the official Python server library (PyPI `pusher`, pinned in requirements.txt)
against the e2e's Pusher-protocol server, for e2e/official.test.mjs.

    official_python.py COMMAND '{"arg": ...}'

prints one JSON line: {"ok": <the library's result>} or {"status": <HTTP status>, "body":
"<the server's answer>", "error": "<exception class>"} when the library raises. The server
is 127.0.0.1:$E2E_SOCKUDO_PORT, app 1234, key KEY; "secret" in the arguments overrides the
secret (to test a wrong one), and "master_key" sets encryption_master_key_base64 (for
private-encrypted- channels).
"""

import json
import os
import sys

import pusher
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherBadStatus, PusherForbidden
from pusher.http import POST, Request

APP_ID, KEY, SECRET = "1234", "KEY", "SUPERSECRET"
STATUS = {PusherBadRequest: 400, PusherBadAuth: 401, PusherForbidden: 403}


def client(args):
    return pusher.Pusher(
        app_id=APP_ID,
        key=KEY,
        secret=args.get("secret", SECRET),
        host="127.0.0.1",
        port=int(os.environ.get("E2E_SOCKUDO_PORT", "6001")),
        ssl=False,
        encryption_master_key_base64=args.get("master_key"),
    )


def signed_post(p, path, body):
    """A POST the library signs and sends itself, to a path of our choosing."""
    inner = p._pusher_client
    return inner.http.send_request(Request(inner, POST, path, body))


def run(command, args):
    p = client(args)
    if command == "trigger":
        return p.trigger(args["channels"], args["event"], args["data"], args.get("socket_id"))
    if command == "batch":
        return p.trigger_batch(args["batch"])
    if command == "channels":
        return p.channels_info(args.get("prefix"), args.get("info", []))
    if command == "channel":
        return p.channel_info(args["channel"], args.get("info", []))
    if command == "users":
        return p.users_info(args["channel"])
    if command == "terminate":
        return p.terminate_user_connections(args["user"])
    if command == "terminate-documented":
        # 3.3.4's terminate_user_connections leaves /apps/<id> out of the path; the same
        # library-signed request on the documented path is what works.
        return signed_post(p, "/apps/%s/users/%s/terminate_connections" % (APP_ID, args["user"]), {})
    if command == "validate-webhooks":
        # Each webhook as received: the library's parsed body, or None when it refuses it.
        return [p.validate_webhook(h["key"], h["signature"], h["body"]) for h in args["hooks"]]
    if command == "post":
        # A body the library's own methods would refuse to build (bad input for the server).
        return signed_post(p, "/apps/%s/%s" % (APP_ID, args["path"]), args["body"])
    raise SystemExit("official_python.py: unknown command %r" % command)


def main():
    command, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    try:
        out = {"ok": run(command, args)}
    except PusherBadStatus as e:
        status, _, body = str(e).partition(": ")
        out = {"status": int(status), "body": body, "error": type(e).__name__}
    except tuple(STATUS) as e:
        out = {"status": STATUS[type(e)], "body": str(e), "error": type(e).__name__}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
