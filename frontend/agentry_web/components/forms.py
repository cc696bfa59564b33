"""Form fields with real ``<label>`` elements: assistive technology and browser tests find them by name."""

import reflex as rx


def field(
    label: str, name: str, *, type: str = "text", autocomplete: str = "", hint: str = "", **props
) -> rx.Component:
    field_id = f"field-{name}"
    extra = {"aria_describedby": f"{field_id}-hint"} if hint else {}
    return rx.vstack(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=field_id),
        rx.input(
            id=field_id,
            name=name,
            type=type,
            auto_complete=autocomplete,
            size="3",
            width="100%",
            **extra,
            **props,
        ),
        *([rx.text(hint, id=f"{field_id}-hint", size="1", color_scheme="gray")] if hint else []),
        spacing="1",
        width="100%",
        align="stretch",
    )


def submit_button(label: str, busy: rx.Var[bool], busy_label: str) -> rx.Component:
    return rx.button(
        rx.cond(busy, rx.spinner(size="2"), rx.fragment()),
        rx.cond(busy, busy_label, label),
        type="submit",
        size="3",
        width="100%",
        disabled=busy,
    )


def link_button(*children: rx.Component | str, href: str | rx.Var, **props) -> rx.Component:
    """A link styled as a button: one interactive element (a button inside a link is invalid HTML)."""
    return rx.button(rx.link(*children, href=href, underline="none"), as_child=True, **props)
