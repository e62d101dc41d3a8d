"""The UI's languages: Simplified Chinese (default) and English, from gettext catalogues.

Templates and code write English message ids (`_("Cases")`); `web/locale/zh/LC_MESSAGES/messages.po`
translates them. The .po file is read with Babel at start-up and compiled in memory, so a fresh
clone needs no build step and there is no generated .mo to keep in step. English needs no catalogue.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language` (cached: read once per process)."""
    if language == "en":
        return gettext.NullTranslations()
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po, locale="zh_Hans_CN")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")
