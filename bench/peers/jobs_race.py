"""The jobs race of `make bench ARGS=jobs`: fib-service's background jobs against Celery, the same work both sides.

Celery (Debian's python3-celery) with Redis as broker and result backend, acks_late, prefetch 1, a task computing
F(n) with Python's integers. Both sides submit the same number of jobs as fast as they are accepted and detect DONE the
way their users do: Celery's AsyncResult.get(); fib-service's job events (the ops port's /jobs/events stream,
subscribed before the first submit). Submit-to-start at an empty queue: one job at a time, from just before the submit
to the start (Celery: the time the task began, taken inside the worker; fib-service: the RUNNING event's arrival, so
its figure also carries the event's trip back).

  python3 jobs_race.py worker REDIS_URL CONCURRENCY         the Celery worker (runs until killed)
  python3 jobs_race.py celery REDIS_URL JOBS N PROBES       Celery's side; one JSON line
  python3 jobs_race.py fib HTTP_URL OPS_URL JOBS N PROBES   fib-service's side; one JSON line
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor


def percentile(values, p):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))] if s else None


def celery_app(redis_url):
    from celery import Celery
    app = Celery("jobs_race", broker=redis_url, backend=redis_url)
    app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, task_serializer="json",
                    result_serializer="json", accept_content=["json"], broker_connection_retry_on_startup=True)

    @app.task(name="fib")
    def fib(n):
        started = time.time()
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        # the digits, as fib-service stores them
        return {"digits": len(str(a)), "started": started}

    return app, fib


def run_celery(redis_url, jobs, n, probes):
    app, fib = celery_app(redis_url)
    fib.delay(1).get(timeout=60)  # the worker is up and warm
    t0 = time.time()
    results = [fib.delay(n) for _ in range(jobs)]
    accepted = time.time()
    for r in results:
        r.get(timeout=600)
    done = time.time()
    starts = []
    for _ in range(probes):
        before = time.time()
        started = fib.delay(10).get(timeout=60)["started"]
        starts.append((started - before) * 1000)
    return {"side": "celery", "jobs": jobs, "n": n, "jobsPerSecond": jobs / (done - t0),
            "submitSeconds": accepted - t0, "startP50Ms": percentile(starts, 50), "startP99Ms": percentile(starts, 99)}


class Events:
    """The ops port's /jobs/events stream, read on a thread of its own: DONE and RUNNING events by job id."""

    def __init__(self, ops_url):
        u = urllib.parse.urlparse(ops_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        self.conn.request("GET", "/jobs/events")
        self.resp = self.conn.getresponse()
        self.cond = threading.Condition()
        self.done = set()
        self.running = {}
        first = self.resp.readline()  # ": subscribed": nothing is missed from here on
        assert first.startswith(b":"), first
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.resp:
            if not line.startswith(b"data: "):
                continue
            e = json.loads(line[6:])
            with self.cond:
                if e.get("status") == "DONE":
                    self.done.add(e["id"])
                elif e.get("status") == "RUNNING" and "progress" not in e:
                    self.running.setdefault(e["id"], time.time())
                self.cond.notify_all()

    def wait(self, pred, timeout):
        with self.cond:
            return self.cond.wait_for(pred, timeout)


def run_fib(http_url, ops_url, jobs, n, probes):
    u = urllib.parse.urlparse(http_url)
    local = threading.local()

    def submit(body):
        if not hasattr(local, "c"):
            local.c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while True:
            local.c.request("POST", "/jobs", body, {"Content-Type": "application/json"})
            r = local.c.getresponse()
            data = r.read()
            if r.status in (200, 202):
                return json.loads(data)["id"]
            if r.status != 503:
                raise RuntimeError("submit: %d %s" % (r.status, data[:200]))
            time.sleep(0.01)

    events = Events(ops_url)
    warm = submit(json.dumps({"n": 1}))
    events.wait(lambda: warm in events.done, 60)
    body = json.dumps({"n": n})
    t0 = time.time()
    # as Celery's delay() does, one connection per submitting thread; 8 threads keep the submits from being the limit
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: submit(body), range(jobs)))
    accepted = time.time()
    wanted = set(ids)
    ok = events.wait(lambda: wanted <= events.done, 600)
    done = time.time()
    if not ok:
        raise RuntimeError("not all DONE: %d of %d" % (len(wanted & events.done), jobs))
    starts = []
    for _ in range(probes):
        before = time.time()
        jid = submit(json.dumps({"n": 10}))
        events.wait(lambda: jid in events.running, 60)
        starts.append((events.running[jid] - before) * 1000)
    return {"side": "fib-service", "jobs": jobs, "n": n, "jobsPerSecond": jobs / (done - t0),
            "submitSeconds": accepted - t0, "startP50Ms": percentile(starts, 50), "startP99Ms": percentile(starts, 99)}


def main(argv):
    if argv[1] == "worker":
        app, _ = celery_app(argv[2])
        app.worker_main(["worker", "--concurrency", argv[3], "--pool", "prefork", "--loglevel", "WARNING",
                         "--without-heartbeat", "--without-gossip", "--without-mingle"])
    elif argv[1] == "celery":
        print(json.dumps(run_celery(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))))
    elif argv[1] == "fib":
        print(json.dumps(run_fib(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
