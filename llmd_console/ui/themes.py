"""The console's own themes, registered beside Textual's: ``llmd-high-contrast`` is for a
projector or a shared screen (pure black and white, saturated status colours, no dim greys that
wash out at the back of a room)."""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST = Theme(
    name="llmd-high-contrast",
    primary="#00d7ff",
    secondary="#ffd700",
    accent="#ff5fff",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1c1c1c",
    success="#00ff5f",
    warning="#ffd700",
    error="#ff3030",
    dark=True,
    variables={
        "footer-key-foreground": "#ffd700",
        "footer-description-foreground": "#ffffff",
        "border": "#ffffff",
        "border-blurred": "#bcbcbc",
        "text-muted": "#e4e4e4",
        "block-cursor-background": "#00d7ff",
        "block-cursor-foreground": "#000000",
    },
)

THEMES = (HIGH_CONTRAST,)
