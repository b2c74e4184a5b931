"""The personal-data detector: identity numbers, phone numbers and e-mail addresses.

Every chat line, join name, feedback comment, desk note and Q&A post passes
through here before it is stored, shown, indexed or logged. `find` says what
looks like personal data and why (`Finding`: kind, span, an English sentence;
the web client translates by kind); `redact` replaces each finding with
``PLACEHOLDERS[kind]`` (identity numbers ``[id removed]``, phone numbers
``[phone removed]``, e-mail addresses ``[e-mail removed]``).

Identity numbers (check digits through python-stdnum)
-----------------------------------------------------
- **Swedish personnummer / samordningsnummer** (day + 60): ``YYMMDD-NNNN``,
  ``YYMMDD+NNNN`` (100 years or older), ``YYYYMMDD-NNNN``, each also with a space
  or a spaced hyphen, and bare 10 or 12 digits. The date (day - 60 for a
  samordningsnummer) goes through `stdnum.se.personnummer`, always in its
  separator form, the last ten digits through the Luhn check, and a birth date in
  the future is refused. A wrong Luhn digit is not a personnummer.
- **Danish CPR**: ``DDMMYY-NNNN``, ``DDMMYY NNNN`` and bare ``DDMMYYNNNN``; the
  date and the century digit through `stdnum.dk.cpr`. Since 2007 CPR numbers are
  issued that fail the old modulus-11 check, so (decision, measured by
  ``python -m bench.privacy``): *with* a separator, a valid date and the shape are
  enough; *bare*, modulus 11 is required as well, because ten bare digits are
  too often something else (about 2.3 % of random ten-digit strings hold a valid
  CPR date, 0.2 % also pass modulus 11). A post-2007 number written bare is the
  known miss.
- **German Steuer-IdNr.**: 11 digits, bare or ``12 345 678 901`` /
  ``123 456 789 01`` (spaces or hyphens), through `stdnum.de.idnr` (the digit
  frequency rule and the ISO 7064 check digit).
- **Japanese My Number** (個人番号): 12 digits, bare, ``1234 5678 9012`` or
  ``1234-5678-9012``, through `stdnum.jp.in_`.

When one number is valid under two schemes (a ten-digit SE and DK number, a
twelve-digit SE number and My Number) the kind is Swedish unless the words
before it say Danish (``CPR``) or Japanese (``マイナンバー``, Japanese script).

Phone numbers and e-mail addresses
----------------------------------
- Phone numbers: each candidate goes through `phonenumbers` (parse and
  is_valid_number): ``+NN`` / ``00NN`` forms for any country; national forms of
  SE, DE and JP (with the trunk ``0``: ``070-123 45 67``, ``(030) 1234 5678``,
  ``040/123456``, ``03(1234)5678``) and of DK (eight digits, spaced
  ``20 30 40 50``, or bare when a phone or number word comes before it). The
  candidates come from the same digit-group scan as the identity numbers, which
  costs far less than ``PhoneNumberMatcher`` over the whole text for four regions
  (measured: ~0.4 ms on a 170-character line). Dates, time ranges, case
  numbers such as ``2026/1234`` and numbers grouped like an identity number
  whose check failed are phone numbers only when a phone word comes before them
  (``tel``, ``ring``, ``Handy``, ``電話`` ...). A bare number that is both a
  valid identity number and a phone number is reported as a phone number when
  the words before it say phone and none says identity.
- E-mail addresses: dot-atoms, Latin letters with diacritics, dotted labels and
  a TLD of letters or ``xn--``; also written with ``(at)`` / ``[at]``.

Harmless numbers are left alone
-------------------------------
Ticket numbers (``A-042``), dates (``2026-12-01``, ``01.12.2026``), times,
amounts (``1 250 kr``, ``12.345,67 €``), postcodes, years and case numbers lack
the shape or the check digits. Beyond that a number is left alone when a label
right before it says it is something else (``Bestellnummer``, ``order no.``,
``注文番号は``: `_LABEL_WORDS`; case-file words and accounts are deliberately not
labels, people quote their identity number there), when a currency sits next to
it, when it is glued to letters, continues a decimal, or is one stretch of a
longer dotted, dashed or uniformly grouped number (a code, a card number).

Text and positions
------------------
Full-width digits and letters, compatibility spaces and the various dashes are
mapped to ASCII with NFKC's one-to-one mappings (plus the dashes), so the
normalised text has exactly the length of the original and every `Finding` is a
span of the text the caller passed in. The katakana long-vowel mark ``ー``
counts as a hyphen between digits only.

It runs on every chat line: a text without a run of seven digits and without
``@`` / ``(at)`` costs a translate and two regex scans; figures (p50 / p99 on
chat-length lines, against the old regex redactor) in ``bench/privacy.py``.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Final

import phonenumbers
from stdnum import luhn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.exceptions import ValidationError
from stdnum.jp import in_ as my_number
from stdnum.se import personnummer

PLACEHOLDER: Final = "[id removed]"

IDENTITY_KINDS: Final = (
    "personnummer",
    "samordningsnummer",
    "cpr",
    "steuer_idnr",
    "my_number",
)
KINDS: Final = (*IDENTITY_KINDS, "phone", "email")

PLACEHOLDERS: Final[dict[str, str]] = {
    **dict.fromkeys(IDENTITY_KINDS, PLACEHOLDER),
    "phone": "[phone removed]",
    "email": "[e-mail removed]",
}

_REASONS: Final[dict[str, str]] = {
    "personnummer": (
        "This looks like a Swedish personal identity number (personnummer): "
        "it holds a valid date of birth and its check digit matches."
    ),
    "samordningsnummer": (
        "This looks like a Swedish coordination number (samordningsnummer): "
        "it holds a valid date of birth plus 60 days and its check digit matches."
    ),
    "cpr": (
        "This looks like a Danish personal identification number (CPR number): "
        "it starts with a valid date of birth followed by four digits."
    ),
    "cpr_mod11": (
        "This looks like a Danish personal identification number (CPR number): "
        "it starts with a valid date of birth and passes the CPR check."
    ),
    "steuer_idnr": (
        "This looks like a German tax identification number (Steuer-IdNr.): "
        "eleven digits whose check digit matches."
    ),
    "my_number": (
        "This looks like a Japanese Individual Number (My Number): "
        "twelve digits whose check digit matches."
    ),
    "phone": "This looks like a phone number.",
    "phone_intl": "This looks like an international phone number ({prefix}).",
    "email": "This looks like an e-mail address.",
}


@dataclass(frozen=True)
class Finding:
    """A span of the text that looks like personal data."""

    kind: str  # one of KINDS
    start: int  # index of the first character in the text
    end: int  # index after the last character
    reason: str  # a readable English sentence saying what it looks like and why


# -- normalisation -------------------------------------------------------------------

_DASHES: Final = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63"
_KANA_DASHES: Final = "\u30fc\uff70"  # ー ｰ: a hyphen between digits only


def _table() -> dict[int, str]:
    """NFKC's one-to-one mappings onto ASCII (full-width forms, odd spaces), plus dashes."""
    table: dict[int, str] = {}
    for lo, hi in ((0x00A0, 0x0100), (0x2000, 0x2070), (0x3000, 0x3001), (0xFF00, 0xFFF0)):
        for cp in range(lo, hi):
            ch = chr(cp)
            if unicodedata.decomposition(ch).startswith(("<super>", "<sub>", "<fraction>")):
                continue
            mapped = unicodedata.normalize("NFKC", ch)
            if mapped != ch and len(mapped) == 1 and mapped.isascii() and mapped.isprintable():
                table[cp] = mapped
    for cp in range(0x1D7CE, 0x1D800):  # mathematical digits
        table[cp] = unicodedata.normalize("NFKC", chr(cp))
    for dash in _DASHES:
        table[ord(dash)] = "-"
    return table


_TABLE: Final = _table()


def normalise(text: str) -> str:
    """``text`` with full-width forms, odd spaces and dashes mapped to ASCII; same length."""
    return text if text.isascii() else text.translate(_TABLE)


# -- the digit-group scan ------------------------------------------------------------

# A token: digit groups joined by one separator each: a space, a hyphen or plus
# (optionally spaced), a dot or a slash; a group may sit in parentheses, and a
# leading "+" starts an international phone number. It may not continue a
# number or a code (digits or letters, or "A-" / "12." before it).
_TOKEN: Final = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][-./])(?<![A-Za-z]-)"
    r"(?:\+ ?)?\(?[0-9]+\)?"
    r"(?:(?: ?[-+\u30fc\uff70] ?|[./ ]|(?<=\))|(?=\())\(?[0-9]+\)?)*"
)
_GROUP: Final = re.compile(r"[0-9]+")
_DECIMALS: Final = re.compile(r",[0-9]{1,3}(?![0-9])")
_EMAIL_HINT: Final = re.compile(r"@|[(\[]at[)\]]", re.IGNORECASE)

# The joins an identity number may be written with ("+" only in YYMMDD+NNNN).
_HYPHEN_SPACE: Final = frozenset("- ")
_SE_JOIN: Final = frozenset("-+ ")


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    plus: bool  # starts with "+"
    groups: tuple[tuple[int, int], ...]  # spans of the digit groups
    joins: tuple[str, ...]  # between groups: " ", "-", "+", ".", "/", "" (after ")")
    parens: tuple[bool, ...]  # the group sits in parentheses

    def digits(self, text: str, i: int, j: int) -> str:
        return "".join(text[a:b] for a, b in self.groups[i : j + 1])


def _join_kind(between: str) -> str:
    core = between.replace("(", "").replace(")", "")
    stripped = core.strip(" ")
    if not stripped:
        return " " if core else ""
    ch = stripped[0]
    if ch in _KANA_DASHES:
        return "-"
    return ch


def _tokens(norm: str) -> Iterator[_Token]:
    for m in _TOKEN.finditer(norm):
        start, end = m.span()
        after = norm[end : end + 2]
        if after[:1].isascii() and after[:1].isalpha():
            continue  # glued to letters: a code
        if after[:1] == "," and _DECIMALS.match(norm, end):
            continue  # an amount: 1234567890,50 or 1234567,890
        groups = tuple(g.span() for g in _GROUP.finditer(norm, start, end))
        if sum(b - a for a, b in groups) < 7:
            continue
        joins = tuple(
            _join_kind(norm[groups[k][1] : groups[k + 1][0]]) for k in range(len(groups) - 1)
        )
        parens = tuple(norm[a - 1 : a] == "(" and norm[b : b + 1] == ")" for a, b in groups)
        yield _Token(start, end, norm[start] == "+", groups, joins, parens)


# -- context -------------------------------------------------------------------------

_CONTEXT: Final = 40
# A label saying the number that follows is something else: an order, an invoice, a
# parcel, a booking, a customer or member, a product, a receipt, a registry entry.
# It must sit right before the number ("Bestellnummer: ", "order no. ", "注文番号は").
# Case-file words (ärende, Sag, Aktenzeichen) and accounts are not labels: people
# quote their identity number there.
_LABEL_WORDS: Final = (
    "order|ordre|bestellung|bestell|auftrags?|invoice|faktura|rechnungs?|tracking|sendungs?"
    "|kolli|parcel|spårnings?|booking|boknings?|buchungs?|reservations?|kund|kunden?|customer"
    "|serial|serien|artikel|article|item|product|produkt|ocr|ticket|billet|biljett|beleg"
    "|kvitto|receipt|transaktions?|transaction|bankgiro|plusgiro|cvr|org|organisations"
    "|moms|vat|ust|medlems?|mitglieds?|member|membership|ean|gtin|isbn|imei|lot|batch"
)
_LABEL_TAILS: Final = (
    "nummer|nummern|nummeret|numret|number|nr|no|id|ref|referens|reference|referenz|kod|code|kode"
)
_LABELS: Final = re.compile(
    rf"(?<![a-zäöåæøü])(?:{_LABEL_WORDS})(?:-?(?:{_LABEL_TAILS}))?\.?[ .:#°-]{{0,3}}"
    rf"(?:(?:{_LABEL_TAILS}|is|är|er|ist|lautet|lyder)\.?[ .:#-]{{0,3}}){{0,2}}$"
    r"|(?:注文|伝票|追跡|問い?合わせ|受付|請求書?|予約|会員|整理|管理|お客様|製造|商品|チケット)"
    r"(?:番号|No|ID)?[はがの：: ]{0,3}$",
    re.IGNORECASE,
)
_CURRENCY_AFTER: Final = re.compile(
    r" ?(?:(?:kr|kronor|kroner|sek|dkk|nok|eur|euro|euros|usd|dollars?|jpy|yen)(?![a-zäöåæøü])"
    r"|[€$¥￥円]|:-|,-)",
    re.IGNORECASE,
)
_CURRENCY_BEFORE: Final = re.compile(
    r"(?:(?<![a-zäöåæøü])(?:kr\.?|sek|dkk|eur|usd|jpy)|[€$¥￥]) ?$", re.IGNORECASE
)
# Words saying a phone number follows (they decide a date-like or an identity-like
# number for the phone), and words saying an identity number follows.
_PHONE_WORDS: Final = re.compile(
    r"\b(?:tel|tlf|phone|ring|call|mobil|handy|fax|sms|whatsapp|signal|reach|contact|kontakt"
    r"|ruf|anruf|erreich|når mig|nås|skriv till?|text me|schreib mir)|電話|携帯|連絡",
    re.IGNORECASE,
)
_NUMBER_WORDS: Final = re.compile(r"\b(?:nummer|numret|nummeret|number|nr)\b|番号", re.IGNORECASE)
_ID_WORDS: Final = re.compile(
    r"(?i:person|pnr|samordning|cpr|steuer|idnr|identifi|\bid\b)|マイナンバー|個人番号|My ?Number"
)
_DK_WORDS: Final = re.compile(r"cpr|dansk|danish|dänisch|danmark", re.IGNORECASE)
_JP_WORDS: Final = re.compile(r"マイナンバー|個人番号|My ?Number|[\u3040-\u30ff\u4e00-\u9fff]")


def _before(norm: str, start: int) -> str:
    return norm[max(0, start - _CONTEXT) : start]


def _labelled(norm: str, start: int, end: int) -> bool:
    """The number is labelled as something harmless, or is an amount."""
    before = _before(norm, start)
    return bool(
        _LABELS.search(before)
        or _CURRENCY_BEFORE.search(before)
        or _CURRENCY_AFTER.match(norm, end)
    )


# -- identity numbers ----------------------------------------------------------------


def _today() -> _dt.date:
    return _dt.date.today()


def _se(digits: str, sep: str) -> str | None:
    """``personnummer``, ``samordningsnummer`` or None; ``sep`` is "-" or "+"."""
    if len(digits) == 12:
        if sep == "+" or digits[:2] not in ("18", "19", "20"):
            return None
        head, tail = digits[:8], digits[8:]
    else:
        head, tail = digits[:6], digits[6:]
    day = int(head[-2:])
    kind = "personnummer"
    if day > 60:
        kind = "samordningsnummer"
        head = f"{head[:-2]}{day - 60:02d}"
    try:
        born = personnummer.get_birth_date(f"{head}{sep}{tail}")
        if born > _today() and len(head) == 6:  # 99 years old: the century before
            born = personnummer.get_birth_date(f"{born.year // 100 - 1}{head}-{tail}")
    except ValidationError:
        return None
    if born > _today() or not luhn.is_valid(digits[-10:]):
        return None
    return kind


def _dk(digits: str, bare: bool) -> str | None:
    try:
        cpr.validate(digits)
    except ValidationError:
        return None
    if bare and cpr.checksum(digits) != 0:
        return None
    return "cpr_mod11" if cpr.checksum(digits) == 0 else "cpr"


# The digit-group shapes of the identity schemes: group lengths -> schemes to try.
_SHAPES: Final[dict[tuple[int, ...], tuple[str, ...]]] = {
    (10,): ("se", "dk"),
    (6, 4): ("se", "dk"),
    (12,): ("se", "jp"),
    (8, 4): ("se",),
    (11,): ("de",),
    (2, 3, 3, 3): ("de",),
    (3, 3, 3, 2): ("de",),
    (4, 4, 4): ("jp",),
}


def _identity(norm: str, tok: _Token, i: int, j: int) -> str | None:
    """The identity kind (or "cpr_mod11") of groups i..j of ``tok``, or None."""
    lengths = tuple(b - a for a, b in tok.groups[i : j + 1])
    schemes = _SHAPES.get(lengths)
    if schemes is None or (i < j and any(tok.parens[i : j + 1])) or (tok.plus and i == 0):
        return None
    joins = tok.joins[i:j]
    bare = not joins
    if not bare and joins[0] not in _SE_JOIN:
        return None
    if "+" in joins and (lengths != (6, 4) or "se" not in schemes):
        return None
    if any(x not in _HYPHEN_SPACE for x in joins[1:]):
        return None
    if not _isolated(tok, i, j) or _labelled(norm, tok.groups[i][0], tok.groups[j][1]):
        return None
    digits = tok.digits(norm, i, j)
    candidates: list[str] = []
    for scheme in schemes:
        kind: str | None = None
        if scheme == "se":
            kind = _se(digits, "+" if joins == ("+",) else "-")
        elif scheme == "dk" and joins != ("+",):
            kind = _dk(digits, bare)
        elif scheme == "de" and idnr.is_valid(digits):
            kind = "steuer_idnr"
        elif scheme == "jp" and my_number.is_valid(digits):
            kind = "my_number"
        if kind:
            candidates.append(kind)
    if len(candidates) > 1:
        before = _before(norm, tok.groups[i][0])
        if "my_number" in candidates and _JP_WORDS.search(before):
            return "my_number"
        for kind in candidates:
            if kind.startswith("cpr") and _DK_WORDS.search(before):
                return kind
    return candidates[0] if candidates else None


def _isolated(tok: _Token, i: int, j: int) -> bool:
    """Groups i..j may stand alone: the neighbours are joined by a plain space, and
    a space-grouped window is not one stretch of a uniformly grouped longer number."""
    inner = tok.joins[i:j]
    spaced = bool(inner) and all(x == " " for x in inner)
    groups = tok.groups
    if i > 0 and (tok.joins[i - 1] != " " or (spaced and _len(groups[i - 1]) == _len(groups[i]))):
        return False
    return j == len(groups) - 1 or (
        tok.joins[j] == " " and not (spaced and _len(groups[j + 1]) == _len(groups[j]))
    )


def _len(span: tuple[int, int]) -> int:
    return span[1] - span[0]


# -- phone numbers -------------------------------------------------------------------

_NATIONAL_REGIONS: Final = ("SE", "DE", "JP")


def _year(s: str) -> bool:
    return len(s) == 4 and 1900 <= int(s) <= 2099


def _date(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _hhmm(s: str) -> bool:
    return len(s) == 4 and int(s[:2]) <= 24 and int(s[2:]) < 60


def _dateish(parts: list[str], joins: tuple[str, ...]) -> bool:
    """Dates, time ranges and year-numbered case numbers: never phone numbers."""
    lengths = [len(p) for p in parts]
    marked = bool(joins) and joins[0] in "-/" and len(set(joins)) == 1
    if lengths == [8]:
        s = parts[0]
        return (_year(s[:4]) and _date(s[4:6], s[6:])) or (_year(s[4:]) and _date(s[2:4], s[:2]))
    if lengths == [4, 2, 2] and marked:
        return _year(parts[0]) and _date(parts[1], parts[2])
    if lengths in ([2, 2, 4], [2, 2, 2]) and marked:
        return _date(parts[1], parts[0])
    if lengths == [4, 4] and joins == ("-",) and _hhmm(parts[0]) and _hhmm(parts[1]):
        return True
    return _year(parts[0]) and bool(joins) and joins[0] in "-/"


def _phone_span(norm: str, tok: _Token, i: int, j: int) -> tuple[int, int]:
    start = tok.start if tok.plus and i == 0 else tok.groups[i][0] - (1 if tok.parens[i] else 0)
    end = tok.groups[j][1]
    if tok.parens[j] and norm[end : end + 1] == ")":
        end += 1
    return start, end


def _phone(norm: str, tok: _Token, i: int, j: int) -> str | None:
    """The reason if groups i..j (with a leading "+" when i == 0) are a phone number."""
    joins = tok.joins[i:j]
    if "." in joins or "+" in joins:
        return None
    parts = [norm[a:b] for a, b in tok.groups[i : j + 1]]
    digits = "".join(parts)
    plus = tok.plus and i == 0
    international = plus or digits.startswith("00")
    if international:
        if not 8 <= len(digits) - (0 if plus else 2) <= 15:
            return None
    elif digits.startswith("0"):
        if not 7 <= len(digits) <= 13:
            return None
    elif (
        len(digits) != 8
        or i > 0
        or j < len(tok.groups) - 1
        or not set(joins) <= {" "}
        or (len(parts) > 1 and all(len(p) == 3 for p in parts[1:]) and set(joins) == {" "})
    ):
        return None  # Danish: eight digits on their own, spaced, not grouped in thousands
    start, end = _phone_span(norm, tok, i, j)
    if not international and digits[0] != "0" and len(parts) == 1:
        # eight bare digits are a Danish phone number only when the text says so
        before = _before(norm, start)
        if not (_PHONE_WORDS.search(before) or _NUMBER_WORDS.search(before)):
            return None
    if _labelled(norm, start, end):
        return None
    # a date, a time range, a case number, or grouped like an identity number (whose
    # check failed): a phone number only if the text says so
    if (
        not plus
        and (
            _dateish(parts, joins)
            or (
                len(parts) > 1 and tuple(map(len, parts)) in _SHAPES and set(joins) <= _HYPHEN_SPACE
            )
        )
        and not _PHONE_WORDS.search(_before(norm, start))
    ):
        return None
    raw = norm[start:end]
    if international:
        number = _parse(raw if plus else "+" + raw[raw.index("00") + 2 :], None)
        if number is None:
            return None
        return _REASONS["phone_intl"].format(prefix=f"+{number.country_code}")
    for region in _NATIONAL_REGIONS if digits.startswith("0") else ("DK",):
        number = _parse(raw, region)
        if number is not None and phonenumbers.region_code_for_number(number) == region:
            return _REASONS["phone"]
    return None


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# -- e-mail --------------------------------------------------------------------------

_L: Final = "A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # Latin letters and digits
_ATOM: Final = f"[{_L}!#$%&'*+/=?^_`{{|}}~-]+"
_LABEL: Final = f"[{_L}](?:[{_L}-]{{0,61}}[{_L}])?"
_EMAIL: Final = re.compile(
    rf"(?<![{_L}!#$%&'*+/=?^_`{{|}}~.-])"
    rf"{_ATOM}(?:\.{_ATOM})*"
    r"(?:@| ?[(\[]at[)\]] ?)"
    rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})"
    rf"(?![{_L}-]|\.[{_L}])",
    re.IGNORECASE,
)


# -- the API -------------------------------------------------------------------------


def find(text: str) -> list[Finding]:
    """Everything in ``text`` that looks like personal data: sorted, non-overlapping."""
    if not text:
        return []
    norm = normalise(text)
    found: list[Finding] = []
    taken: list[tuple[int, int]] = []
    if _EMAIL_HINT.search(norm):
        for m in _EMAIL.finditer(norm):
            found.append(Finding("email", m.start(), m.end(), _REASONS["email"]))
            taken.append(m.span())
    for tok in _tokens(norm):
        if any(a < tok.end and tok.start < b for a, b in taken):
            continue
        found.extend(_scan(norm, tok))
    found.sort(key=lambda f: f.start)
    return found


def _scan(norm: str, tok: _Token) -> list[Finding]:
    n = len(tok.groups)
    out: list[Finding] = []
    before = _before(norm, tok.start)
    if _LABELS.search(before) or _CURRENCY_BEFORE.search(before):
        return out
    lens = [b - a for a, b in tok.groups]
    # identity numbers first, the strongest evidence: windows of one to four groups
    # holding 10-12 digits in a scheme's shape, starting at the token or after a space
    claimed = [False] * n
    i = 0
    while i < n:
        hit: tuple[int, str] | None = None
        if i == 0 or tok.joins[i - 1] == " ":
            for j in range(min(n, i + 4) - 1, i - 1, -1):
                if tuple(lens[i : j + 1]) in _SHAPES:
                    kind = _identity(norm, tok, i, j)
                    if kind is not None:
                        hit = j, kind
                        break
        if hit is None:
            i += 1
            continue
        j, kind = hit
        start, end = tok.groups[i][0], tok.groups[j][1]
        if i == j and norm[start] == "0" and _said_phone(norm, start):
            reason = _phone(norm, tok, i, j)  # "ring 0701234567": a phone number after all
            if reason is not None:
                out.append(Finding("phone", start, end, reason))
                claimed[i] = True
                i += 1
                continue
        out.append(Finding(kind.removesuffix("_mod11"), start, end, _REASONS[kind]))
        claimed[i : j + 1] = [True] * (j + 1 - i)
        i = j + 1
    # then phone numbers: the whole token, or each stretch an identity number left
    i = 0
    while i < n:
        if claimed[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and not claimed[j + 1]:
            j += 1
        if sum(lens[i : j + 1]) <= 17:
            reason = _phone(norm, tok, i, j)
            if reason is not None:
                start, end = _phone_span(norm, tok, i, j)
                out.append(Finding("phone", start, end, reason))
        i = j + 1
    out.sort(key=lambda f: f.start)
    return out


def _said_phone(norm: str, start: int) -> bool:
    before = _before(norm, start)
    return bool(_PHONE_WORDS.search(before)) and not _ID_WORDS.search(before)


def redact(text: str, *, kinds: Collection[str] | None = None) -> str:
    """Return ``text`` with every finding replaced by its placeholder; ``kinds``: only
    those kinds (e.g. `IDENTITY_KINDS` for a staff announcement quoting the office's
    phone number)."""
    found = find(text)
    if kinds is not None:
        found = [f for f in found if f.kind in kinds]
    if not found:
        return text
    out: list[str] = []
    pos = 0
    for f in found:
        out.append(text[pos : f.start])
        out.append(PLACEHOLDERS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
