"""`leasecheck keygen`, `bundle` and `verify`: signed, verifiable results."""

from __future__ import annotations

from pathlib import Path

import click

from leasecheck.cli.errors import UsageFailure

# Each command imports leasecheck.conformance.bundle when it runs (nacl, httpx): `--help` stays fast.


@click.command("keygen")
@click.argument("keyfile", type=click.Path(dir_okay=False))  # a str: Path("") would read as "."
def keygen_command(keyfile: str) -> None:
    """Create an Ed25519 signing key (file mode 0600) and print its public key (base64)."""
    from leasecheck.conformance.bundle import BundleError, keygen

    if not keyfile.strip():
        raise UsageFailure(
            "KEYFILE is empty; give the path of a key file to create, e.g. ~/.config/leasecheck/signing.key"
        )
    try:
        click.echo(keygen(Path(keyfile)))
    except BundleError as exc:
        raise UsageFailure(str(exc)) from None


@click.command("bundle")
@click.option(
    "--sign",
    "keyfile",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="signing key from `leasecheck keygen`",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="bundle directory (default REPORT_DIR/bundle)"
)
@click.argument("report_dir", type=click.Path(file_okay=False, path_type=Path))
def bundle_command(keyfile: Path, out: Path | None, report_dir: Path) -> None:
    """Sign an existing run's reports into a publishable bundle."""
    from leasecheck.conformance.bundle import BundleError, build, load_signing_key

    try:
        path = build(report_dir, load_signing_key(keyfile), out)
    except BundleError as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(f"bundle: {path}")


@click.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--public-key", help="the signer's public key (base64); without it the bundle's own key is used")
def verify_command(bundle: Path, public_key: str | None) -> None:
    """Check a results bundle: exit 0 when it verifies, 1 with one line per problem, 2 on bad input."""
    from leasecheck.conformance.bundle import BundleError, verify

    try:
        result = verify(bundle, public_key)
    except BundleError as exc:
        raise UsageFailure(str(exc)) from None
    for note in result.notes:
        click.echo(f"ok    {note}")
    for problem in result.problems:
        click.echo(f"FAIL  {problem}")
    m = result.manifest
    if result.ok:
        c = m.get("counts") or {}
        click.echo(
            f"verified: run {m.get('run_id')} {str(m.get('outcome')).upper()} "
            f"({c.get('passed')} passed, {c.get('failed')} failed, {c.get('warning')} warnings, "
            f"{c.get('not_run')} not run), suite {(m.get('suite') or {}).get('version')}, "
            f"target {(m.get('target') or {}).get('url')}"
        )
    else:
        click.echo(f"NOT VERIFIED: {len(result.problems)} problem(s)")
    raise SystemExit(0 if result.ok else 1)
