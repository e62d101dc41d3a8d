"""Search-engine result page (SERP) parsing: one YAML spec per engine, one data-driven parser.

Public API: ``parse_serp``, ``parse_file``, ``build_search_url``, ``load_engines`` and the types
``SerpPage``, ``SerpResult``, ``SerpParseError`` (plus ``EngineSpec``, ``EngineSpecError``).
Engine specs live in ``crawler/serp/engines/<name>.yaml``.
"""

from .models import EngineSpecError, SerpPage, SerpParseError, SerpResult
from .parser import detect_engine, parse_file, parse_serp
from .spec import EngineSpec, build_search_url, load_engines

__all__ = [
    "EngineSpec",
    "EngineSpecError",
    "SerpPage",
    "SerpParseError",
    "SerpResult",
    "build_search_url",
    "detect_engine",
    "load_engines",
    "parse_file",
    "parse_serp",
]
