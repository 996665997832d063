"""`brandpulse people …`: a person's data rights — export everything held on them, or forget them.

Both act as a named admin (``--as USERNAME``), whose role is checked like anywhere else; the
forget is recorded in the erasure audit log under that name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from brandpulse.cli.console import console, friendly, shown
from brandpulse.cli.incidents import operator
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import load_settings

people_app = typer.Typer(help="Data rights: export or forget everything held on one person (admins).",
                         no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="act as this admin (recorded in the audit log)")
NETWORK = typer.Option(None, "--network", help="the author's network (x, reddit, mastodon, bluesky, rss)")
HANDLE = typer.Option(None, "--handle", help="the author's handle on --network (with or without @)")
NATIVE = typer.Option(None, "--native-id", help="the author's own id on --network (instead of --handle)")
CUSTOMER = typer.Option(None, "--customer", help="a customer's internal id", min=1)
EXTERNAL = typer.Option(None, "--external-id", help="a customer's id in your CRM (external_id)")


def _selector(network, handle, native_id, customer, external_id, with_linked=False):
    from brandpulse.services.people import PersonSelector

    return PersonSelector(network=network, handle=handle, native_id=native_id, customer_id=customer,
                          external_id=external_id, with_linked=with_linked).check()


def _check_out(out: Path) -> Path:
    """``--out`` if a new export can be written there (checked before anything is read), else why not."""
    out = out.expanduser()
    if out.is_dir():
        raise BrandpulseError(f"could not write {out}: it is a folder; name a new file in it, "
                              f"e.g. {out / 'person.json'}")
    if out.exists() or out.is_symlink():  # a mistyped --out (config.yaml, an older export) is never replaced
        raise BrandpulseError(f"could not write {out}: the file already exists; delete it first or choose "
                              "another --out")
    if not out.parent.is_dir():
        raise BrandpulseError(f"could not write {out}: the folder {out.parent} does not exist; create it first "
                              "or choose another --out")
    return out


def _write_private(out: Path, body: str) -> None:
    """Write the export readable by its owner only (it is personal data), all or nothing: a failed
    write leaves no partial file behind, and a file that appeared meanwhile is not replaced."""
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BrandpulseError(f"could not write {out}: the file already exists; delete it first or choose "
                              "another --out") from None
    except OSError as exc:
        raise BrandpulseError(f"could not write {out}: {exc.strerror}; choose another --out") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(body)
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise BrandpulseError(f"could not write {out}: {exc.strerror}; nothing was kept, choose another "
                              "--out") from None


@people_app.command("export")
@friendly
def export_command(as_user: str = AS_USER, network: Optional[str] = NETWORK, handle: Optional[str] = HANDLE,
                   native_id: Optional[str] = NATIVE, customer: Optional[int] = CUSTOMER,
                   external_id: Optional[str] = EXTERNAL,
                   out: Optional[Path] = typer.Option(None, "--out", help="a new file to write, readable by you "
                                                      "only (default: stdout)")) -> None:
    """Write one JSON file with every row held on the person (a subject access request)."""
    from brandpulse.services.people import export_person

    settings = load_settings()
    selector = _selector(network, handle, native_id, customer, external_id)
    if out is not None:
        out = _check_out(out)
    exported = export_person(settings, operator(settings, as_user), selector)
    body = json.dumps(exported, indent=2, ensure_ascii=False, default=str)
    if out is None:
        typer.echo(body)
        return
    _write_private(out, body + "\n")
    rows = sum(exported["counts"].values())
    console.print(shown(f"wrote {out}: {rows} rows held on {selector.describe()} "
                        f"({', '.join(f'{t} {n}' for t, n in exported['counts'].items() if n)})"), soft_wrap=True)


@people_app.command("forget")
@friendly
def forget_command(as_user: str = AS_USER, network: Optional[str] = NETWORK, handle: Optional[str] = HANDLE,
                   native_id: Optional[str] = NATIVE, customer: Optional[int] = CUSTOMER,
                   external_id: Optional[str] = EXTERNAL,
                   with_linked: bool = typer.Option(False, "--with-linked", help="an author's customer and "
                                                    "their other accounts too"),
                   yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation")) -> None:
    """Erase the person everywhere (posts' text, profile, customer record, names in notes, alerts…).

    Counts and analyses stay, so dashboards keep their totals; the erasure is audited and the
    person's posts are never collected or imported again.
    """
    from brandpulse.services.accounts import authorize
    from brandpulse.services.people import forget_person

    settings = load_settings()
    selector = _selector(network, handle, native_id, customer, external_id, with_linked)
    actor = authorize(settings, operator(settings, as_user), "people.forget")  # refused before asking
    if not yes and not typer.confirm(f"Erase everything held on {selector.describe()}? This cannot be undone"):
        console.print("nothing was changed", markup=False)
        raise typer.Exit(1)
    summary = forget_person(settings, actor, selector)
    console.print(shown(f"forgot {selector.describe()}: erasure #{summary.erasure_id}"))
    for table, count in summary.counts.items():
        console.print(shown(f"  {table}: {count}"))
