"""`govlink witness`: an independent party cosigns only checkpoints consistent with the last it saw."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer

from govlink.cli.context import console, fail
from govlink.transparency.checkpoint import NoteError, SigningKey, Verifier, add_signature, open_note
from govlink.transparency.merkle import ProofError, verify_consistency


def witness(
    url: Annotated[str, typer.Option(help="Address of the GovLink platform, e.g. http://127.0.0.1:8000.")],
    key: Annotated[Path, typer.Option(help="The witness's Ed25519 key (PEM); made on first use.")],
    state: Annotated[Path, typer.Option(help="File where the witness keeps the last checkpoint it cosigned.")],
    log_key: Annotated[str, typer.Option("--log-key", help="The log's verifier key, obtained once and kept.")],
    name: Annotated[str, typer.Option(help="The witness's key name, e.g. audit.example/witness.")] = "witness",
    token: Annotated[
        str | None, typer.Option(envvar="GOVLINK_WITNESS_TOKEN", help="API token with transparency:witness.",
                                 show_default=False)
    ] = None,
) -> None:
    """Fetch the newest checkpoint, check it is signed by the log and consistent with the last one this
    witness saw (so the log cannot show two histories), cosign it and hand the cosignature back.

    The witness's verifier key is printed on first use: the platform lists it in GOVLINK_WITNESS_KEYS.
    """
    if not key.exists():
        key.write_bytes(SigningKey.generate(name).to_pem())
        key.chmod(0o600)
    signer = SigningKey.from_pem(name, key.read_bytes())
    console.print(f"witness key: {signer.public_key_vkey()}", highlight=False)
    verifier = Verifier.parse(log_key)
    with httpx.Client(base_url=url, timeout=30) as client:
        latest = client.get("/api/transparency/checkpoint").raise_for_status().json()
        try:
            checkpoint, _ = open_note(latest["checkpoint"], [verifier])
        except NoteError as exc:
            fail(f"the checkpoint is not signed by the log's key: {exc}")
        if state.exists():
            seen, _ = open_note(state.read_text(encoding="utf-8"), [verifier])
            if checkpoint.size < seen.size:
                fail(f"the log shrank from {seen.size} to {checkpoint.size} entries: refusing to cosign")
            if checkpoint.size == seen.size and checkpoint.root_hash != seen.root_hash:
                fail(f"two different trees of {seen.size} entries: the log shows two histories")
            if seen.size and checkpoint.size > seen.size:
                answer = client.get("/api/transparency/proof/consistency",
                                    params={"first": seen.size, "second": checkpoint.size}).raise_for_status()
                proof = [base64.b64decode(p) for p in answer.json()["proof"]]
                try:
                    verify_consistency(seen.size, checkpoint.size, proof, seen.root_hash, checkpoint.root_hash)
                except ProofError as exc:
                    fail(f"the new checkpoint is not consistent with the last one cosigned: {exc}")
        cosigned = add_signature(latest["checkpoint"], signer)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post("/api/transparency/cosign", headers=headers,
                               json={"checkpoint_id": latest["id"], "note": cosigned})
        if response.status_code >= 400:
            fail(f"the platform refused the cosignature: {json.dumps(response.json(), ensure_ascii=False)}")
    state.write_text(latest["checkpoint"], encoding="utf-8")
    console.print(f"cosigned checkpoint {latest['id']} ({checkpoint.size} entries)")
