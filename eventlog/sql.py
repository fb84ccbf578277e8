"""Small helpers for writing SQL text safely."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_idents(names) -> str:
    """A comma-separated list of quoted identifiers (a select list, a partition by …)."""
    return ", ".join(quote_ident(n) for n in names)
