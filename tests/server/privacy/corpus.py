"""The detector's corpus: personal data in five languages (sv, da, de, ja, en), and negatives.

`positives()` are sentences holding identity numbers, phone numbers and e-mail
addresses, each with the exact spans the detector must report:

- generated: valid numbers (check digits computed here, dates from 1920 to 2019,
  samordningsnummer with day + 60, CPR numbers both with and without the old
  modulus-11 check) in every written form of their scheme (`FORMS`), including
  full-width digits, set in sentence templates of every language;
- hand-written: realistic messages with the numbers in place.

`negatives()` are sentences that must come back unchanged: ticket numbers,
dates, times, amounts, phone-like numbers that are not phone numbers,
postcodes, case numbers, years, bank amounts, labelled order / invoice /
tracking numbers (random digits in the very shapes of identity numbers), and
identity-shaped numbers with a wrong check digit. A number with a wrong check
digit is only a negative if it is not valid under any scheme that has its
shape (`valid_anywhere`): ``010203-1234`` with a wrong Luhn digit is still a
well-formed Danish CPR number, and is redacted as one by design.

`unlabelled_random(...)` gives bare random digit strings, which the bench uses
to measure how often chance alone passes the checks (the CPR decision).

Everything is deterministic (seeded); the numbers are synthetic.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import luhn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_11_10
from stdnum.jp import in_ as my_number
from stdnum.se import personnummer

LANGS = ("sv", "da", "de", "ja", "en")
IDENTITY = ("personnummer", "samordningsnummer", "cpr", "steuer_idnr", "my_number")
TODAY = dt.date(2026, 12, 2)  # the corpus is dated; births are 1920-2019, far from it

FULL = str.maketrans("0123456789- ", "０１２３４５６７８９－\u3000")


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Case:
    text: str
    spans: tuple[Span, ...]  # what must be found; empty for a negative
    lang: str
    source: str  # "generated" | "hand"
    form: str  # the written form (positives) or the category (negatives)


# -- numbers -------------------------------------------------------------------------


def birth(rng: random.Random, lo: int = 1920, hi: int = 2019) -> dt.date:
    start, end = dt.date(lo, 1, 1).toordinal(), dt.date(hi, 12, 31).toordinal()
    return dt.date.fromordinal(rng.randint(start, end))


def se_number(born: dt.date, serial: int, coordination: bool = False) -> str:
    """A valid personnummer (or samordningsnummer), 12 digits with the century."""
    body = f"{born:%y%m}{born.day + (60 if coordination else 0):02d}{serial % 1000:03d}"
    return f"{born.year // 100:02d}{body}{luhn.calc_check_digit(body)}"


def dk_number(rng: random.Random, born: dt.date, mod11: bool) -> str:
    """A valid CPR number for ``born``: the 7th digit fits the century; ``mod11``: the
    weighted sum is 0 mod 11 (numbers before 2007), else it is not (issued since)."""
    yy = born.year % 100
    if born.year < 2000:
        sevens = [0, 1, 2, 3] + ([4, 9] if yy >= 37 else [])
    else:
        sevens = ([4, 9] if yy < 37 else []) + [5, 6, 7, 8]
    while True:
        head = f"{born:%d%m%y}{rng.choice(sevens)}{rng.randint(0, 99):02d}"
        partial = cpr.checksum(head + "0")
        if mod11:
            last = -partial % 11
            if last == 10:
                continue
        else:
            last = rng.randint(0, 9)
            if (partial + last) % 11 == 0:
                continue
        number = head + str(last)
        assert cpr.is_valid(number) and (cpr.checksum(number) == 0) == mod11
        return number


def de_number(rng: random.Random) -> str:
    """A valid Steuer-IdNr.: one digit twice (or three times, not adjacent), ISO 7064."""
    while True:
        doubled = rng.randrange(10)
        times = rng.choice((2, 2, 3))
        others = rng.sample([d for d in range(10) if d != doubled], 10 - times)
        digits = [doubled] * times + others
        rng.shuffle(digits)
        ten = "".join(map(str, digits))
        if ten[0] == "0" or str(doubled) * 3 in ten:
            continue
        number = ten + mod_11_10.calc_check_digit(ten)
        assert idnr.is_valid(number)
        return number


def jp_number(rng: random.Random) -> str:
    eleven = "".join(str(rng.randrange(10)) for _ in range(11))
    return eleven + my_number.calc_check_digit(eleven)


def number(rng: random.Random, kind: str) -> str:
    """A valid number of ``kind``: SE with its century (12 digits), others as written."""
    if kind == "personnummer":
        return se_number(birth(rng), rng.randrange(1000))
    if kind == "samordningsnummer":
        return se_number(birth(rng), rng.randrange(1000), coordination=True)
    if kind == "cpr":
        return dk_number(rng, birth(rng), mod11=rng.random() < 0.8)
    if kind == "steuer_idnr":
        return de_number(rng)
    return jp_number(rng)


def _se_valid(digits: str, sep: str) -> bool:
    """Reference check of a SE number (digits 10 or 12), samordningsnummer included."""
    head, tail = digits[:-4], digits[-4:]
    if len(digits) == 12 and (sep == "+" or head[:2] not in ("18", "19", "20")):
        return False
    day = int(head[-2:])
    if day > 60:
        head = f"{head[:-2]}{day - 60:02d}"
    try:
        born = personnummer.get_birth_date(f"{head}{sep}{tail}")
    except ValidationError:
        return False
    return born <= dt.date.today() and luhn.is_valid(digits[-10:])


def valid_anywhere(digits: str, form: str) -> bool:
    """Is ``digits`` (written in ``form``) valid under any scheme that has that shape?"""
    sep = "+" if "+" in form else "-"
    bare = form in ("10", "12", "11")
    n = len(digits)
    if n in (10, 12) and _se_valid(digits, sep):
        return True
    if n == 10 and sep != "+" and cpr.is_valid(digits) and (not bare or cpr.checksum(digits) == 0):
        return True
    if n == 11 and idnr.is_valid(digits):
        return True
    return n == 12 and my_number.is_valid(digits)


# -- written forms -------------------------------------------------------------------


def group(digits: str, lengths: Sequence[int], seps: Sequence[str]) -> str:
    out, pos = [], 0
    for k, length in enumerate(lengths):
        if k:
            out.append(seps[(k - 1) % len(seps)])
        out.append(digits[pos : pos + length])
        pos += length
    assert pos == len(digits), (digits, lengths)
    return "".join(out)


def full_width(text: str) -> str:
    return text.translate(FULL)


# name -> (which digits: "10" | "12" | "all", group lengths, separators, full width)
FORMS: dict[str, dict[str, tuple[str, tuple[int, ...], tuple[str, ...], bool]]] = {
    "se": {
        "YYMMDD-NNNN": ("10", (6, 4), ("-",), False),
        "YYMMDD+NNNN": ("10", (6, 4), ("+",), False),
        "YYMMDD NNNN": ("10", (6, 4), (" ",), False),
        "YYMMDD - NNNN": ("10", (6, 4), (" - ",), False),
        "YYMMDD–NNNN": ("10", (6, 4), ("–",), False),
        "YYMMDDNNNN": ("10", (10,), (), False),
        "YYYYMMDD-NNNN": ("12", (8, 4), ("-",), False),
        "YYYYMMDD NNNN": ("12", (8, 4), (" ",), False),
        "YYYYMMDDNNNN": ("12", (12,), (), False),
        "full-width YYMMDD-NNNN": ("10", (6, 4), ("-",), True),
        "full-width YYYYMMDD-NNNN": ("12", (8, 4), ("-",), True),
        "full-width YYYYMMDDNNNN": ("12", (12,), (), True),
    },
    "cpr": {
        "DDMMYY-NNNN": ("all", (6, 4), ("-",), False),
        "DDMMYY NNNN": ("all", (6, 4), (" ",), False),
        "DDMMYY – NNNN": ("all", (6, 4), (" – ",), False),
        "DDMMYYNNNN": ("all", (10,), (), False),
        "full-width DDMMYY-NNNN": ("all", (6, 4), ("-",), True),
    },
    "steuer_idnr": {
        "11": ("all", (11,), (), False),
        "NN NNN NNN NNN": ("all", (2, 3, 3, 3), (" ",), False),
        "NN-NNN-NNN-NNN": ("all", (2, 3, 3, 3), ("-",), False),
        "NNN NNN NNN NN": ("all", (3, 3, 3, 2), (" ",), False),
        "full-width NN NNN NNN NNN": ("all", (2, 3, 3, 3), (" ",), True),
        "full-width 11": ("all", (11,), (), True),
    },
    "my_number": {
        "12": ("all", (12,), (), False),
        "NNNN NNNN NNNN": ("all", (4, 4, 4), (" ",), False),
        "NNNN-NNNN-NNNN": ("all", (4, 4, 4), ("-",), False),
        "full-width 12": ("all", (12,), (), True),
        "full-width NNNN NNNN NNNN": ("all", (4, 4, 4), (" ",), True),
        "full-width NNNN－NNNN－NNNN": ("all", (4, 4, 4), ("-",), True),
        "NNNNーNNNNーNNNN": ("all", (4, 4, 4), ("ー",), False),
    },
}


def scheme(kind: str) -> str:
    return "se" if kind in ("personnummer", "samordningsnummer") else kind


def render(kind: str, digits: str, form: str) -> str:
    which, lengths, seps, wide = FORMS[scheme(kind)][form]
    part = digits[2:] if which == "10" else digits
    text = group(part, lengths, seps)
    return full_width(text) if wide else text


def forms_for(kind: str, digits: str) -> list[str]:
    """The forms ``digits`` can be written in: the SE "+" needs 100 years, CPR bare needs mod 11."""
    out = list(FORMS[scheme(kind)])
    if scheme(kind) == "se" and int(digits[:4]) > TODAY.year - 100:
        out.remove("YYMMDD+NNNN")
    if kind == "cpr" and cpr.checksum(digits) != 0:
        out.remove("DDMMYYNNNN")
    return out


# -- sentence templates --------------------------------------------------------------

TEMPLATES: dict[str, tuple[str, ...]] = {
    "sv": (
        "Mitt personnummer är {n}, kan ni hjälpa mig?",
        "Hej! Jag undrar över min ansökan, pnr {n}.",
        "{n} är min dotters nummer",
        "Kan ni kolla {n}? Tack på förhand.",
        "Jag heter Anna Berg ({n}) och väntar på svar.",
        "personnr:{n}",
        "Numret är {n}.",
        "Samordningsnummer {n} – fick det i våras.",
    ),
    "da": (
        "Mit CPR-nummer er {n}, hvad gør jeg?",
        "Hej, jeg har cpr nr. {n} og venter på svar.",
        "{n} er min søns personnummer.",
        "Kan I slå {n} op?",
        "cpr:{n}",
        "Tak! Nummeret er {n}.",
    ),
    "de": (
        "Meine Steuer-ID lautet {n}.",
        "Hallo, meine Identifikationsnummer ist {n}, bitte prüfen.",
        "{n} ist die Nummer meines Mannes.",
        "Könnten Sie {n} nachschlagen?",
        "IdNr.:{n}",
        "Steuerliche Identifikationsnummer: {n} (laut Brief vom Finanzamt)",
    ),
    "ja": (
        "私のマイナンバーは{n}です。",
        "個人番号：{n}",
        "マイナンバー {n} を登録したいです。",
        "番号は{n}で合っていますか？",
        "{n}の件で問い合わせました。",
        "夫の番号（{n}）も必要ですか",
    ),
    "en": (
        "My personal number is {n}, can you help?",
        "Hi, here it is: {n}.",
        "{n} is my son's number",
        "Could you look up {n} please?",
        "ID={n}",
        "(number: {n}) thanks!",
    ),
}

PHONE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "sv": ("Ring mig på {n}", "Mitt nummer: {n}", "Du når mig på {n} efter kl 17", "tel {n}"),
    "da": ("Ring på {n}", "tlf. {n}", "Mit mobilnummer er {n}.", "Skriv til {n} i aften"),
    "de": ("Rufen Sie mich unter {n} an", "Tel.: {n}", "Handy {n}, ab 18 Uhr", "Meine Nummer: {n}"),
    "ja": ("電話番号は{n}です", "携帯：{n}", "{n}に電話してください", "連絡先 {n}"),
    "en": ("Call me on {n}", "phone {n}", "You can reach me at {n} after 5pm", "my number is {n}"),
}

EMAIL_TEMPLATES: dict[str, tuple[str, ...]] = {
    "sv": ("Mejla mig på {n}, tack.", "Min e-post: {n}", "{n} är min adress"),
    "da": ("Skriv til {n}.", "Min mail er {n}", "mail: {n} (privat)"),
    "de": ("Bitte an {n} schreiben.", "E-Mail: {n}", "Meine Adresse ist {n}!"),
    "ja": ("メールは{n}です", "連絡先：{n}", "{n}までお願いします"),
    "en": ("Email me at {n}.", "my address is {n}", "<{n}>"),
}


def embed(template: str, piece: str, kind: str) -> tuple[str, Span]:
    start = template.index("{n}")
    text = template.replace("{n}", piece)
    return text, Span(kind, start, start + len(piece))


# -- positives -----------------------------------------------------------------------


def identity_positives(per_kind: int = 60, seed: int = 11) -> list[Case]:
    """``per_kind`` valid numbers of each kind, each in every form, in two languages."""
    rng = random.Random(seed)
    out: list[Case] = []
    for kind in IDENTITY:
        for _ in range(per_kind):
            if kind in ("personnummer", "samordningsnummer") and rng.random() < 0.1:
                digits = se_number(
                    birth(rng, 1920, 1926), rng.randrange(1000), kind != "personnummer"
                )
            else:
                digits = number(rng, kind)
            for form in forms_for(kind, digits):
                for lang in rng.sample(LANGS, 2):
                    text, span = embed(
                        rng.choice(TEMPLATES[lang]), render(kind, digits, form), kind
                    )
                    out.append(Case(text, (span,), lang, "generated", form))
    return out


def _phone_numbers(rng: random.Random, region: str, count: int) -> list[phonenumbers.PhoneNumber]:
    out: list[phonenumbers.PhoneNumber] = []
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        assert example is not None
        nsn = phonenumbers.national_significant_number(example)
        while len(out) < count * (1 + int(kind == PhoneNumberType.FIXED_LINE)) // 2 + count // 2:
            keep = 2 if region != "DE" else 3
            candidate = nsn[:keep] + "".join(str(rng.randrange(10)) for _ in nsn[keep:])
            parsed = phonenumbers.parse(candidate, region)
            if (
                phonenumbers.is_valid_number(parsed)
                and phonenumbers.region_code_for_number(parsed) == region
            ):
                out.append(parsed)
    return out[:count]


def phone_forms(parsed: phonenumbers.PhoneNumber, region: str) -> dict[str, str]:
    national = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(parsed)
    forms = {
        "national": national,
        "international": international,
        "E.164": e164,
        "00 international": "00" + international[1:],
        "bare national": ("" if region == "DK" else "0") + nsn,
        "full-width national": full_width(national),
    }
    if region == "DE":
        area = national.split(" ")[0]
        rest = "".join(national.split(" ")[1:])
        forms["(0area) rest"] = f"({area}) {rest}"
        forms["0area/rest"] = f"{area}/{rest}"
        forms["+49 (0)area rest"] = f"+49 (0){area[1:]} {rest}"
    if region == "SE":
        forms["0NN-NNNNNNN"] = f"0{nsn[:2]}-{nsn[2:]}" if nsn.startswith("7") else national
    if region == "DK":
        forms["NNNN NNNN"] = f"{nsn[:4]} {nsn[4:]}"
    return forms


def phone_positives(per_region: int = 40, seed: int = 12) -> list[Case]:
    rng = random.Random(seed)
    lang_of = {"SE": "sv", "DK": "da", "DE": "de", "JP": "ja"}
    out: list[Case] = []
    for region, lang in lang_of.items():
        for parsed in _phone_numbers(rng, region, per_region):
            for form, piece in phone_forms(parsed, region).items():
                for where in (lang, "en"):
                    text, span = embed(rng.choice(PHONE_TEMPLATES[where]), piece, "phone")
                    out.append(Case(text, (span,), where, "generated", f"{region} {form}"))
    return out


LOCALS = (
    "anna.svensson",
    "lars+koe",
    "mette_hansen",
    "j.mueller",
    "müller",
    "björn.ström",
    "taro.yamada",
    "info",
    "k-nakamura99",
    "o'brien",
)
DOMAINS = (
    "exempel.se",
    "firma.dk",
    "beispiel.de",
    "example.co.jp",
    "mail.example.com",
    "företag.se",
)


def email_positives() -> list[Case]:
    out: list[Case] = []
    k = 0
    for local in LOCALS:
        for domain in DOMAINS:
            lang = LANGS[k % 5]
            template = EMAIL_TEMPLATES[lang][k % 3]
            k += 1
            for form, piece in (
                ("plain", f"{local}@{domain}"),
                ("(at)", f"{local}(at){domain}"),
                ("full-width", full_width_ascii(f"{local}@{domain}")),
            ):
                text, span = embed(template, piece, "email")
                out.append(Case(text, (span,), lang, "generated", form))
    return out


def full_width_ascii(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# Hand-written messages; {kind:number} marks what must be found.
HAND: tuple[tuple[str, str], ...] = (
    (
        "sv",
        "Hej! Jag heter Sara och mitt personnummer är "
        "{personnummer:19850312-2387}. Jag behöver ett nytt ID-kort.",
    ),
    ("sv", "pnr {personnummer:850312 2387}, ring gärna {phone:070-412 33 18} efter lunch"),
    ("sv", "Min pappa är född 1921, hans nummer är {personnummer:211201+1230}"),
    (
        "sv",
        "Jag har samordningsnummer {samordningsnummer:900664-2384} och undrar om bostadsbidrag.",
    ),
    ("sv", "Skicka beslutet till {email:sara.lind@exempel.se} och inte till min gamla adress."),
    ("sv", "{personnummer:200103152385} är min dotters nummer, hon är 25 år"),
    ("sv", "Mitt nummer är {personnummer:８５０３１２－２３８７} (skrev på mobilen)"),
    ("da", "Hej, mit CPR-nummer er {cpr:120385-1234} og jeg venter stadig på svar fra kommunen."),
    ("da", "cpr {cpr:050607 4120}, min datters. Ring på {phone:20 30 40 50} hvis noget mangler"),
    ("da", "Jeg er født i 1985, cpr.nr. {cpr:1203851231}?? nej vent, det er {cpr:120385-1236}"),
    ("da", "Send venligst til {email:mette.hansen@firma.dk}, tak."),
    (
        "de",
        "Guten Tag, meine Steuer-ID ist {steuer_idnr:86 095 742 "
        "719}, ich habe eine Frage zur Rente.",
    ),
    ("de", "Identifikationsnummer {steuer_idnr:86095742719} – laut Lohnabrechnung"),
    (
        "de",
        "Bitte rufen Sie mich unter {phone:030 12345678} an oder "
        "schreiben Sie an {email:j.mueller@beispiel.de}.",
    ),
    ("de", "Tel. {phone:+49 (0)30 1234567}, Handy {phone:0151 23456789}"),
    ("ja", "私のマイナンバーは{my_number:１２３４ ５６７８ ９０１８}です。確認をお願いします。"),
    ("ja", "個人番号 {my_number:123456789018} の通知カードを無くしました"),
    ("ja", "携帯は{phone:090-1234-5678}、メールは{email:taro.yamada@example.co.jp}です"),
    ("ja", "マイナンバー：{my_number:1234-5678-9018}、電話：{phone:03-1234-5678}"),
    (
        "en",
        "Hi, my Swedish personal number is "
        "{personnummer:19850312-2387} and my phone is {phone:+46 70 412 33 18}.",
    ),
    ("en", "I moved from Denmark, CPR {cpr:120385-1234}, do I need a samordningsnummer?"),
    ("en", "My German tax ID is {steuer_idnr:86 095 742 719}, email {email:kim@example.com}"),
    ("en", "Reach me at {phone:+81 90-1234-5678} or {email:o'brien@mail.example.com}."),
)


def _hand_cases() -> list[Case]:
    out: list[Case] = []
    for lang, marked in HAND:
        spans: list[Span] = []
        text = ""
        rest = marked
        while "{" in rest:
            before, _, rest = rest.partition("{")
            inner, _, rest = rest.partition("}")
            kind, _, piece = inner.partition(":")
            text += before
            spans.append(Span(kind, len(text), len(text) + len(piece)))
            text += piece
        text += rest
        out.append(Case(text, tuple(spans), lang, "hand", "hand-written"))
    return out


def positives() -> list[Case]:
    return [*identity_positives(), *phone_positives(), *email_positives(), *_hand_cases()]


# -- negatives -----------------------------------------------------------------------

NEGATIVE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "sv": ("Hej! {n} gäller fortfarande?", "Det står {n} på lappen.", "Se {n}, tack.", "{n}"),
    "da": ("Hej, gælder {n} stadig?", "Der står {n} på sedlen.", "Se {n}, tak.", "{n}"),
    "de": ("Hallo, gilt {n} noch?", "Auf dem Zettel steht {n}.", "Siehe {n}, danke.", "{n}"),
    "ja": ("{n}はまだ有効ですか？", "紙には{n}と書いてあります。", "{n}をご確認ください。", "{n}"),
    "en": ("Hi, is {n} still valid?", "The note says {n}.", "See {n}, thanks.", "{n}"),
}

FIXED_NEGATIVES: dict[str, tuple[str, ...]] = {
    "ticket": ("A-042", "B-117", "C-003", "Nummer A 12", "kö-nummer D-210", "ticket E-999", "A042"),
    "time": (
        "10:30",
        "kl. 10.30",
        "08.00–17.00",
        "0800-1700",
        "9-17",
        "14:00 - 16:30",
        "kl 13.15",
        "10時30分",
        "um 14:30 Uhr",
        "at 9:45 am",
    ),
    "amount": (
        "1 250 kr",
        "12 345,50 kr",
        "1.250 kr.",
        "12.345,67 €",
        "1.234.567 EUR",
        "¥12,345",
        "12,345円",
        "$1,250.00",
        "2 500 000 kr",
        "1 234 567 890 kr",
        "12 345 678 901 €",
        "SEK 45 000",
        "EUR 1.234.567,89",
        "1234567890 kr",
        "450 000:-",
        "12 345 678 kr",
    ),
    "not a phone": (
        "ring 112",
        "1177 Vårdguiden",
        "116 117",
        "SMS 72 900",
        "Raum 2.104",
        "version 10.0.19045",
        "192.168.1.10",
        "ISBN 978-3-16-148410-0",
        "ISBN 978-91-7000-123-4",
        "Gleis 7",
        "ICE 1234",
        "Tor 12",
        "ext. 4321",
        "112番",
        "disk 4",
        "1.2.3.4.5.6.7.8",
        "3,14159265358979",
    ),
    "postcode": (
        "114 55 Stockholm",
        "SE-114 55",
        "2100 København Ø",
        "DK-8000 Aarhus C",
        "10115 Berlin",
        "D-80331 München",
        "〒100-0001",
        "100-0001 東京都千代田区千代田1-1",
        "London SW1A 1AA",
    ),
    "case number": (
        "Dnr 2026/1234",
        "ärende 2026-004512",
        "Sag nr. 2026-12345",
        "j.nr. 26/01234",
        "Az. 12 O 345/26",
        "Aktenzeichen 2 K 1234/26",
        "受付番号 2026-001234",
        "Case #2026-0042",
        "case 4412-2026",
        "dnr 1.2.3-2026-12345",
        "Vorgang 2026/004512-3",
    ),
    "giro and registry": (
        "Bankgiro 5050-1055",
        "BG 123-4567",
        "Plusgiro 12 34 56-7",
        "pg 4711-2",
        "CVR 25313763",
        "CVR-nr. 12345674",
        "HRB 123456",
        "USt-IdNr. DE123456789",
        "EAN 5701234567890",
        "IMEI 356938035643809",
    ),
    "year": ("år 2026", "1998", "2026年", "since 1995", "1980–1985", "1980-1985", "i 1921"),
    "bank amount": (
        "Saldo: 12 345,67 kr",
        "Überweisung über 1.250,00 EUR",
        "överföring 45 000 kr",
        "残高 1,234,567円",
        "Restschuld 123.456,78 €",
        "balance $12,345.67",
        "indbetaling 8.500,00 kr.",
    ),
}

LABELS: dict[str, tuple[str, ...]] = {
    "sv": ("Ordernummer", "Fakturanummer:", "OCR", "ordernr", "Kundnummer", "Bokningsnummer"),
    "da": ("Ordrenummer", "Fakturanr.", "Kundenummer:", "ordre nr."),
    "de": ("Bestellnummer", "Rechnungsnummer:", "Kundennummer", "Sendungsnummer", "Auftragsnr."),
    "ja": ("注文番号は", "伝票番号", "お問い合わせ番号：", "予約番号", "会員番号"),
    "en": ("Order no.", "Invoice number:", "tracking", "order #", "Customer number", "booking ref"),
}

HAND_NEGATIVES: tuple[tuple[str, str], ...] = (
    (
        "sv",
        "Hej! Jag har nummer A-042 och väntar vid disk 4. Mötet är "
        "2026-12-01 kl. 10.30 och avgiften är 1 250 kr.",
    ),
    (
        "sv",
        "Vi har öppet 08.00–17.00, lunchstängt 12–13. "
        "Besöksadress: Storgatan 12, 114 55 Stockholm.",
    ),
    (
        "sv",
        "Mitt ärende har dnr 2026/1234 och jag skickade in det den 15/11. Ring 112 om det brinner!",
    ),
    ("sv", "Fakturan på 12 345,50 kr ska betalas senast 2026-12-31."),
    ("sv", "Jag föddes 1980 och flyttade hit 2019. Barnbidraget är 1 250 kr/mån."),
    ("sv", "Det tog 45 minuter och kön var 120 personer lång, nummer 87 i kön."),
    ("da", "Jeg har nummer B-117. Mødet er den 01.12.2026 kl. 10.30, og gebyret er 1.250 kr."),
    ("da", "Åbent 8-16. Adresse: Vesterbrogade 10, 1620 København V."),
    ("da", "Sagsnummer 2026-12345, beløb 12.345,67 kr., betalt den 3/12."),
    ("da", "Boligstøtte: 3.456 kr. om måneden fra 1. januar 2027."),
    ("da", "Firmaet har CVR-nr. 25313763 og ligger i 8000 Aarhus C."),
    ("sv", "Betala till bankgiro 5050-1055 senast 2026-12-31, org.nr 556036-0793."),
    ("sv", "Plusgiro 12 34 56-7, swish 123 456 78 90 till föreningen"),
    (
        "de",
        "Ich habe die Nummer C-003 und warte an Schalter 5. Termin: "
        "01.12.2026, 14:30 Uhr. Gebühr: 12.345,67 €.",
    ),
    ("de", "Adresse: Hauptstraße 1, 10115 Berlin. Aktenzeichen 2 K 1234/26."),
    ("de", "Rechnung Nr. 2026-004512 über 1.250,00 EUR, fällig am 15.01.2027."),
    ("de", "Sprechzeiten Mo–Fr 8:00–12:00, Zimmer 2.104, Gebäude B."),
    ("de", "Bestellnummer 302-1234567-1234567, geliefert am 28.11.2026."),
    ("ja", "受付番号はA-042です。2026年12月1日10時30分に伺います。手数料は1,250円です。"),
    ("ja", "〒100-0001 東京都千代田区千代田1-1 にお越しください。"),
    ("ja", "注文番号123456789012の件で、12,345円を振り込みました。"),
    ("ja", "伝票番号 1234-5678-9018 の荷物がまだ届きません。"),
    ("ja", "窓口は9時から17時まで、2026/12/01は休みです。"),
    (
        "en",
        "I have ticket A-042 and my appointment is on 2026-12-01 at 10:30. The fee is $1,250.00.",
    ),
    ("en", "Order no. 4500123456 was shipped on 12/01/2026 and cost 1 250 kr."),
    ("en", "Case #2026-0042: the office at 10115 Berlin is open 9-17, room 2.104."),
    ("en", "I was born in 1985 and have lived here since 2019, about 7 years."),
    ("en", "tracking 1Z999AA10123456784, invoice number: 2026001234"),
)

DATE_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%Y年%m月%d日",
    "%d.%m.%y",
    "%Y%m%d",
)


def is_phone(piece: str) -> bool:
    """A valid national phone number of SE, DE or JP as written (bare, leading 0)?"""
    piece = unicodedata.normalize("NFKC", piece)
    if not piece.startswith("0"):
        return False
    for region in ("SE", "DE", "JP"):
        try:
            parsed = phonenumbers.parse(piece, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed) and (
            phonenumbers.region_code_for_number(parsed) == region
        ):
            return True
    return False


def wrong_check(seed: int = 16, per_kind: int = 40) -> list[tuple[str, str, str]]:
    """(kind, form, written) numbers with a wrong check digit, valid under no scheme of
    their shape: a valid number of ``kind`` with its last digit changed."""
    rng = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    for kind in IDENTITY:
        for _ in range(per_kind):
            digits = number(rng, kind)
            for form in forms_for(kind, digits):
                which = FORMS[scheme(kind)][form][0]
                base = digits[2:] if which == "10" else digits
                body, check = base[:-1], int(base[-1])
                for step in rng.sample(range(1, 10), 9):
                    wrong = body + str((check + step) % 10)
                    if not valid_anywhere(wrong, form):
                        written = render(
                            kind, (digits[:2] + wrong) if which == "10" else wrong, form
                        )
                        out.append((kind, form, written))
                        break
    return out


def phone_lookalikes() -> list[str]:
    """The wrong-check-digit numbers that, written bare with a leading 0, are valid phone
    numbers (``0208295838`` is a Swedish 020 number): redacted as phone numbers, so they
    are not negatives. ``bench.privacy`` counts them."""
    return [w for _k, form, w in wrong_check() if form_is_bare(form) and is_phone(w)]


def form_is_bare(form: str) -> bool:
    return form.removeprefix("full-width ") in (
        "YYMMDDNNNN",
        "YYYYMMDDNNNN",
        "DDMMYYNNNN",
        "11",
        "12",
    )


def org_number(rng: random.Random) -> str:
    """A Swedish organisation number: Luhn like a personnummer, but "month" 20 or more."""
    body = f"{rng.choice('25789')}{rng.randrange(10)}{rng.randint(2, 9)}" + "".join(
        str(rng.randrange(10)) for _ in range(6)
    )
    return body + luhn.calc_check_digit(body)


def negatives(seed: int = 13) -> list[Case]:
    rng = random.Random(seed)
    out: list[Case] = []

    def add(category: str, piece: str, lang: str | None = None) -> None:
        lang = lang or rng.choice(LANGS)
        text = rng.choice(NEGATIVE_TEMPLATES[lang]).replace("{n}", piece)
        out.append(Case(text, (), lang, "generated", category))

    for category, pieces in FIXED_NEGATIVES.items():
        for piece in pieces:
            for lang in LANGS:
                add(category, piece, lang)
    for _ in range(200):
        day = birth(rng, 1950, 2030)
        add("date", day.strftime(rng.choice(DATE_FORMATS)))
        moment = f"{day:%Y-%m-%d} {rng.randint(7, 18):02d}:{rng.choice((0, 15, 30, 45)):02d}"
        add("date", moment)
    for _ in range(200):
        amount = rng.randint(100, 99_999_999)
        cents = rng.randint(0, 99)
        add("amount", f"{amount:,} kr".replace(",", " "))
        add(
            "amount",
            f"{amount:,},{cents:02d} €".replace(",", ".", amount >= 1000).replace(",", "."),
        )
        add("amount", f"{amount:,}円")
    for lang, labels in LABELS.items():
        for label in labels:
            for shape in ((10,), (12,), (4, 4, 4), (11,), (6, 4), (8, 4), (2, 3, 3, 3), (8,), (9,)):
                for _ in range(3):
                    digits = str(rng.randint(1, 9)) + "".join(
                        str(rng.randrange(10)) for _ in range(sum(shape) - 1)
                    )
                    piece = group(digits, shape, ("-",) if rng.random() < 0.3 else (" ",))
                    text = f"{label} {piece}" if not label.endswith("は") else f"{label}{piece}"
                    add("labelled number", text, lang)
    for _ in range(60):
        org = org_number(rng)
        add("organisation number", f"{org[:6]}-{org[6:]}")
        add("organisation number", f"Org.nr {org[:6]}-{org[6:]}", rng.choice(("sv", "en")))
        add("organisation number", org)
    for kind, form, written in wrong_check():
        if not (form_is_bare(form) and is_phone(written)):
            add(f"wrong check digit: {kind} {form}", written)
    for lang, text in HAND_NEGATIVES:
        out.append(Case(text, (), lang, "hand", "hand-written"))
    return out


def unlabelled_random(length: int, count: int, seed: int = 14) -> list[str]:
    """Bare random digit strings (first digit not 0) for chance-rate measurements."""
    rng = random.Random(seed + length)
    return [
        str(rng.randint(1, 9)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
        for _ in range(count)
    ]


def chat_lines(count: int, seed: int = 15, lo: int = 60, hi: int = 200) -> list[str]:
    """Chat lines of ``lo``-``hi`` characters: about 60 % plain talk, 30 % with harmless
    numbers (the hand-written negatives), 10 % with personal data (the hand-written
    positives), padded with more talk."""
    rng = random.Random(seed)
    talk = [c.text for c in negatives() if c.source == "hand"]
    pii = [c.text for c in positives() if c.source == "hand"]
    plain = (
        "Hej, var är kön till pass?",
        "Jeg venter på nummer 42, hvor længe tager det?",
        "Wo finde ich den Schalter für Wohngeld? Danke!",
        "すみません、年金の窓口はどこですか？",
        "Is the desk for residence permits open today?",
        "Tack för hjälpen, det gick snabbt idag.",
        "Kan nogen hjælpe mig med at finde skranken for boligstøtte?",
        "Ich warte schon eine halbe Stunde, ist das normal?",
        "予約なしでも大丈夫ですか？",
        "Thanks, I found the right queue.",
    )
    out: list[str] = []
    while len(out) < count:
        roll = rng.random()
        pool = plain if roll < 0.6 else talk if roll < 0.9 else pii
        line = rng.choice(pool)
        target = rng.randint(lo, hi)
        while len(line) < target:
            line += " " + rng.choice(plain)
        out.append(line[:target])
    return out
