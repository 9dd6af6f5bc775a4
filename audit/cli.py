"""``edlink audit verify [--checkpoint FILE]`` and ``edlink audit checkpoint``.

verify exits 0 printing the count and head when the trail is intact; otherwise 1 with one
line naming the first bad sequence number and the kind of problem.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from audit import audit_key
from audit.checkpoint import CheckpointError, load_checkpoint, make_checkpoint
from audit.verify import verify
from edlink.extensions import db


@click.group("audit")
def audit_group():
    """The audit trail: verify its hash chain, take checkpoints."""


@audit_group.command("verify")
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="A checkpoint taken earlier: also detect truncation or a rewrite since then.")
@with_appcontext
def verify_command(checkpoint_file: str | None):
    """Check every event's hash and link; exit 1 at the first bad sequence number."""
    key = audit_key()
    checkpoint = None
    if checkpoint_file:
        try:
            with open(checkpoint_file, "rb") as fh:
                checkpoint = load_checkpoint(fh.read(), key)
        except OSError as exc:
            raise click.ClickException(f"cannot read {checkpoint_file}: {exc.strerror}") from exc
        except CheckpointError as exc:
            raise click.ClickException(f"{checkpoint_file}: {exc}") from exc
    try:
        result = verify(key, checkpoint)
    finally:
        db.session.rollback()
    if not result.ok:
        raise click.ClickException(result.line())
    click.echo(result.line())


@audit_group.command("checkpoint")
@with_appcontext
def checkpoint_command():
    """Verify the trail and print its head as a signed JSON document to keep elsewhere."""
    try:
        checkpoint = make_checkpoint(audit_key())
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.rollback()
    click.echo(checkpoint.to_json())
