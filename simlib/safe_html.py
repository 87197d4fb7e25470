"""Published pages that run nothing and fetch nothing, whatever text a scenario brings.

A report page is rebuilt from its parsed elements: no script, no event-handler attribute,
no address the browser would fetch by itself (figures are inline PNGs), no link to a
script; every text is re-escaped, so what a browser parses is what was checked here.
`declare_offline` adds a Content-Security-Policy, so the browser itself refuses any script
or outside request, and a line at the foot of the page that says so.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Every page says, and its browser enforces, that it loads nothing and runs nothing.
CONTENT_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
POLICY_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">'
OFFLINE_NOTE = (
    '<p class="simlib-offline" style="color:#555;font-size:0.85rem;margin:2rem 0 1rem">'
    "This page is self-contained: it loads nothing from outside (figures are embedded) "
    "and runs no script.</p>"
)

# Elements dropped with everything inside them: they run code, load a document or a
# resource, or (SVG animation) can set a link to a script.
_DROP = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link",
    "template", "portal", "plaintext", "xmp", "noembed", "animate", "animatemotion",
    "animatetransform", "set", "foreignobject", "handler", "listener",
}  # fmt: skip
_VOID = {
    "area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "link", "meta",
    "param", "source", "track", "wbr",
}  # fmt: skip
# attributes whose value the browser fetches, or follows on a click
_URL_ATTRIBUTES = {
    "href", "src", "srcset", "xlink:href", "action", "formaction", "background", "poster",
    "data", "codebase", "cite", "longdesc", "manifest", "ping", "lowsrc", "dynsrc", "usemap",
    "profile", "icon",
}  # fmt: skip
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_CSS_CODE = re.compile(r"expression\s*\(|-moz-binding|behavior\s*:", re.IGNORECASE)


def _safe_css(css: str) -> str:
    """CSS that fetches nothing: no @import, no url() but inline data, no scripted values."""
    css = _CSS_IMPORT.sub("", css)
    css = _CSS_URL.sub(
        lambda m: m.group(0) if m.group(2).strip().lower().startswith(("data:", "#")) else "none",
        css,
    )
    return _CSS_CODE.sub("none", css)


def _safe_url(tag: str, name: str, value: str) -> bool:
    """Links a reader follows may go anywhere but a script; what the page fetches by itself
    must be inline data (figures are base64 PNGs)."""
    plain = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
    scheme = _SCHEME.match(plain)
    if tag in ("a", "area") and name == "href":
        return scheme is None or scheme.group(1) in ("http", "https", "mailto")
    if name == "src" and tag == "img":
        return plain.startswith("data:image/")
    return plain.startswith("#")


class _Sanitizer(HTMLParser):
    """Rebuild a page from its parsed elements, keeping only what cannot run or fetch.

    The output is re-serialised (every text escaped, every attribute quoted), so what a
    browser parses is exactly what was checked here, however the input was written.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip: list[str] = []  # open dropped elements
        self.raw = 0  # inside <style>: text is CSS, passed on (sanitised) unescaped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        if self.skip:
            if tag == self.skip[-1] and not closed and tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _DROP or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
            if not closed and tag not in _VOID:
                self.skip.append(tag)
            return
        kept = []
        for name, value in attrs:
            if name.startswith("on") or name in ("srcdoc", "formaction"):
                continue
            if value is not None and name in _URL_ATTRIBUTES and not _safe_url(tag, name, value):
                continue
            if value is not None and name == "style":
                value = _safe_css(value)
            kept.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
        self.out.append(f"<{' '.join([tag, *kept])}{' /' if closed else ''}>")
        if tag == "style" and not closed:
            self.raw += 1

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag in _DROP:
            return
        if tag == "style" and self.raw:
            self.raw -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(_safe_css(data) if self.raw else html.escape(data, quote=False))

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.out.append("<!DOCTYPE html>")

    # comments, processing instructions and <![CDATA[...]]> are dropped
    def handle_comment(self, data: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass


def self_contained(page: str) -> str:
    """The page without anything that would run or fetch from the network when opened.

    The reports are static (figures are inline PNGs, tables are HTML), so the template's
    scripts (require.js, MathJax and mermaid from a CDN) are not needed; and no script,
    event handler or outside address that a scenario's text might smuggle in survives.
    """
    sanitizer = _Sanitizer()
    sanitizer.feed(page)
    sanitizer.close()
    return "".join(sanitizer.out)


def declare_offline(page: str) -> str:
    """Add the Content-Security-Policy (the browser then refuses any script or outside
    request) and a line at the foot of the page that says so."""
    head = re.search(r"<head\b[^>]*>", page, re.IGNORECASE)
    at = head.end() if head else 0
    page = page[:at] + POLICY_META + page[at:]
    body_end = page.lower().rfind("</body>")
    at = body_end if body_end >= 0 else len(page)
    return page[:at] + OFFLINE_NOTE + page[at:]
