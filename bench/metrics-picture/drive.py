#!/usr/bin/env python3
"""Drives one silo through three phases (healthy, an upstream failing over, an app over its quota) while scraping
GET /metrics every SCRAPE seconds; writes the scrapes to a JSON file for render.py. Standard library only.

    drive.py BASE_URL OUT.json
"""
import json, sys, threading, time, urllib.request, urllib.error, random

BASE, OUT = sys.argv[1], sys.argv[2]
PHASE_SECONDS, SCRAPE, WORKERS = 20, 2, 8
KEY, TINY_KEY = "gk-picture-FAKE-key", "gk-picture-tiny-FAKE-key"

def call(key, model, text, temperature=None):
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    if temperature is not None:
        body["temperature"] = temperature
    request = urllib.request.Request(BASE + "/v1/chat/completions", json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as error:
        error.read()

phase = {"name": "healthy"}
stop = threading.Event()

def worker(n):
    i = 0
    while not stop.is_set():
        i += 1
        name = phase["name"]
        if name == "healthy":
            # A third repeat a small set of deterministic questions (cache hits), the rest are unique.
            if i % 3 == 0:
                call(KEY, "sim", f"faq {random.randint(0, 9)}", temperature=0)
            else:
                call(KEY, "sim", f"worker {n} call {i}")
        elif name == "failover":
            call(KEY, "chain" if i % 2 else "sim", f"worker {n} call {i}")
        elif n % 4 == 0:
            # Two workers for the app over its quota (each refused call waits out its max wait first), six for the rest.
            call(TINY_KEY, "sim", f"worker {n} call {i}")
        else:
            call(KEY, "sim", f"worker {n} call {i}")

scrapes = []
def scraper():
    while not stop.is_set():
        with urllib.request.urlopen(BASE + "/metrics", timeout=10) as response:
            scrapes.append({"t": time.time(), "phase": phase["name"], "text": response.read().decode()})
        stop.wait(SCRAPE)

threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)] + [threading.Thread(target=scraper)]
for t in threads:
    t.start()
for name in ["healthy", "failover", "over-quota"]:
    phase["name"] = name
    time.sleep(PHASE_SECONDS)
stop.set()
for t in threads:
    t.join()
json.dump(scrapes, open(OUT, "w"))
print(f"{len(scrapes)} scrapes written to {OUT}")
