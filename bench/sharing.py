"""Sharing under load: the verification service (核验) and the masked query through one ``govlink serve``.

In one run, on the same district (default 200,000 persons, every extract ingested and linked into the base
registries) and the same requests:

- GovLink: ``POST /api/sharing/verify/person`` and ``POST /api/sharing/query`` (100 rows of the household
  register under a grant, masked) called with a department's API token, every answer's transparency-log
  entry committed before it is sent;
- the anchor: a bare FastAPI app served the same way, doing the same lookup (the registry's entity by ID
  number, compared by name; 100 rows of the same published version) with no authentication, policy,
  masking or logging.

Load comes from ``wrk`` in a second process over loopback (Debian: ``apt-get install wrk``), 16 connections,
after a warm-up; requests/s, latency percentiles, and the overhead ratio (bare / GovLink throughput) are
printed and written to ``bench/results/sharing.json``. The log's size is read before and after each GovLink
run: it must have grown by at least the number of answers.

    python bench/sharing.py                        # 200,000 persons, SQLite
    python bench/sharing.py --persons 20000        # a quick look
    python bench/sharing.py --keep /tmp/district   # build once, reuse on the next run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import select, text

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM, Actor
from govlink.accounts.roles import Role
from govlink.accounts.schemas import TokenIn, UserIn
from govlink.accounts.scopes import Scope
from govlink.db.engine import make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.demo.generator import generate_district
from govlink.demo.resources import register_district_catalog
from govlink.demo.service import register_departments
from govlink.registry import service as registry
from govlink.registry.models import RegistryEntity
from govlink.settings import Settings
from govlink.sharing import service as sharing
from govlink.sharing.policy import SharingRules
from govlink.sharing.schemas import ShareRequestIn
from govlink.transparency.models import LogHead

RESULTS = Path(__file__).parent / "results"
PURPOSE = "最低生活保障资格审核"
HOUSEHOLDS = "ga_huji_renkou.csv"
ITEMS = ["姓名", "公民身份号码", "性别", "联系电话", "户籍地址"]
SAMPLE = 5_000  # persons whose name and ID number the load generator asks about


# --- the district ----------------------------------------------------------------------------------------------


def build(root: Path, persons: int, seed: int) -> dict[str, Any]:
    """Generate, ingest and link the district; make the consuming official, their token and their grant."""
    manifest = generate_district(root / "extracts", persons=persons, seed=seed)
    settings = Settings(data_dir=root / "data", database_url=None)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        register_departments(session)
        codes = dict(zip((e.file_name for e in manifest.extracts),
                         register_district_catalog(session, manifest, manifest.out_dir), strict=False))
    with sessions() as session, session.begin():
        registry.link(session, SYSTEM)
    with sessions() as session, session.begin():
        for username, role, department in (("bench.mz", Role.ANALYST, "MZ"), ("bench.ga", Role.APPROVER, "GA")):
            accounts.create_user(session, SYSTEM, UserIn(username=username, display_name=username, roles=[role],
                                                         department_code=department))
        token = accounts.create_token(session, SYSTEM, "bench.mz",
                                      TokenIn(name="低保审核系统", scopes=[Scope.SHARING_READ], expires_in_days=30),
                                      max_days=365).token
        rules = SharingRules.from_settings(settings)
        analyst = actor_of(session, "bench.mz")
        request = sharing.submit_request(session, analyst, ShareRequestIn(
            resource_code=codes[HOUSEHOLDS], purpose=PURPOSE, legal_basis="《社会救助暂行办法》第十一条",
            scenario="核对低保申请人的户籍信息", items=ITEMS, unmasked_items=["公民身份号码"], days=30), rules)
        grant = sharing.approve(session, actor_of(session, "bench.ga"), request.id, rules, comment="同意")
        sample = session.execute(select(RegistryEntity.key, RegistryEntity.name)
                                 .where(RegistryEntity.entity_type == "person", RegistryEntity.state == "active",
                                        RegistryEntity.name.is_not(None))
                                 .order_by(RegistryEntity.id).limit(SAMPLE)).all()
    engine.dispose()
    state = {"persons": persons, "token": token, "grant": grant.id, "resource": codes[HOUSEHOLDS],
             "people": [[key, name] for key, name in sample]}
    (root / "bench.json").write_text(json.dumps(state, ensure_ascii=False))
    return state


def actor_of(session: Any, username: str) -> Actor:
    return accounts.acting_as(accounts.user_by_username(session, username))


# --- the servers -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(command: list[str], env: dict[str, str], health: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"govlink-bench-sharing-{port}.log"
    with log.open("wb") as errors:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=errors)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + health, timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{command} did not start:\n{log.read_text(errors='replace')[-2000:]}")


def bare_app(database_url: str) -> Any:
    """The same lookups as a plain FastAPI app: no sign-in, no policy, no masking, no log."""
    from fastapi import FastAPI

    from govlink.catalog.models import Resource
    from govlink.ingest.models import DataVersion
    from govlink.standards.id_number import IdNumberError, parse_id_number
    from govlink.standards.names import normalise_person_name

    engine = make_engine(Settings(database_url=database_url))
    sessions = make_sessionmaker(engine)
    web = FastAPI()

    @web.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @web.post("/verify")
    def verify(body: Person) -> dict[str, str]:
        try:
            key = parse_id_number(body.id_number).value
        except IdNumberError:
            return {"verdict": "no"}
        with sessions() as session:  # the registry's own lookup: by type and key, the active one
            found = session.execute(select(RegistryEntity.name, RegistryEntity.state).where(
                RegistryEntity.entity_type == "person", RegistryEntity.key == key)).all()
        name = next((n for n, state in found if state == "active"), None)
        if name is None:
            return {"verdict": "unknown"}
        return {"verdict": "yes" if normalise_person_name(name) == normalise_person_name(body.name) else "no"}

    @web.post("/rows")
    def rows(body: Page) -> dict[str, Any]:
        with sessions() as session:
            version = session.scalar(select(DataVersion).join(Resource, Resource.id == DataVersion.resource_id)
                                     .where(DataVersion.state == "published", Resource.code == body.resource_code))
            assert version is not None
            fields = {c["item"]: c["field"] for c in version.columns if c["item"] in ITEMS}
            chosen = ", ".join(f'"{f}"' for f in fields.values())
            found = session.execute(text(f'SELECT {chosen} FROM "{version.table_name}" '
                                         "WHERE _accepted = 1 ORDER BY _record LIMIT 100 OFFSET :o"),
                                    {"o": body.offset}).all()
        return {"rows": [dict(zip(fields, r, strict=True)) for r in found]}

    return web


def serve_bare(port: int, database_url: str) -> None:
    import uvicorn

    uvicorn.run(bare_app(database_url), host="127.0.0.1", port=port, log_level="warning")


class Person(BaseModel):
    name: str
    id_number: str


class Page(BaseModel):
    resource_code: str
    offset: int = 0


# --- the load --------------------------------------------------------------------------------------------------


LUA = """
local bodies = %(bodies)s
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  i = i %% #bodies + 1
  return wrk.format(nil, "%(path)s", nil, bodies[i])
end
"""


def lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def load(base: str, path: str, bodies: list[dict[str, Any]], token: str | None, seconds: int,
         connections: int, scratch: Path) -> dict[str, Any]:
    """Drive ``path`` with wrk for ``seconds``: requests/s, latency percentiles, errors."""
    script = scratch / f"load-{abs(hash((base, path)))}.lua"
    script.write_text(LUA % {
        "bodies": "{" + ",".join(lua_string(json.dumps(b, ensure_ascii=False)) for b in bodies) + "}",
        "auth": f'wrk.headers["Authorization"] = "Bearer {token}"' if token else "", "path": path},
        encoding="utf-8")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base]
    subprocess.run([*command[:3], "-d2s", *command[4:]], capture_output=True, check=True)  # warm-up
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, Any]:
    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    percentiles = {f"p{p}_ms": ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", out, re.MULTILINE)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))),  # type: ignore[union-attr]
            "requests": requests, "non_2xx": int(failed.group(1)) if failed else 0, **percentiles}


def log_size(database_url: str) -> int:
    engine = make_engine(Settings(database_url=database_url))
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(LogHead.size)) or 0)
    finally:
        engine.dispose()


def measure(root: Path, state: dict[str, Any], seconds: int, connections: int) -> dict[str, Any]:
    database_url = f"sqlite:///{root / 'data' / 'govlink.db'}"
    engine = make_engine(Settings(database_url=database_url))
    upgrade(engine)  # a district kept from an earlier run may predate the code's newest migration
    engine.dispose()
    env = {**os.environ, "GOVLINK_DATA_DIR": str(root / "data"), "GOVLINK_DATABASE_URL": database_url}
    rng = random.Random(7)
    people = state["people"]
    verify_bodies = []
    for key, name in people:  # a third asks with a wrong name
        asked = name if rng.random() < 0.67 else rng.choice(people)[1]
        verify_bodies.append({"name": asked, "id_number": key, "purpose": PURPOSE})
    query_bodies = [{"resource_code": state["resource"], "purpose": PURPOSE, "grant_id": state["grant"],
                     "limit": 100, "items": ITEMS} for _ in range(1)]
    bare_rows = [{"resource_code": state["resource"], "offset": 0}]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        # Without the access log, as the bare app runs: both answer the same load, neither prints a line for it.
        process, base = start([sys.executable, "-m", "govlink", "serve", "--no-worker", "--no-access-log"], env,
                              "/api/health")
        try:
            probe = httpx.post(base + "/api/sharing/verify/person", json=verify_bodies[0],
                               headers={"Authorization": f"Bearer {state['token']}"}, timeout=10)
            probe.raise_for_status()
            rows = httpx.post(base + "/api/sharing/query", json=query_bodies[0],
                              headers={"Authorization": f"Bearer {state['token']}"}, timeout=30)
            rows.raise_for_status()
            assert len(rows.json()["rows"]) == 100, rows.text
            for label, path, bodies in (("verify", "/api/sharing/verify/person", verify_bodies),
                                        ("query", "/api/sharing/query", query_bodies)):
                before = log_size(database_url)
                figures = load(base, path, bodies, state["token"], seconds, connections, Path(scratch))
                figures["log_entries_added"] = log_size(database_url) - before
                result[f"govlink_{label}"] = figures
                print(f"GovLink {label}: {json.dumps(figures)}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
        process, base = start([sys.executable, __file__, "--bare-server", database_url], env, "/health")
        try:
            for label, path, bodies in (("verify", "/verify", verify_bodies), ("query", "/rows", bare_rows)):
                figures = load(base, path, bodies, None, seconds, connections, Path(scratch))
                result[f"bare_{label}"] = figures
                print(f"bare FastAPI {label}: {json.dumps(figures)}", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=Path, help="Build the district here once and reuse it on later runs.")
    parser.add_argument("--bare-server", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_bare(args.port, args.bare_server)
        return
    if shutil.which("wrk") is None:
        sys.exit("bench/sharing.py drives the server with wrk: apt-get install wrk")
    root = args.keep or Path(tempfile.mkdtemp(prefix="govlink-sharing-"))
    try:
        saved = root / "bench.json"
        if saved.exists() and json.loads(saved.read_text())["persons"] == args.persons:
            state = json.loads(saved.read_text())
            print(f"reusing the district built in {root}")
        else:
            started = time.perf_counter()
            state = build(root, args.persons, args.seed)
            print(f"district of {args.persons} persons built and linked in {time.perf_counter() - started:.0f} s")
        result: dict[str, Any] = {"persons": args.persons, "connections": args.connections,
                                  "seconds": args.seconds, **measure(root, state, args.seconds, args.connections)}
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    for label, target in (("verify", 2_000), ("query", 500)):
        ours, bare = result[f"govlink_{label}"], result[f"bare_{label}"]
        result[f"{label}_overhead_ratio"] = round(bare["requests_per_s"] / max(ours["requests_per_s"], 1), 2)
        print(f"{label}: GovLink {ours['requests_per_s']} req/s (target {target}), p99 {ours['p99_ms']} ms; "
              f"bare FastAPI {bare['requests_per_s']} req/s, p99 {bare['p99_ms']} ms; bare/GovLink "
              f"{result[f'{label}_overhead_ratio']}; log entries added {ours['log_entries_added']} for "
              f"{ours['requests']} answers")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sharing.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
