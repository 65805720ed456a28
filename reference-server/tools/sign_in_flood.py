"""Sign-in latency of a real user while THREADS threads flood sign-in with random unknown emails.

Usage: sign_in_flood.py PORT THREADS SECONDS EMAIL PASSWORD [one]

Start the server with `trusted_proxies = ["127.0.0.1"]` (so X-Forwarded-For counts). Each flood
thread is its own client (a distinct X-Forwarded-For), so the two-checks-per-address limit does
not stop the flood and this measures the shared argon2 slots and their bounded wait; with `one`,
every flood thread is the same client. The real user signs in every 0.2 s from 192.0.2.10.
Loopback only; stops by itself after SECONDS. Prints one JSON line.
"""
import http.client, json, random, string, sys, threading, time

PORT = int(sys.argv[1]); THREADS = int(sys.argv[2]); DURATION = float(sys.argv[3])
EMAIL, PASSWORD = sys.argv[4], sys.argv[5]; ONE = len(sys.argv) > 6 and sys.argv[6] == "one"
stop = time.time() + DURATION

def login(email, password, xff):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    body = json.dumps({"email": email, "password": password})
    t0 = time.perf_counter()
    c.request("POST", "/v1/partner/auth/login", body,
              {"Content-Type": "application/json", "X-Forwarded-For": xff})
    r = c.getresponse(); r.read(); c.close()
    return r.status, time.perf_counter() - t0

flood_status = {}
lock = threading.Lock()
def flood(i):
    while time.time() < stop:
        email = "".join(random.choices(string.ascii_lowercase, k=12)) + "@flood.test"
        st, _ = login(email, "whatever password", "203.0.113.66" if ONE else f"198.51.{i // 250}.{i % 250 + 1}")
        with lock: flood_status[st] = flood_status.get(st, 0) + 1

ts = [threading.Thread(target=flood, args=(i,)) for i in range(THREADS)]
for t in ts: t.start()
time.sleep(1)
user = []
while time.time() < stop - 1:
    user.append(login(EMAIL, PASSWORD, "192.0.2.10"))
    time.sleep(0.2)
for t in ts: t.join()
lat = sorted(l for _, l in user)
codes = {}
for s, _ in user: codes[s] = codes.get(s, 0) + 1
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(json.dumps({"threads": THREADS, "user_attempts": len(user), "user_status": codes,
  "user_p50_ms": round(q(0.5)*1000), "user_p90_ms": round(q(0.9)*1000), "user_max_ms": round(lat[-1]*1000),
  "flood_status": flood_status}))
