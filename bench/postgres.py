"""A fresh PostgreSQL database for one bench run, dropped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class Unavailable(Exception):
    """PostgreSQL did not answer; the run reports it instead of its figures."""


def server_version(admin_url: str) -> str:
    """The server's version, or raise ``Unavailable``."""
    try:
        with psycopg.connect(admin_url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        raise Unavailable(_first_line(error)) from None
    return str(row[0]) if row else "?"


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create ``boende_bench_<pid>``, yield its URL, drop it afterwards."""
    name = f"boende_bench_{os.getpid()}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as error:
        raise Unavailable(_first_line(error)) from None
    with admin:
        ident = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        try:
            yield _with_database(admin_url, name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident)
            )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
