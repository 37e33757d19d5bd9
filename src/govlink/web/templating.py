"""Server-rendered pages: one Jinja2 environment per locale, autoescaped, with the shared layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from govlink.web.i18n import LOCALE_NAMES, LOCALES, translations

TEMPLATES_DIR = Path(__file__).parent.parent / "portal" / "templates"
LANG_COOKIE = "govlink_lang"


def chart_json(option: dict[str, Any]) -> str:
    """An ECharts option as JSON safe inside <script> (department names and other values are data, not markup)."""
    return json.dumps(option, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


class Templates:
    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale
        self.environments: dict[str, Environment] = {}
        for locale in LOCALES:
            env = Environment(
                loader=FileSystemLoader(TEMPLATES_DIR),
                autoescape=select_autoescape(default=True),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
            env.globals["locale_names"] = LOCALE_NAMES
            self.environments[locale] = env

    def locale_of(self, request: Request) -> str:
        chosen = request.cookies.get(LANG_COOKIE)
        return chosen if chosen in self.environments else self.default_locale

    def render(
        self, request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
    ) -> HTMLResponse:
        locale = self.locale_of(request)
        base: dict[str, Any] = {
            "request": request,
            "locale": locale,
            "actor": getattr(request.state, "actor", None),
            "csrf_token": getattr(request.state, "csrf_token", ""),
        }
        html = self.environments[locale].get_template(name).render({**base, **(context or {})})
        return HTMLResponse(html, status_code=status_code)

    def gettext(self, request: Request, message: str) -> str:
        return translations(self.locale_of(request)).gettext(message)
