"""The peer of `loadtest/src/bench_app.rs`: Flask-Pusher 3.0, same key, secret and handlers.

`scripts/bench` runs it under gunicorn with two sync workers on 127.0.0.1:

    gunicorn -w 2 -k sync -b 127.0.0.1:18103 --chdir loadtest/peers flask_pusher_app:app

Routes, as the Rust bench app (so the same wrk scripts load both):

* Flask-Pusher's own: `POST /pusher/auth` (single and batch) and the webhook routes
  `POST /pusher/events/{channel_existence,presence,client}`;
* `POST /hooks/presence`: the app's own route checking key and signature on the raw body
  (as Flask-Pusher does), then parsing the JSON and keeping the presence events, which
  is what `VerifiedWebhook<PresenceEvent>` does;
* `POST /floor`: read the body, answer a fixed string.

Flask-Pusher has no user sign-in route, so `user_auth.lua` is not run against it.
"""

from flask import Flask, abort, request
from flask_pusher import Pusher
from pusher.signature import verify

KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"

app = Flask(__name__)
app.config.update(PUSHER_APP_ID="1234", PUSHER_KEY=KEY, PUSHER_SECRET=SECRET)
pusher = Pusher(app)

# Webhook events the handlers saw, as in the Rust app.
events_seen = 0


def count(n):
    global events_seen
    events_seen += n


@pusher.auth
def authorize(channel_name, socket_id):
    return True


@pusher.channel_data
def channel_data(channel_name, socket_id):
    return {"user_id": "alice", "user_info": {"name": "Alice"}}


@pusher.webhooks.channel_existence
def on_channel_existence():
    count(len(request.get_json()["events"]))


@pusher.webhooks.presence
def on_presence():
    count(len(request.get_json()["events"]))


@pusher.webhooks.client
def on_client_event():
    count(len(request.get_json()["events"]))


@app.post("/hooks/presence")
def presence_hook():
    if request.headers.get("X-Pusher-Key") != KEY:
        abort(403)
    body = request.get_data(as_text=True)
    signature = request.headers.get("X-Pusher-Signature")
    if not signature or not verify(SECRET, body, signature):
        abort(403)
    hook = request.get_json()
    presence = [e for e in hook["events"] if e["name"] in ("member_added", "member_removed")]
    count(len(presence))
    return "{}"


@app.post("/floor")
def floor():
    request.get_data()
    return "OK"
