#!/usr/bin/env python3
"""Write the seed corpora in fuzz/seeds/<target>/ from tests/fixtures/vectors.json (the
recorded pusher-js and pusher-js-auth bodies, the official libraries' webhooks, channel
names, user ids and credentials) plus a few hand-written cases. Rerun after the vectors
change: `python3 fuzz/make_seeds.py`."""

import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = json.loads((HERE.parent / "tests/fixtures/vectors.json").read_text())
OUT = HERE / "seeds"


def write(target, items):
    d = OUT / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    seen = set()
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        if data in seen:
            continue
        seen.add(data)
        (d / f"seed-{len(seen):03}").write_bytes(data)
    print(f"{target}: {len(seen)} seeds")


def walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


objects = list(walk(VECTORS))

# auth_form: the recorded bodies, then variants.
bodies = [r["request"]["body"] for r in VECTORS["client_auth_requests"]["requests"]]
write("auth_form", bodies + [
    "socket_id=1.2&channel_name%5B0%5D=private-a&channel_name%5B1%5D=private-encrypted-b",
    "callback=Pusher.auth_callbacks%5B%271%27%5D&socket_id=123.456&channel_name=private-a",
    "socket_id=1.2&channel_name=presence-a+b&x=%E2%98%83",
    "socket_id=1.2&channel_name[0]=a&channel_name[0]=a&channel_name=b",
    "socket_id=99999999999.99999999999",
])

# webhook: every webhook body in the vectors, plus events of every kind.
hooks = [o["body"] for o in objects if isinstance(o.get("body"), str) and '"time_ms"' in o["body"]]
write("webhook", hooks + [
    '{"time_ms":1,"events":[{"name":"subscription_count","channel":"c","subscription_count":"7"},'
    '{"name":"cache_miss","channel":"cache-x"},{"name":"member_removed","channel":"presence-a","user_id":"u"}]}',
    '{"time_ms":2,"events":[{"name":"client_event","channel":"private-x","event":"client-hi",'
    '"data":{"a":[1,2.5,null]},"socket_id":"1.2","user_id":"u"}]}',
    '{"time_ms":3,"events":[{"name":"member_updated","channel":"d","x":1e400}]}',
])

# names: channel names, user ids and socket ids from the vectors.
names = set()
for o in objects:
    for k in ("channel", "socket_id", "user_id", "channel_name", "id"):
        v = o.get(k)
        if isinstance(v, str) and len(v) < 300:
            names.add(v)
    cd = o.get("channel_data")
    if isinstance(cd, dict):
        names.add(json.dumps(cd, separators=(",", ":")))
    elif isinstance(cd, str):
        names.add(cd)
write("names", sorted(names) + [
    "#server-to-user-1", "private-encrypted-" + "x" * 146, "caf\u00e9", "1.2.3",
    '{"user_id":9007199254740991}', '{"user_id":1e3}',
])

# config_toml: the credentials of the vectors in every key of the table.
creds = VECTORS["inputs"]["credentials"]
mk = VECTORS["inputs"]["master_keys"]["mk_sequential"]
configs = []
for c in creds.values():
    configs.append(f'app_id = "{c["app_id"]}"\nkey = "{c["key"]}"\nsecret = "{c["secret"]}"\n')
    configs.append(f'url = "https://{c["key"]}:{c["secret"]}@api-eu.pusher.com/apps/{c["app_id"]}"\n')
full = (
    'app_id = "1234"\nkey = "KEY"\nsecret = "SUPERSECRET"\ncluster = "eu"\n'
    'host = "http://127.0.0.1:6001/"\nport = 6001\nuse_tls = false\ntimeout = 2.5\n'
    f'encryption_master_key_base64 = "{mk}"\nmax_payload_bytes = 20480\nmax_batch_events = 5\n'
    'transport = "recording"\nmount_routes = true\nmount = "/api/pusher"\nauth_path = "/auth"\n'
    'user_auth_path = "/user-auth"\nwebhook_path = "/events"\nwebhook_body_limit = "64 KiB"\n'
    'webhook_max_age = 300\nmax_batch_channels = 10\njsonp = true\n'
    'webhook_tokens = [{key = "old", secret = "old-secret"}]\n'
    '[retry]\nattempts = 4\ninitial_delay = 0.05\nmax_delay = 1.5\nretry_writes = true\n'
)
configs += [full, 'url = "http://KEY:SUPER%2FSECRET@127.0.0.1:6001/apps/1"\n',
            'app_id = "1"\nkey = "k"\nsecret = "s"\n[retry]\nattempts = 0\n']
write("config_toml", configs)

# client_response: STATUS[!]\nRETRY-AFTER\nBODY, replies of every endpoint and error.
write("client_response", [
    "200\n\n{}",
    '200\n\n{"channels":{"presence-a":{"user_count":3},"b":{}}}',
    '200\n\n{"occupied":true,"user_count":2,"subscription_count":5,"cache":{"data":"x","ttl":10}}',
    '200\n\n{"users":[{"id":"1"},{"id":"2"}]}',
    '200\n\n{"batch":[{"user_count":1},{}]}',
    '200\n\n{"ok":true}',
    "202\n\n",
    "200!\n\n{\"channels\":",
    "401\n\nInvalid signature: you should have sent HmacSHA256Hex(\"POST\\n/apps/1/events\\nauth_key=k\", your_secret_key)",
    '429\n7\n{"error":"rate limited"}',
    "429\nWed, 21 Oct 2015 07:28:00 GMT\nslow down",
    "429\nSun, 06 Nov 2094 08:49:37 GMT\n",
    "503\n\n<html>proxy</html>",
    "500!\n\n" + "x" * 3000,
    "418\n\n\xff\xfe",
])
