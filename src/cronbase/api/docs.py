"""/docs (Swagger UI) and /redoc (ReDoc), served whole from this server.

FastAPI's own pages load unpinned scripts from a CDN, without integrity checks, on the origin
where the Web UI keeps its token in browser storage; and they are blank without internet. Here
the scripts come from the fastapi-offline distribution (its Swagger UI and ReDoc bundles), and
the pages carry a Content-Security-Policy that lets them load nothing from another origin. The
UI's policy forbids inline scripts too, so Swagger UI is started by a served file
(static/docs-swagger.js) rather than FastAPI's inline start-up script; ReDoc starts itself from
its <redoc> element.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs/assets"

# Only this origin. Styles may be inline: both bundles set style attributes and ReDoc writes
# its styles into <style> elements at run time; neither reaches another origin. Swagger UI
# draws its icons from data: URLs, and ReDoc searches in a worker it starts from a blob: URL.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = _PAGE.format(title=title, assets=ASSETS_URL, head=head, body=body)
    return HTMLResponse(html, headers=_HEADERS)


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets; create the app with docs_url=redoc_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} - API docs",
            f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">',
            f'<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>\n'
            f'<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>\n'
            '<script src="/static/docs-swagger.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} - API reference",
            "",
            f'<redoc spec-url="{openapi_url}"></redoc>\n'
            f'<script src="{ASSETS_URL}/redoc.standalone.js"></script>',
        )
