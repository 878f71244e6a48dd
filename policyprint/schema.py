"""The content model: what each YAML file may hold, one docstring per field.

A spec checks a value and appends Problems; it never stops at the first one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from .content import Source
from .errors import Problem
from .fonts import FONT_PACKAGES


def describe(value: Any) -> str:
    """Name the type of a found value the way a content editor would."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a yes/no value ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    return type(value).__name__


def shown(value: str, limit: int = 120) -> str:
    """A found value as a message shows it: quoted, and cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit - 40]!r}… ({len(value):,} characters)"


def did_you_mean(found: str, known, n: int = 3) -> str:
    """' (did you mean 'x' or 'y'?)' for the nearest known names, or nothing."""
    near = difflib.get_close_matches(found, sorted(known), n=n, cutoff=0.6)
    if not near:
        return ""
    return " (did you mean " + " or ".join(f"'{n}'" for n in near) + "?)"


class Spec:
    expected = "a value"

    def check(self, value: Any, path: tuple, src: Source, out: list[Problem]) -> None:
        raise NotImplementedError

    def wrong_type(self, value, path, src, out) -> None:
        out.append(src.problem(path, f"expected {self.expected}, got {describe(value)}"))


# Length caps by kind of text: generous for real content, and a bound on what a
# hostile or broken file can make the build do.
NAME_LEN = 200        # a name, phone number, address line, id
TITLE_LEN = 300       # a title, heading, kicker, label
PARAGRAPH_LEN = 4000  # a paragraph (the policy's longest is about 520 characters)
MAX_ITEMS = 200       # items in any list


# Control characters other than line break and tab: invisible, and able to end
# a string in CSS or confuse a reader. (Bidi marks and joiners are allowed.)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Text(Spec):
    """Non-empty text; `pattern` restricts its form (ids, e-mail addresses); `max_len` caps its length."""

    expected = "text"

    def __init__(self, pattern: str | None = None, what: str | None = None,
                 max_len: int = PARAGRAPH_LEN, allow_empty: bool = False):
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what
        self.max_len = max_len
        self.allow_empty = allow_empty

    def check(self, value, path, src, out):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # A phone number such as 44772000, or a word such as 0, may load as a number: it is
            # text from here on, in the data too, so that later stages never meet a number.
            value = str(value)
            src.replace(path, value)
        if not isinstance(value, str):
            return self.wrong_type(value, path, src, out)
        control = _CONTROL.search(value)
        if self.pattern and not self.pattern.fullmatch(value):
            out.append(src.problem(path, f"expected {self.what}, got {shown(value)}"))
        elif len(value) > self.max_len:
            out.append(src.problem(path, f"expected at most {self.max_len:,} characters, got {len(value):,}"))
        elif control:
            out.append(src.problem(path, f"the invisible control character U+{ord(control.group()):04X} is not "
                                         "allowed in content; delete it"))
        elif not value.strip():
            if not self.allow_empty:
                out.append(src.problem(path, "expected text, got an empty string"))
        else:
            self.check_text(value, path, src, out)

    def check_text(self, value: str, path, src, out) -> None:
        """Further checks of a value of the right form (subclasses)."""


class Number(Spec):
    expected = "a number"

    def __init__(self, minimum: float | None = None, maximum: float | None = None):
        self.minimum, self.maximum = minimum, maximum

    def check(self, value, path, src, out):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.wrong_type(value, path, src, out)
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            out.append(src.problem(path, f"expected a number from {self.minimum} to {self.maximum}, got {value}"))


class Date(Spec):
    expected = "a date (YYYY-MM-DD)"

    def check(self, value, path, src, out):
        if not isinstance(value, dt.date):
            self.wrong_type(value, path, src, out)


class Bool(Spec):
    expected = "yes or no (true/false)"

    def check(self, value, path, src, out):
        if not isinstance(value, bool):
            self.wrong_type(value, path, src, out)


class Choice(Spec):
    def __init__(self, *choices: str):
        self.choices = choices
        self.expected = "one of " + ", ".join(choices)

    def check(self, value, path, src, out):
        if value not in self.choices:
            out.append(src.problem(path, f"expected {self.expected}, got {shown(value) if isinstance(value, str) else describe(value)}"))


class ListOf(Spec):
    expected = "a list"

    def __init__(self, item: Spec, min_items: int = 0, max_items: int = MAX_ITEMS):
        self.item, self.min_items, self.max_items = item, min_items, max_items

    def check(self, value, path, src, out):
        if not isinstance(value, list):
            return self.wrong_type(value, path, src, out)
        if len(value) < self.min_items:
            out.append(src.problem(path, f"expected at least {self.min_items} item(s), got {len(value)}"))
        if len(value) > self.max_items:
            out.append(src.problem(path, f"expected at most {self.max_items} item(s), got {len(value):,}"))
            return
        for i, item in enumerate(value):
            self.item.check(item, path + (i,), src, out)


class MapOf(Spec):
    """A mapping from free keys (ids, words) to values of one kind; `key` restricts the keys' form."""

    expected = "a mapping"

    def __init__(self, value: Spec, key: "Text | None" = None, max_items: int = MAX_ITEMS):
        self.value, self.key, self.max_items = value, key, max_items

    def check(self, value, path, src, out):
        if not isinstance(value, dict):
            return self.wrong_type(value, path, src, out)
        if len(value) > self.max_items:
            out.append(src.problem(path, f"expected at most {self.max_items} keys, got {len(value):,}"))
            return
        for key, item in value.items():
            if self.key is not None and not (len(key) <= NAME_LEN and self.key.pattern.fullmatch(key)):
                out.append(src.problem(path + (key,), f"expected a key of {self.key.what}, got {key[:80]!r}"))
                continue
            self.value.check(item, path + (key,), src, out)


@dataclass
class Field:
    spec: Spec
    doc: str
    required: bool = True


@dataclass
class Mapping(Spec):
    """A mapping with known keys. Unknown keys are errors: they are usually typos."""

    fields: dict[str, Field] = field(default_factory=dict)
    expected: str = "a mapping"

    def check(self, value, path, src, out):
        if not isinstance(value, dict):
            return self.wrong_type(value, path, src, out)
        for name, f in self.fields.items():
            if name in value:
                f.spec.check(value[name], path + (name,), src, out)
            elif f.required:
                out.append(src.problem(path, f"missing required key '{name}' ({f.doc})"))
        for name in value:
            if name not in self.fields:
                known = did_you_mean(name, self.fields, n=1) or " (known keys: " + ", ".join(self.fields) + ")"
                out.append(src.problem(path + (name,), f"unknown key '{name if len(name) <= 80 else name[:60] + '…'}'{known}"))


class Email(Text):
    """An e-mail address, checked by the email-validator package (syntax only, no network)."""

    def __init__(self):
        super().__init__(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", "an e-mail address such as navn@ballerup.dk",
                         max_len=254)

    def check_text(self, value, path, src, out):
        from email_validator import EmailNotValidError, validate_email

        try:
            found = validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            out.append(src.problem(path, f"expected {self.what}, got {value!r} ({exc})"))
            return
        if found.normalized != value or not found.ascii_email:
            out.append(src.problem(path, f"expected {self.what}, got {value!r} (write it as {found.normalized!r})"))


INSTITUTION_KINDS = ("dagtilbud", "skole", "BFO", "klub", "ungeindsats")
INSTITUTION_KIND = Text("|".join(INSTITUTION_KINDS), "a kind of institution (" + ", ".join(INSTITUTION_KINDS) + ")")
ID = Text(r"[a-z0-9][a-z0-9_-]*", "an id of lower-case letters, digits, '-' and '_'", max_len=64)
ROLE = Text(r"[a-z][a-z0-9-]*", "lower-case letters, digits and '-' (a role such as accent-dark)", max_len=40)
URL = Text(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+", "a web address starting with http:// or https://",
           max_len=2000)
EMAIL = Email()
NAME = Text(max_len=NAME_LEN)
TITLE = Text(max_len=TITLE_LEN)
PARAGRAPHS = ListOf(Text(), min_items=1, max_items=100)
LENGTH = Text(r"\d{1,3}(\.\d{1,2})?(pt|mm|px|rem|em)", "a length such as 10pt or 4mm", max_len=16)

ITEM = Mapping({
    "id": Field(ID, "a stable id that posters and leaflets quote"),
    "text": Field(Text(), "the item's words, as in the policy"),
})

LIST = Mapping({
    "id": Field(ID, "the list's id"),
    "kind": Field(Choice("commitments", "bullets", "numbered"),
                  "commitments are set apart as promises; bullets and numbered are plain lists"),
    "intro": Field(Text(), "the sentence that introduces the list"),
    "items": Field(ListOf(ITEM, min_items=1, max_items=50), "the list's items"),
})

SUBSECTION = Mapping({
    "id": Field(ID, "the subsection's id"),
    "title": Field(TITLE, "the subsection heading"),
    "concept": Field(Choice("dannelse", "laering", "trivsel"), "colours the subsection by concept", required=False),
    "lead": Field(PARAGRAPHS, "pull-quote paragraphs", required=False),
    "body": Field(PARAGRAPHS, "body paragraphs"),
    "figure": Field(Choice("age_bands"), "a figure drawn from data", required=False),
})

SECTION = Mapping({
    "id": Field(ID, "the section's id, used for links and bookmarks"),
    "title": Field(TITLE, "the section heading"),
    "toc_title": Field(TITLE, "a shorter title for the contents page", required=False),
    "page": Field(Number(1, 999), "the page the section starts on in the page plan"),
    "layout": Field(Choice("lead-aside", "opener", "columns", "figure"), "how the section is laid out"),
    "lead": Field(PARAGRAPHS, "the pull-quote paragraphs", required=False),
    "body": Field(PARAGRAPHS, "body paragraphs", required=False),
    "motto": Field(Mapping({
        "intro": Field(Text(), "the words before the motto"),
        "text": Field(Text(), "the motto"),
    }), "a set-apart motto", required=False),
    "lists": Field(ListOf(LIST), "lists, in order", required=False),
    "subsections": Field(ListOf(SUBSECTION), "subsections, in order", required=False),
})

BAND = Mapping({
    "id": Field(ID, "the band's id"),
    "ages": Field(Text(allow_empty=True), "the age label, such as '0-5 år'; empty where the policy gives none"),
    "label": Field(TITLE, "what the band is, such as 'Dagtilbud'"),
    "from": Field(Number(0, 30), "where the bar starts on the age axis"),
    "to": Field(Number(0, 30), "where the bar ends on the age axis"),
})

POLICY_FILE = Mapping({
    "meta": Field(Mapping({
        "title": Field(TITLE, "the publication's title"),
        "subtitle": Field(TITLE, "the subtitle"),
        "author": Field(NAME, "the author shown in the PDF's properties"),
        "subject": Field(Text(), "one sentence on what the publication is"),
        "keywords": Field(ListOf(NAME, max_items=30), "search keywords"),
        "date": Field(Date(), "the publication date; PDF dates come from it"),
        "url": Field(URL, "where the full policy is on the web (the QR code's target)"),
    }), "the publication's metadata"),
    "sections": Field(ListOf(SECTION, min_items=1), "the policy's sections, in order"),
    "age_bands": Field(Mapping({
        "title": Field(TITLE, "the diagram's title"),
        "frame": Field(TITLE, "the label over all bands"),
        "motto": Field(TITLE, "the label under all bands"),
        "axis_max": Field(Number(1, 30), "the last age on the axis"),
        "bands": Field(ListOf(BAND, min_items=1), "the age bands"),
    }), "the age-band diagram's data"),
})

# The contact fields a publisher and an institution share.
CONTACT = {
    "address": Field(ListOf(NAME, min_items=1, max_items=8), "address lines"),
    "phone": Field(NAME, "phone number"),
    "email": Field(EMAIL, "e-mail address"),
}

SITE_FILE = Mapping({
    "publisher": Field(Mapping({
        "name": Field(NAME, "the publisher's name"),
        "department": Field(NAME, "the responsible department", required=False),
        **CONTACT,
        "web": Field(URL, "web site"),
        "logo": Field(NAME, "logo file, relative to content/"),
        "logo_alt": Field(TITLE, "the logo's alt text"),
    }), "the municipality's general contact"),
})

LANG_CODE = Text(r"[a-z]{2,3}", "an ISO 639 language code such as da", max_len=3)

LANGUAGES_FILE = Mapping({
    "languages": Field(ListOf(Mapping({
        "code": Field(LANG_CODE, "the ISO 639-1 code; names the strings file and the output folder"),
        "name": Field(NAME, "the language's name for itself, such as Dansk"),
        "dir": Field(Choice("ltr", "rtl"), "the writing direction"),
        "font": Field(ROLE, "the brand font role (content/brand.yaml fonts:) the language's text is set in; "
                      "default: text", required=False),
        "hyphenation": Field(Text(r"[a-z]{2,3}(_[A-Z]{2})?|none", "a pyphen dictionary such as da_DK, or none",
                                  max_len=10),
                             "the pyphen dictionary that hyphenates the language's text, or none "
                             "(default: none)", required=False),
        "locale": Field(Text(r"[a-z]{2,3}(_[A-Z]{2})?", "a CLDR locale such as en_GB", max_len=10),
                        "the CLDR locale (through Babel) for dates, numbers and quotation marks; "
                        "default: the code", required=False),
        "page_plan": Field(Mapping({
            "pages": Field(Number(1, 999), "the brochure's page count in this language"),
            "sections": Field(MapOf(Number(1, 999), key=ID), "section id: the page it starts on"),
        }), "the brochure's page plan in this language, where its text runs longer than the Danish "
            "(default: the plan in content/policy.yaml)", required=False),
        "lix": Field(Bool(), "the youth leaflet's LIX limit (leaflets.yaml max_lix) applies to this language too "
                     "(LIX suits Scandinavian and English text, not Ukrainian, Arabic or Turkish)", required=False),
        "breathe": Field(MapOf(ListOf(Number(2, 3), max_items=2), key=ID),
                         "per leaflet audience, inside pages designed to breathe in this language (its text "
                         "is shorter on the page than the Danish); added to the leaflet's own breathe:",
                         required=False),
        "quotes": Field(ListOf(Text(max_len=3), min_items=2, max_items=2),
                        "opening and closing quotation marks: CLDR's for the locale (Babel does not ship "
                        "them), or the project's own choice (Danish: » and «)"),
    }), min_items=1, max_items=40), "the languages the pack can be built in"),
})

TRANSLATION_FILE = MapOf(Mapping({
    "text": Field(Text(), "the translated text"),
    "source": Field(Text(r"[0-9a-f]{12}", "12 hex digits", max_len=12),
                    "the fingerprint of the Danish text it was translated from (policyprint/translations.py); "
                    "when the Danish changes, the entry is stale"),
    "status": Field(Choice("draft", "approved"), "draft, or approved by a person (approved_by, date)"),
    "approved_by": Field(NAME, "who approved the translation", required=False),
    "date": Field(Date(), "when it was approved", required=False),
}), key=Text(r"[A-Za-z0-9_.-]+", "a translation id such as policy.sections.vision.title"), max_items=5000)

STRINGS_FILE = MapOf(Text(max_len=1000), key=Text(r"[a-z][A-Za-z0-9_]*", "letters, digits and '_'"))

HYPHENATION_FILE = Mapping({
    "exceptions": Field(ListOf(MapOf(Text(max_len=120), key=Text(r"[^|\n]{1,100}", "a word of at most 100 characters"),
                                      max_items=1), max_items=500),
                        "words and where they may break, marked with |"),
})

PRODUCTS_FILE = Mapping({
    "posters": Field(Mapping({
        "template": Field(NAME, "the poster template under templates/"),
        "stylesheet": Field(NAME, "the poster stylesheet under styles/"),
        "size": Field(Choice("A4", "A3", "A2"), "the default poster size"),
        "pages": Field(Number(1, 1), "a poster is exactly one page"),
        "personalise": Field(Bool(), "builds per institution with --institution"),
    }), "what every poster in content/posters.yaml is built with"),
    "variants": Field(ListOf(Choice("screen", "print", "booklet"), min_items=1),
                      "the variants built by default"),
    "institution_products": Field(MapOf(ListOf(ID, min_items=1, max_items=60), key=INSTITUTION_KIND),
                                  "per kind of institution, the products it gets by default: product ids, "
                                  "or 'posters' for every poster", required=False),
    "products": Field(ListOf(Mapping({
        "id": Field(ID, "the product id, used in file names"),
        "kind": Field(Choice("policy", "leaflet", "poster"), "the kind of product"),
        "template": Field(NAME, "the template under templates/"),
        "stylesheet": Field(NAME, "the product's stylesheet under styles/"),
        "size": Field(Choice("A5", "A4", "A3", "A2"), "the trimmed page size"),
        "pages": Field(Number(1, 999), "the exact page count the product must have"),
        "title": Field(TITLE, "the product's title"),
        "audience": Field(Choice("parents", "staff", "youth"), "a leaflet's audience", required=False),
        "personalise": Field(Bool(), "builds per institution with --institution",
                             required=False),
        "personal_pages": Field(ListOf(Number(1, 999), min_items=1, max_items=8),
                                "the pages that name the institution (the template's `personal_only` gives "
                                "just those); an institution's copy lays out only them and joins them with "
                                "the generic pages", required=False),
        "open_with": Field(Choice("bookmarks"), "what a viewer shows beside the pages when the screen file "
                           "opens (bookmarks: the contents as a side panel)", required=False),
    }), min_items=1), "the products"),
})

_COLOUR = Mapping({
    "rgb": Field(Text(r"#[0-9a-fA-F]{6}", "a colour such as #0077ad"), "the screen colour"),
    "cmyk": Field(ListOf(Number(0, 1), min_items=4, max_items=4), "C, M, Y, K from 0 to 1, for print"),
})

BRAND_FILE = Mapping({
    "colours": Field(MapOf(_COLOUR, key=ROLE), "colours by role"),
    "fonts": Field(MapOf(Mapping({
        "package": Field(Choice(*FONT_PACKAGES),
                         "an installed font package from policyprint's allow-list (content never names code)"),
        "family": Field(Choice(*dict.fromkeys(FONT_PACKAGES.values())), "the family name the package ships"),
    }), key=ROLE), "font families by role"),
    "type": Field(MapOf(LENGTH, key=ROLE), "type sizes by role"),
    "logos": Field(MapOf(LENGTH, key=ROLE), "the width each logo is placed at, by role (publisher: its largest "
                   "placement, institution); the styles use them, and `check` warns when a PNG or JPEG logo "
                   "has under 300 ppi at that width", required=False),
    "contrast": Field(ListOf(Mapping({
        "text": Field(ROLE, "the text's colour role"),
        "background": Field(ROLE, "the background's colour role"),
        "large": Field(Bool(), "large text (18 pt, or 14 pt bold): 3:1 is enough", required=False),
        "where": Field(TITLE, "where the styles use the pair", required=False),
    })), "every text/background colour pair the styles use; check computes WCAG 2.1 contrast",
        required=False),
})

BLOCK = Mapping({
    "heading": Field(TITLE, "the block's heading", required=False),
    "quote": Field(ID, "the id of a section or subsection whose lead is quoted", required=False),
    "body": Field(ID, "the id of a section or subsection whose body paragraphs are quoted", required=False),
    "list": Field(ID, "the id of a policy list, quoted with its intro and every item", required=False),
    "items": Field(ListOf(ID, min_items=1, max_items=40), "ids of policy list items, quoted word for word",
                   required=False),
    "text": Field(PARAGRAPHS, "the leaflet's own words", required=False),
    "figure": Field(Choice("age_bands"), "a figure drawn from the policy's data", required=False),
    "new_page": Field(Bool(), "start the block on the next page (balances a leaflet's inside spread)",
                      required=False),
    "cards": Field(Bool(), "set each paragraph of `text` as a card in the next concept colour "
                   "(Dannelse, Læring, Trivsel)", required=False),
    "pull_quote": Field(ID, "the id of a policy list item, set large as a pull quote", required=False),
})

LEAFLETS_FILE = Mapping({
    "leaflets": Field(MapOf(Mapping({
        "max_lix": Field(Number(1, 100), "the highest LIX readability score allowed", required=False),
        "cover": Field(Mapping({
            "kicker": Field(TITLE, "who the leaflet is for, such as 'Til forældre'"),
            "title": Field(TITLE, "the cover title"),
            "text": Field(PARAGRAPHS, "a short introduction"),
        }), "the cover page"),
        "blocks": Field(ListOf(BLOCK, min_items=1, max_items=20), "the inside spread's blocks, in order"),
        "breathe": Field(ListOf(Number(2, 3), max_items=2), "inside pages designed to breathe: the build "
                         "does not ask them to fill 60 % of their type area", required=False),
        "back": Field(Mapping({
            "heading": Field(TITLE, "the back page heading"),
            "text": Field(PARAGRAPHS, "words before the contact block", required=False),
            "blocks": Field(ListOf(BLOCK, max_items=4), "blocks set on the back page, above its heading "
                            "(quotes, lists, a figure: the same keys as the inside blocks)", required=False),
        }), "the back page"),
    })), "leaflets by audience"),
})

INSTITUTION = Mapping({
    "id": Field(ID, "used on the command line and in output paths"),
    "name": Field(NAME, "the institution's name"),
    "kind": Field(Choice(*INSTITUTION_KINDS), "the kind of institution"),
    "products": Field(ListOf(ID, min_items=1, max_items=60), "the products this institution gets, instead "
                      "of its kind's default (products.yaml institution_products); 'posters' for every poster",
                      required=False),
    **CONTACT,
    "web": Field(URL, "web site", required=False),
    "contact": Field(NAME, "a contact person", required=False),
    "logo": Field(NAME, "a logo file, relative to content/", required=False),
    "logo_alt": Field(TITLE, "the logo's alt text (defaults to the name)", required=False),
    "languages": Field(ListOf(LANG_CODE, max_items=40), "the languages it gets its leaflets and posters in "
                       "(default: every language built)", required=False),
    "langs": Field(ListOf(LANG_CODE, max_items=40), "the same as languages (the older name)",
                   required=False),
})

INSTITUTIONS_FILE = Mapping({
    "institutions": Field(ListOf(INSTITUTION), "the institutions that build their own leaflets and posters"),
})

POSTERS_FILE = Mapping({
    "posters": Field(ListOf(Mapping({
        "id": Field(ID, "the poster's id; its product id is poster-<id>"),
        "kicker": Field(TITLE, "the small line above the title: which part of the policy"),
        "title": Field(TITLE, "the poster's title"),
        "blocks": Field(ListOf(BLOCK, min_items=1, max_items=20), "what the poster quotes, in order"),
    }), min_items=1), "the posters"),
})

PRINT_FILE = Mapping({
    "output_intent": Field(Mapping({
        "profile": Field(Text(max_len=1000), "FOGRA39 (built by make) or the path of the print shop's CMYK ICC profile"),
        "condition": Field(NAME, "the print condition's registered identifier (OutputConditionIdentifier), "
                           "such as FOGRA39, FOGRA51 or FOGRA52; it follows the profile"),
        "info": Field(TITLE, "a plain description of the print condition (the output intent's Info)",
                      required=False),
    }), "the CMYK output intent of press files"),
    "bleed_mm": Field(Number(0, 10), "bleed on every side, in millimetres"),
})


# ---- the field reference (docs/fields.md), generated from the specs above ----

def _describe_spec(spec: Spec) -> str:
    if isinstance(spec, Choice):
        return "one of " + ", ".join(f"`{c}`" for c in spec.choices)
    if isinstance(spec, Email):
        return "an e-mail address"
    if isinstance(spec, Text):
        what = spec.what or "text"
        return f"{what} (at most {spec.max_len:,} characters)"
    if isinstance(spec, Number):
        return f"a number from {spec.minimum:g} to {spec.maximum:g}"
    if isinstance(spec, Date):
        return "a date (YYYY-MM-DD)"
    if isinstance(spec, Bool):
        return "true or false"
    if isinstance(spec, ListOf):
        return f"a list of {_describe_spec(spec.item)}" + (f", at least {spec.min_items}" if spec.min_items else "") \
            + f", at most {spec.max_items}"
    if isinstance(spec, MapOf):
        keys = f" (keys: {spec.key.what})" if spec.key is not None else ""
        return f"a mapping{keys} of {_describe_spec(spec.value)}"
    if isinstance(spec, Mapping):
        return "a mapping (below)"
    return spec.expected


def _rows(spec: Spec, path: str, out: list[str]) -> None:
    """One table row per field, depth first, with its path, kind, whether it is required, and its doc."""
    if isinstance(spec, ListOf):
        return _rows(spec.item, path + "[]", out)
    if isinstance(spec, MapOf):
        return _rows(spec.value, path + ".<key>", out)
    if not isinstance(spec, Mapping):
        return
    for name, f in spec.fields.items():
        here = f"{path}.{name}" if path else name
        out.append(f"| `{here}` | {_describe_spec(f.spec)} | {'yes' if f.required else 'no'} | {f.doc} |")
        _rows(f.spec, here, out)


def reference() -> str:
    """The field reference of every content file, as Markdown."""
    from .project import FILES

    parts = ["# Content fields", "",
             "Generated from `policyprint/schema.py` by `.venv/bin/python -m policyprint.schema > docs/fields.md`;",
             "a test keeps it current. Every text is also checked for invisible control characters.", ""]
    files = [(rel, spec) for rel, spec in FILES.values()] + [("content/strings/<lang>.yaml", STRINGS_FILE),
                                                             ("content/translations/<lang>.yaml", TRANSLATION_FILE)]
    for rel, spec in files:
        parts += [f"## `{rel}`", "", "| field | value | required | what it is |", "| --- | --- | --- | --- |"]
        rows: list[str] = []
        if isinstance(spec, MapOf):
            rows.append(f"| `<key>` | {_describe_spec(spec.value)} | — | keys: {spec.key.what if spec.key else 'any'} |")
        _rows(spec, "", rows)
        parts += rows + [""]
    return "\n".join(parts)


if __name__ == "__main__":
    # Run as a script, this module is __main__: use the package's copy, whose specs the project uses.
    from policyprint import schema

    print(schema.reference(), end="")
