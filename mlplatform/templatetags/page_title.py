"""`{% page_title %}…{% endpage_title %}`: the page's own title, then " · " and the site's name;
the site's name alone when the page names nothing (Django templates cannot ask whether a block is
empty, so the tag renders its content and looks)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape

register = template.Library()


class PageTitleNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: Any) -> str:
        own = " ".join(self.nodelist.render(context).split())
        site = conditional_escape(context.get("site_name", ""))
        return f"{own} · {site}" if own else str(site)


@register.tag("page_title")
def page_title(parser: template.base.Parser, token: template.base.Token) -> PageTitleNode:
    nodelist = parser.parse(("endpage_title",))
    parser.delete_first_token()
    return PageTitleNode(nodelist)
