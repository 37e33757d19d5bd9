"""`govlink audit`: verify the transparency log, publish checkpoints, check one entry offline."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated

import typer

from govlink.cli.context import console, fail, platform
from govlink.kit.canonical import canonical_json
from govlink.transparency import service
from govlink.transparency.checkpoint import NoteError, Verifier, open_note
from govlink.transparency.merkle import ProofError, leaf_hash, verify_inclusion
from govlink.transparency.verify import verify_log

app = typer.Typer(help="Verify the transparency log and publish its signed checkpoints.", no_args_is_help=True)


def _log_verifier(ctx: typer.Context, vkey: str | None) -> Verifier:
    if vkey:
        return Verifier.parse(vkey)
    settings = platform(ctx).settings
    if not settings.log_key_path.exists():
        fail(f"no log key at {settings.log_key_path}; give the log's public key with --log-key")
    return service.load_or_create_key(settings.log_key_path, settings.log_origin).verifier()


LogKey = Annotated[
    str | None,
    typer.Option("--log-key", help="The log's verifier key (from /api/transparency/public-key); default: the "
                 "key in the data folder.", show_default=False),
]


@app.command()
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="A signed checkpoint note kept outside the database (by a witness or "
                     "an auditor); repeatable. With --proof: the checkpoint to check one entry against.",
                     show_default=False),
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option("--proof", help="An inclusion proof (JSON from /api/transparency/proof/inclusion, with "
                     "`event` and `salt` to check the event itself): check one entry offline.",
                     show_default=False),
    ] = None,
    log_key: LogKey = None,
) -> None:
    """Re-derive the whole log from its stored entries and check every checkpoint and signature.

    With --checkpoint FILE --proof FILE, check one entry offline against one checkpoint instead (no database).
    Exits 0 when everything verifies and 1 naming each problem otherwise.
    """
    verifier = _log_verifier(ctx, log_key)
    notes = [p.read_text(encoding="utf-8") for p in checkpoint or []]
    if proof is not None:
        document = json.loads(proof.read_text(encoding="utf-8"))
        if not notes and isinstance(document.get("checkpoint"), str):
            notes = [document["checkpoint"]]  # a proof downloaded from "my record" carries its checkpoint
        if len(notes) != 1:
            fail("checking a proof offline needs exactly one checkpoint (--checkpoint FILE)")
        _verify_offline(notes[0], document, verifier)
        return
    target = platform(ctx)
    settings = target.settings
    witnesses = [Verifier.parse(v) for v in settings.witness_keys]
    with target.transaction(write=False) as session:
        report = verify_log(session, verifier, witnesses, notes)
    console.print(f"{report.entries:,} entries ({report.erased:,} erased bodies), {report.checkpoints} checkpoints, "
                  f"{report.cosignatures} witness cosignatures checked")
    if report.ok:
        console.print("the log verifies: nothing was altered, removed, reordered or rolled back")
        return
    for problem in report.problems:
        console.print(f"[bold red]✗[/] {problem}", highlight=False)
    raise typer.Exit(1)


def _verify_offline(note: str, document: dict[str, object], verifier: Verifier) -> None:
    try:
        checkpoint, _names = open_note(note, [verifier])
        index, size = int(str(document["index"])), int(str(document["size"]))
        leaf = base64.b64decode(str(document["leaf_hash"]))
        if "event" in document and "salt" in document:
            body = canonical_json(document["event"])
            if leaf_hash(base64.b64decode(str(document["salt"])) + body) != leaf:
                fail("the event and salt do not hash to the proof's leaf")
        if size != checkpoint.size:
            fail(f"the proof is for a tree of {size} entries, the checkpoint has {checkpoint.size}")
        path = [base64.b64decode(p) for p in document["proof"]]  # type: ignore[attr-defined]
        verify_inclusion(index, size, leaf, path, checkpoint.root_hash)
    except (NoteError, ProofError, KeyError, ValueError) as exc:
        fail(f"does not verify: {exc}")
    console.print(f"entry {index} is in the log of {size} entries signed by {checkpoint.origin}")


@app.command(name="checkpoint")
def publish_checkpoint(ctx: typer.Context) -> None:
    """Publish a signed checkpoint of the log now and print its note."""
    target = platform(ctx)
    key = service.load_or_create_key(target.settings.log_key_path, target.settings.log_origin)
    with target.transaction() as session:
        row = service.publish_checkpoint(session, key, service.LogTree())
        note = row.note
    console.print(note, end="", highlight=False, markup=False)


@app.command(name="public-key")
def public_key(ctx: typer.Context) -> None:
    """Print the log's verifier key, for witnesses and third-party verifiers."""
    settings = platform(ctx).settings
    console.print(service.load_or_create_key(settings.log_key_path, settings.log_origin).public_key_vkey(),
                  highlight=False, markup=False)
