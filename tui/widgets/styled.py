"""Component-class styles that survive refreshes (Textual drops its own copy on every repaint)."""

from __future__ import annotations

from textual.style import Style
from textual.widget import Widget


class StyledWidget(Widget):
    """A widget whose render() asks component_style(name); recomputed only when its CSS changes."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._styles_by_component: dict[str, Style] = {}

    def component_style(self, name: str) -> Style:
        style = self._styles_by_component.get(name)
        if style is None:
            style = Style.from_rich_style(self.get_component_rich_style(name, partial=True))
            self._styles_by_component[name] = style
        return style

    def notify_style_update(self) -> None:
        self._styles_by_component.clear()
        super().notify_style_update()
