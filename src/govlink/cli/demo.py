"""`govlink demo`: build the synthetic district and serve it, or only generate its files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govlink.cli.context import Platform, console, fail, platform, progress_bar
from govlink.kit.errors import GovLinkError

app = typer.Typer(
    help="Build a synthetic district (departments, accounts, department extracts), load it into a fresh "
    "embedded database under ./govlink-data and serve it at http://127.0.0.1:8000.",
)

Persons = Annotated[int, typer.Option(min=10, help="How many persons live in the district.")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed makes the same district.")]


@app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    persons: Persons = 20_000,
    seed: Seed = 42,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Folder for the demo's database and files (default ./govlink-data or "
                     "GOVLINK_DATA_DIR); replaced if it holds an earlier demo.", show_default=False),
    ] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web app when the district is "
                                        "built (--no-serve: build, then exit).")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build the demo district and serve it."""
    if ctx.invoked_subcommand is not None:
        return
    from govlink.demo.service import build_demo  # numpy and openpyxl load only when needed

    data_dir = data_dir or platform(ctx).settings.data_dir
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("starting", total=1.0)
        try:
            result = build_demo(
                data_dir, persons=persons, seed=seed,
                progress=lambda step, fraction: bar.update(task, description=step, completed=fraction),
            )
        except GovLinkError as exc:
            fail(exc.message)
    elapsed = time.perf_counter() - started
    manifest = result.manifest
    console.print(
        f"\nDistrict built in {elapsed:.1f} s: {manifest.persons:,} persons, {manifest.enterprises:,} enterprises, "
        f"{len(manifest.extracts)} department extracts in {data_dir / 'extracts'}"
    )
    linked = result.registry
    if linked:
        console.print(f"Base registries: {linked['mentions']:,} mentions linked into {linked['entities']:,} persons "
                      f"and enterprises, {linked['review_pending']:,} pairs to review", markup=False)
    traffic = result.sharing
    if traffic:
        console.print(f"Sharing: request #{traffic.granted} granted (grant #{traffic.grant}, {traffic.rows_read} rows "
                      f"read), #{traffic.refused} refused with its reason, #{traffic.pending} waiting for an answer",
                      markup=False)
    table = Table("username", "password", "role", "department / speaks for",
                  title="Demo accounts (passwords shown once)")
    for account in result.accounts:
        speaks_for = result.subjects.get(account.username)
        table.add_row(account.username, account.password, ", ".join(account.roles),
                      account.department_code or speaks_for or "-")
    console.print(table)
    if not serve:
        return
    url = f"http://{host}:{port}"
    console.print(f"\n[bold]GovLink is at {url}[/] — open it in a browser, click “登录 / Sign in” and use one of "
                  "the accounts above. Ctrl-C stops it.\n")
    from govlink.cli.main import run_server

    run_server(Platform({"data_dir": data_dir, "database_url": None}), host, port, worker=True)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the extracts and ground truth into.")],
    persons: Persons = 20_000,
    enterprises: Annotated[int | None, typer.Option(help="How many enterprises (default: persons / 10).",
                                                    show_default=False)] = None,
    seed: Seed = 42,
) -> None:
    """Only write the district's department extracts and ground truth (no database)."""
    from govlink.demo.generator import generate_district

    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("generating", total=1.0)
        manifest = generate_district(
            out, persons=persons, enterprises=enterprises, seed=seed,
            progress=lambda step, fraction: bar.update(task, description=step, completed=fraction),
        )
    console.print(f"wrote {len(manifest.extracts)} extracts for {manifest.persons:,} persons and "
                  f"{manifest.enterprises:,} enterprises to {out} in {time.perf_counter() - started:.1f} s")
    console.print(json.dumps([e["file_name"] for e in manifest.to_dict()["extracts"]], ensure_ascii=False))
