"""The API's own documentation works with no internet (issue 18 item 9): /docs and /redoc load
their scripts from Fuel itself, and any request to another host is refused by the test."""

from __future__ import annotations

from tests.browser.conftest import screenshot


def _offline(page, server_url: str) -> list[tuple[str, str]]:
    elsewhere: list[tuple[str, str]] = []

    def route(r):
        if r.request.url.startswith(server_url):
            r.continue_()
        else:
            elsewhere.append((r.request.resource_type, r.request.url))
            r.abort()

    page.route("**/*", route)
    return elsewhere


def test_swagger_ui_and_redoc_render_offline(server, page):
    elsewhere = _offline(page, server.url)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Fuel API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 20  # the operations are listed
    screenshot(page, "api-docs-swagger")
    page.goto(f"{server.url}/redoc")
    page.wait_for_selector("h1", timeout=15_000)
    assert "Fuel API" in page.inner_text("h1")
    screenshot(page, "api-docs-redoc")
    # ReDoc's bundle asks for its "powered by" logo from its CDN: an image whose absence changes
    # nothing. No script, style sheet, font or data comes from anywhere else.
    assert [(kind, url) for kind, url in elsewhere if kind != "image"] == []
