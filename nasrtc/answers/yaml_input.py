"""YAML from a person's file, bounded: no anchors or aliases (a few hundred bytes of
them expand to gigabytes), no key given twice (YAML would keep the last silently), and
no file larger than an answers file can sensibly be."""

from __future__ import annotations

from typing import Any

from nasrtc.i18n import _

MAX_BYTES = 256 * 1024


class RefusedYaml(ValueError):
    """What the loader refuses, with the line it stopped at."""


def load(text: str) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise RefusedYaml(_("line {line}: uses an alias (*name); write the value out "
                                    "instead (aliases are refused: they can expand without "
                                    "bound)").format(line=mark.line + 1))
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if getattr(event, "anchor", None):
                raise RefusedYaml(_("line {line}: defines an anchor (&{anchor}); write the "
                                    "values out instead").format(line=event.start_mark.line + 1,
                                                                 anchor=event.anchor))
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise RefusedYaml(_("line {line}: the key {key!r} is given twice; keep one")
                                      .format(line=key_node.start_mark.line + 1,
                                              key=str(key)[:40]))
                seen.add(key)
            return super().construct_mapping(node, deep)

    return yaml.load(text, Loader=Loader)


def excerpt(value: Any, limit: int = 60) -> str:
    """A value as messages quote it: repr, cut to a short excerpt."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[:limit - 5] + "...'" + f" ({len(shown)} chars)"
