"""Compare a sandbox answer with a reference fixture: same keys, same JSON types (values ignored)."""

from __future__ import annotations

from typing import Any


def kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def diff(expected: Any, actual: Any, path: str = "$", *, extra_ok: frozenset[str] = frozenset(),
         null_ok: frozenset[str] = frozenset(), form: bool = False, loose: frozenset[str] = frozenset()) -> list[str]:
    """Differences: missing keys, unexpected keys (unless named in ``extra_ok``), type changes (a null
    is accepted for keys named in ``null_ok``). Lists compare their first elements. ``form``: the
    answer came form-encoded, where every scalar is a string (docs show such bodies as JSON).
    ``loose``: keys whose value type is not compared (docs examples with placeholder values)."""
    out: list[str] = []
    ke, ka = kind(expected), kind(actual)
    if form and ke in ("number", "bool"):
        ke = "string"
    if path.rsplit(".", 1)[-1] in loose:
        return out
    if ke != ka:
        last = path.rsplit(".", 1)[-1]
        if not ("null" in (ke, ka) and last in null_ok):
            out.append(f"{path}: expected {ke}, got {ka}")
        return out
    if ke == "object":
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            else:
                out += diff(v, actual[k], f"{path}.{k}", extra_ok=extra_ok, null_ok=null_ok, form=form, loose=loose)
        for k in actual:
            if k not in expected and k not in extra_ok:
                out.append(f"{path}.{k}: unexpected")
    elif ke == "list" and expected and actual:
        out += diff(expected[0], actual[0], f"{path}[0]", extra_ok=extra_ok, null_ok=null_ok, form=form, loose=loose)
    return out


def assert_same_shape(expected: Any, actual: Any, **kw: Any) -> None:
    problems = diff(expected, actual, **kw)
    assert not problems, "\n".join(problems)


# keys the real cloud adds to ``time`` that not every docs example shows
TIME_EXTRA = frozenset({"operating", "operating_reset_at"})
