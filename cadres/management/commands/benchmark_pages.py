"""python manage.py benchmark_pages [--user city --user cadre] [--page /contacts/] [...]

Page speed on the current database (seeds nothing), measured the way production serves it:
1. collect static files and start gunicorn on a free loopback port with the production settings
   (DEBUG off, manifest static files) and LIANQING_BENCHMARK=1, which adds the timing middleware
   and the bare-Django floor page (config/benchmark.py) to that server only;
2. log in as each chosen user through the login form;
3. per page: a few warm-up requests, then `--serial` requests one at a time (server ms from the
   Server-Timing header: p50 and p95, and the p50 of the request thread's CPU time, which a
   loaded machine moves far less; queries from X-Queries; response bytes), then a bounded
   load of `--requests` requests over `--concurrency` threads (stdlib http.client, keep-alive,
   at most `--max-seconds` per page) for req/s;
4. the floor page the same way in the same run, and every page's req/s as a ratio of its;
5. stop gunicorn.
Loopback only: the server binds 127.0.0.1 and the client talks to nothing else.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cadres.demo import DEMO_PASSWORD
from cadres.models import User

FLOOR = "/__benchmark__/floor/"
STAFF_PAGES = [
    "/",
    "/assessment/",
    "/assessment/bulletin/",
    "/assessment/scores/",
    "/assessment/flags/",
    "/contacts/needs/",
    "/cadres/",
    "/cadres/youths/",
    "/contacts/",
    "/activities/",
]
# For users with admin access: the two admin lists over millions of rows (contacts, youths).
ADMIN_PAGES = ["/admin/contacts/contact/", "/admin/cadres/youth/"]
CADRE_PAGES = ["/", "/contacts/new/", "/cadres/me/youths/", "/contacts/dormant/"]
WARMUP = 3
_DUR = re.compile(r"app;dur=([0-9.]+)")
_CPU = re.compile(r"cpu;dur=([0-9.]+)")
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Result:
    path: str
    status: int = 0
    server_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # the request thread's CPU time
    queries: int = 0
    size: int = 0
    rps: float = 0.0
    done: int = 0

    def p(self, q: float) -> float:
        values = sorted(self.server_ms)
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Client:
    """One keep-alive connection to the loopback server with a cookie jar of its own."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        headers = dict(headers or {})
        headers["Host"] = "127.0.0.1"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response, data

    def close(self) -> None:
        self.conn.close()


class Command(BaseCommand):
    help = "页面性能测试：用 gunicorn 和生产设置，逐页测服务器用时、查询数、大小和吞吐，并与空白 Django 页对比"

    def add_arguments(self, parser):
        parser.add_argument("--user", action="append", dest="users", default=None)
        parser.add_argument("--page", action="append", dest="pages", default=None)
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument("--serial", type=int, default=15)
        parser.add_argument("--requests", type=int, default=60)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--max-seconds", type=float, default=20.0)
        parser.add_argument("--worker-class", default="gthread")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--mix",
            type=int,
            default=0,
            help="并发用户混合测试的用户数（如 200：160 名工作人员、40 名团干部）；0 表示不测",
        )
        parser.add_argument("--mix-cadres", type=float, default=0.2)
        parser.add_argument("--mix-seconds", type=float, default=60.0)
        parser.add_argument("--think", type=float, default=3.0, help="用户两次点击之间的平均秒数")
        parser.add_argument(
            "--split-pool",
            action="store_true",
            help="看板类页面由第二个 gunicorn 池处理（模拟 nginx 按路径分流）",
        )
        parser.add_argument("--staff-workers", type=int, default=1)
        parser.add_argument("--staff-threads", type=int, default=4)
        parser.add_argument(
            "--staff-nice", type=int, default=0, help="看板池进程的 nice 值（0–19，越大越让出 CPU）"
        )
        parser.add_argument(
            "--staff-all",
            action="store_true",
            help="工作人员的全部请求（含首页）都走看板池（模拟 nginx 按登录角色 Cookie 分流）",
        )

    def handle(self, *args, **opts):
        if not os.environ.get("DATABASE_URL"):
            raise CommandError("请用 DATABASE_URL 指定要测试的数据库（与生产相同的 PostgreSQL）。")
        users = opts["users"] or ["province", "cadre"]
        found = {u.username: u for u in User.objects.filter(username__in=users)}
        missing = [u for u in users if u not in found]
        if missing:
            raise CommandError(f"找不到用户：{', '.join(missing)}")
        env = self._server_env()
        self._collectstatic(env)
        port = _free_port()
        server = self._start(env, port, opts)
        servers = [server]
        staff_port = port
        if opts["split_pool"]:
            staff_port = _free_port()
            servers.append(
                self._start(
                    env,
                    staff_port,
                    {
                        **opts,
                        "workers": opts["staff_workers"],
                        "threads": opts["staff_threads"],
                        "nice": opts["staff_nice"],
                    },
                    label="看板池",
                )
            )
        try:
            self._wait_ready(port, server)
            if staff_port != port:
                self._wait_ready(staff_port, servers[1])
            # Once untimed: every worker process loads its code and opens its connection.
            self._measure(Client(port), FLOOR, opts)
            floor = self._measure(Client(port), FLOOR, opts)
            self._header(opts)
            self._row("-", floor, floor)
            for username in users:
                cookies = self._login(port, username, opts["password"])
                user = found[username]
                pages = opts["pages"] or (
                    CADRE_PAGES if user.role == User.Role.CADRE else STAFF_PAGES
                ) + (ADMIN_PAGES if user.is_staff and not opts["pages"] else [])
                for path in pages:
                    self._row(username, self._measure(Client(port, cookies), path, opts), floor)
            again = self._measure(Client(port), FLOOR, opts)
            self._row("-", again, floor)
            self.stdout.write(
                f"空白页（floor，{FLOOR}）：一条查询按姓名排序全部团干部；开头与结尾各测一次："
                f"{floor.rps:.0f} 与 {again.rps:.0f} 次/秒。比值以开头一次为准。"
            )
            if opts["mix"]:
                sessions = {name: self._login(port, name, opts["password"]) for name in users}
                self._mix(port, staff_port, sessions, found, opts)
        finally:
            for process in servers:
                process.send_signal(signal.SIGTERM)
            for process in servers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    # --- The server ---------------------------------------------------------------------------

    def _server_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback; TLS ends at the proxy
            LIANQING_BENCHMARK="1",
            LIANQING_DEMO="1",  # the demo logins of seed_demo
            DJANGO_LOG_LEVEL="WARNING",
        )
        return env

    def _collectstatic(self, env: dict[str, str]) -> None:
        # The manifest storage of production refuses to render a page without it.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )

    def _start(self, env: dict[str, str], port: int, opts, label: str = "主池") -> subprocess.Popen:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            opts["worker_class"],
            "--workers",
            str(opts["workers"]),
            "--threads",
            str(opts["threads"]),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]
        self.stdout.write(
            f"{label}：gunicorn {opts['worker_class']}，"
            f"{opts['workers']} 个进程 × {opts['threads']} 线程，"
            f"127.0.0.1:{port}，生产设置（DEBUG 关闭）"
        )
        nice = int(opts.get("nice") or 0)
        if nice:
            # The pool yields the CPU to the main pool's requests (cadres, the quick log) when
            # both want it; its PostgreSQL backends are not reniced (the database may be remote).
            cmd = ["nice", "-n", str(nice), *cmd]
        return subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=env)

    def _wait_ready(self, port: int, server: subprocess.Popen) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("gunicorn 启动失败（见上方输出）。")
            try:
                response, _ = Client(port).request("GET", FLOOR)
                if response.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise CommandError("gunicorn 90 秒内没有就绪。")

    # --- The client ---------------------------------------------------------------------------

    def _login(self, port: int, username: str, password: str) -> dict[str, str]:
        client = Client(port)
        response, data = client.request("GET", "/accounts/login/")
        match = _CSRF.search(data.decode("utf-8", "replace"))
        if response.status != 200 or not match:
            raise CommandError(f"登录页异常：HTTP {response.status}")
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)}
        )
        response, _ = client.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        client.close()
        if response.status != 302 or "sessionid" not in client.cookies:
            raise CommandError(f"{username} 登录失败（HTTP {response.status}），请检查密码。")
        return client.cookies

    def _measure(self, client: Client, path: str, opts) -> Result:
        result = Result(path)
        for _ in range(WARMUP):
            response, data = client.request("GET", path)
        for _ in range(opts["serial"]):
            response, data = client.request("GET", path)
            result.status = response.status
            result.size = len(data)
            result.queries = int(response.getheader("X-Queries") or 0)
            timing = response.getheader("Server-Timing") or ""
            if match := _DUR.search(timing):
                result.server_ms.append(float(match.group(1)))
            if match := _CPU.search(timing):
                result.cpu_ms.append(float(match.group(1)))
        cookies = client.cookies
        client.close()
        if result.status != 200:
            return result
        # Bounded load: `requests` in total over `concurrency` keep-alive connections, and no
        # new request once `max_seconds` have passed.
        lock = threading.Lock()
        budget = [opts["requests"]]
        stop_at = time.monotonic() + opts["max_seconds"]

        def worker() -> int:
            own = Client(client.port, cookies)
            n = 0
            try:
                while time.monotonic() < stop_at:
                    with lock:
                        if budget[0] <= 0:
                            break
                        budget[0] -= 1
                    own.request("GET", path)
                    n += 1
            finally:
                own.close()
            return n

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=opts["concurrency"]) as pool:
            result.done = sum(pool.map(lambda _: worker(), range(opts["concurrency"])))
        result.rps = result.done / (time.perf_counter() - t0)
        return result

    # --- The concurrent mix -------------------------------------------------------------------

    def _mix(self, port: int, staff_port: int, sessions, found, opts) -> None:
        """`--mix` users at once for `--mix-seconds`: a share `--mix-cadres` are cadres on the
        cadre pages, the rest staff on the staff pages (the chosen logins in turn). Each user
        clicks, waits for the whole response, reads for a random time around `--think`
        seconds (exponential), clicks again. Latency is what the user waits (client side,
        queueing included). With `--split-pool` the staff-only pages go to the second pool,
        as the nginx locations of docs/performance.md would send them."""
        n = opts["mix"]
        n_cadres = round(n * opts["mix_cadres"])
        cadre_logins = [u for u in sessions if found[u].role == User.Role.CADRE]
        staff_logins = [u for u in sessions if found[u].role != User.Role.CADRE]
        if (n_cadres and not cadre_logins) or (n - n_cadres and not staff_logins):
            raise CommandError("混合测试需要至少一个团干部账号和一个工作人员账号（--user）。")
        plan = [("cadre", cadre_logins[i % len(cadre_logins)]) for i in range(n_cadres)]
        plan += [("staff", staff_logins[i % len(staff_logins)]) for i in range(n - n_cadres)]
        samples: dict[str, list[float]] = {"cadre": [], "staff": []}
        errors = {"cadre": 0, "staff": 0}
        lock = threading.Lock()
        stop_at = time.monotonic() + opts["mix_seconds"]

        def user(index: int) -> None:
            role, login = plan[index]
            rng = random.Random(index)
            pages = CADRE_PAGES if role == "cadre" else STAFF_PAGES
            clients = {
                port: Client(port, sessions[login]),
                staff_port: Client(staff_port, sessions[login]),
            }
            time.sleep(rng.uniform(0, opts["think"]))  # users arrive spread out, not at once
            try:
                while time.monotonic() < stop_at:
                    path = rng.choice(pages)
                    to_pool = opts["staff_all"] or _staff_pool(path)
                    target = staff_port if role == "staff" and to_pool else port
                    t0 = time.perf_counter()
                    try:
                        response, _ = clients[target].request("GET", path)
                        ok = response.status < 500
                    except (OSError, http.client.HTTPException):
                        ok = False
                    waited = (time.perf_counter() - t0) * 1000
                    with lock:
                        samples[role].append(waited)
                        errors[role] += not ok
                    time.sleep(rng.expovariate(1 / opts["think"]) if opts["think"] else 0)
            finally:
                for client in clients.values():
                    client.close()

        self.stdout.write(
            f"并发混合：{n} 名用户（工作人员 {n - n_cadres}、团干部 {n_cadres}），"
            f"{opts['mix_seconds']:.0f} 秒，平均思考 {opts['think']:.1f} 秒"
            + ("，看板页走第二个池" if staff_port != port else "，单池")
        )
        t0 = time.perf_counter()
        threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
        self.stdout.write(
            f"{'角色':<6} {'请求':>6} {'错误':>5} {'p50 ms':>8} {'p95 ms':>8} {'最长 ms':>8} "
            f"{'次/秒':>7}"
        )
        for role in ("cadre", "staff"):
            r = Result(role, server_ms=samples[role])
            median = statistics.median(r.server_ms) if r.server_ms else 0.0
            self.stdout.write(
                f"{role:<6} {len(r.server_ms):>6} {errors[role]:>5} {median:>8.0f} "
                f"{r.p(0.95):>8.0f} {r.p(1.0):>8.0f} {len(r.server_ms) / elapsed:>7.1f}"
            )

    # --- Output -------------------------------------------------------------------------------

    def _header(self, opts) -> None:
        self.stdout.write(
            f"每页先顺序请求 {opts['serial']} 次（服务器用时与 CPU 用时取自 Server-Timing），"
            f"再以 {opts['concurrency']} 个并发连接请求至多 {opts['requests']} 次"
            f"（每页至多 {opts['max_seconds']:.0f} 秒）测吞吐。"
        )
        self.stdout.write(
            f"{'用户':<8} {'页面':<28} {'状态':>4} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8} "
            f"{'查询':>5} {'KB':>7} {'次/秒':>7} {'×空白页':>7}"
        )

    def _row(self, username: str, r: Result, floor: Result) -> None:
        ratio = r.rps / floor.rps if floor.rps else 0.0
        median = statistics.median(r.server_ms) if r.server_ms else 0.0
        cpu = statistics.median(r.cpu_ms) if r.cpu_ms else 0.0
        self.stdout.write(
            f"{username:<8} {r.path:<28} {r.status:>4} {median:>8.1f} {r.p(0.95):>8.1f} "
            f"{cpu:>8.1f} {r.queries:>5} {r.size / 1024:>7.1f} {r.rps:>7.1f} {ratio:>7.3f}"
        )


# Staff-only pages that a second pool may take (docs/performance.md, "Deployment"): the
# dashboards, rankings and registers; the home page, the quick log and everything a cadre or a
# youth opens stay on the main pool.
STAFF_POOL_PREFIXES = ("/assessment/", "/admin/")
STAFF_POOL_PATHS = ("/cadres/", "/cadres/youths/", "/contacts/", "/contacts/needs/")


def _staff_pool(path: str) -> bool:
    return path.startswith(STAFF_POOL_PREFIXES) or path.split("?")[0] in STAFF_POOL_PATHS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
