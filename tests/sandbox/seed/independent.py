"""Independent re-implementations of the requisite check rules, written differently from
b24sandbox.seed.checksums (explicit weight tables, digit-by-digit remainders, brute-force keys), so
the seed tests do not check the code against itself."""

from __future__ import annotations


def inn_ok(inn: str) -> bool:
    if not inn.isascii() or not inn.isdigit():
        return False
    d = [int(c) for c in inn]
    if len(d) == 10:
        s = 2 * d[0] + 4 * d[1] + 10 * d[2] + 3 * d[3] + 5 * d[4] + 9 * d[5] + 4 * d[6] + 6 * d[7] + 8 * d[8]
        return s % 11 % 10 == d[9]
    if len(d) == 12:
        s11 = (7 * d[0] + 2 * d[1] + 4 * d[2] + 10 * d[3] + 3 * d[4] + 5 * d[5] + 9 * d[6] + 4 * d[7]
               + 6 * d[8] + 8 * d[9])
        s12 = (3 * d[0] + 7 * d[1] + 2 * d[2] + 4 * d[3] + 10 * d[4] + 3 * d[5] + 5 * d[6] + 9 * d[7]
               + 4 * d[8] + 6 * d[9] + 8 * d[10])
        return s11 % 11 % 10 == d[10] and s12 % 11 % 10 == d[11]
    return False


def _remainder(digits: str, modulus: int) -> int:
    r = 0
    for c in digits:
        r = (r * 10 + int(c)) % modulus
    return r


def ogrn_ok(ogrn: str) -> bool:
    return (len(ogrn) == 13 and ogrn.isdigit() and ogrn[0] in "15"
            and _remainder(ogrn[:12], 11) % 10 == int(ogrn[12]))


def ogrnip_ok(ogrnip: str) -> bool:
    return (len(ogrnip) == 15 and ogrnip.isdigit() and ogrnip[0] == "3"
            and _remainder(ogrnip[:14], 13) % 10 == int(ogrnip[14]))


def _key_by_brute_force(prefix3: str, account: str) -> int | None:
    """The one digit that, put at position 9, makes the weighted sum a multiple of 10."""
    weights = [7, 1, 3] * 8
    found = []
    for k in range(10):
        digits = prefix3 + account[:8] + str(k) + account[9:]
        if sum(int(c) * weights[i] for i, c in enumerate(digits)) % 10 == 0:
            found.append(k)
    return found[0] if len(found) == 1 else None


def settlement_ok(account: str, bik: str) -> bool:
    return (len(account) == 20 and account.isdigit() and len(bik) == 9 and bik.startswith("04")
            and _key_by_brute_force(bik[-3:], account) == int(account[8]))


def corr_ok(account: str, bik: str) -> bool:
    return (len(account) == 20 and account.startswith("30101") and len(bik) == 9
            and _key_by_brute_force("0" + bik[4] + bik[5], account) == int(account[8]))
