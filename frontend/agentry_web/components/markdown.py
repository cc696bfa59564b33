"""Markdown for agent answers: highlighted code blocks, safe links, no remote images, no raw HTML.

Agent output is untrusted (it can echo anything a user or a tool fed it), so:
- raw HTML is not rendered (``use_raw=False``): markup shows as text, no ``<script>``, no ``<img onerror>``;
- react-markdown's URL filter keeps only http(s), mailto and similar links (``javascript:`` is dropped);
- images are never fetched automatically (tracking pixels, leaking the reader's address): they become links
  the reader may choose to open;
- links open in a new tab without ``Referer`` or ``window.opener``.
"""

import reflex as rx

# Inside react-markdown's component map, ``props`` holds the element's attributes (already URL-filtered).
_SRC = rx.Var("props.src", _var_type=str)
_ALT = rx.Var("(props.alt || 'image')", _var_type=str)
LINK_REL = "noopener noreferrer nofollow ugc"


def _link(value: object, **props: object) -> rx.Component:
    return rx.link(value, is_external=True, rel=LINK_REL, referrer_policy="no-referrer", **props)


def _image(value: object, **props: object) -> rx.Component:
    return rx.link(
        rx.icon("image", size=14, aria_hidden="true"),
        " Image: ",
        _ALT,
        href=_SRC,
        is_external=True,
        rel=LINK_REL,
        referrer_policy="no-referrer",
        title="Open the image (not loaded automatically)",
    )


def _paragraph(value: object, **props: object) -> rx.Component:
    return rx.text(value, as_="p", margin_y="0.5em", size="3")


COMPONENT_MAP = {"a": _link, "img": _image, "p": _paragraph}


def safe_markdown(source: rx.Var[str]) -> rx.Component:
    return rx.markdown(
        source,
        use_raw=False,
        use_math=False,
        use_katex=False,
        use_unwrap_images=False,
        component_map=COMPONENT_MAP,
        class_name="message-markdown",
    )
