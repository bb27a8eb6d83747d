"""``pb keys generate`` (the city's record signing key) and ``pb record export`` (a cycle's election record)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

PRIVATE_KEY_FILE = "record_signing_key.pem"
PUBLIC_KEY_FILE = "record_signing_key.pub.pem"


@click.group("keys")
def keys() -> None:
    """The key that signs election records."""


@keys.command("generate")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False), help="Folder for the key pair.")
def keys_generate(folder: str) -> None:
    """Make an Ed25519 key pair: the private key (mode 0600, for records.signing_key_path) and its public key."""
    from pb import record_format

    directory = Path(folder)
    private_path, public_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if private_path.exists():
        raise click.ClickException(f"{private_path} exists already: a key is never overwritten")
    private, public = record_format.generate_key()
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(public)
    fingerprint = record_format.fingerprint(record_format.load_public_key(public))
    click.echo(f"private key {private_path} (keep it secret; set records.signing_key_path to it)")
    click.echo(f"public key  {public_path}")
    click.echo(f"fingerprint {fingerprint}")


@click.group("record")
def record() -> None:
    """Election records."""


@record.command("export")
@click.option("--cycle", "slug", required=True, help="The cycle's slug.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The zip file to write.")
@with_appcontext
def record_export(slug: str, out: str) -> None:
    """Write the signed election record of a cycle whose result is published."""
    from pb.extensions import db_session
    from pb.services.cycles import get_cycle
    from pb.services.errors import DomainError
    from pb.services.records import build_record, load_signing_key

    session = db_session()
    cycle = get_cycle(session, slug)
    if cycle is None:
        raise click.ClickException(f"no cycle {slug!r}")
    try:
        data = build_record(session, cycle, load_signing_key(current_app.config["SIGNING_KEY_PATH"]))
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    finally:
        session.rollback()  # it only reads
    Path(out).write_bytes(data)
    click.echo(f"{out}: election record of {slug}, {len(data):,} bytes")
