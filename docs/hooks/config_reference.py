"""MkDocs hook: the configuration reference, generated at build time from kiosk/settings/config.py itself.

Each section's keys come from its frozen dataclass: the default from the class, the meaning from
the docstring under the field, the allowed values from the enum or from the section's own
check() (its messages, as the kiosk prints them).  The page cannot drift from the code: a field
without a docstring, or a bound not stated in check(), shows as such.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import textwrap
import typing

MARK = "<!-- config-reference -->"


def _docstrings(cls: type) -> dict[str, str]:
    """Field name -> the string literal right under it in the class body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in zip(body, body[1:] + [None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(following, ast.Expr) \
                and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _bounds(cls: type) -> dict[str, str]:
    """Field name -> the message check() gives for a bad value ("must be between 0 and 5")."""
    check = getattr(cls, "check", None)
    if check is None:
        return {}
    tree = ast.parse(textwrap.dedent(inspect.getsource(check)))
    found: dict[str, str] = {}

    def visit(node: ast.AST, loop_names: list[str]) -> None:
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            names = [e.value for e in node.iter.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            for child in node.body:
                visit(child, names)
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            key = node.targets[0].slice
            message = node.value
            text = message.value if isinstance(message, ast.Constant) else ast.unparse(message)
            if isinstance(key, ast.Constant):
                found.setdefault(str(key.value), str(text))
            elif isinstance(key, ast.Name):
                for name in loop_names:
                    found.setdefault(name, str(text))
        for child in ast.iter_child_nodes(node):
            visit(child, loop_names)

    visit(tree, [])
    return found


def _value(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _allowed(hint: object, bound: str | None) -> str:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return ", ".join(f'"{m.value}"' for m in hint)
    kind = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(hint, str(hint))
    return f"{kind}; {bound}" if bound else kind


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def reference() -> str:
    from kiosk.settings.config import Config

    config = Config()
    out = []
    for section in dataclasses.fields(Config):
        cls = typing.get_type_hints(Config)[section.name]
        docs, bounds, hints = _docstrings(cls), _bounds(cls), typing.get_type_hints(cls)
        out.append(f"## [{section.name}]\n")
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
            out.append(inspect.cleandoc(cls.__doc__) + "\n")
        out.append("| key | default | allowed | what it does |\n|---|---|---|---|")
        for field in dataclasses.fields(cls):
            default = getattr(getattr(config, section.name), field.name)
            out.append(f"| `{field.name}` | `{_value(default)}` | {_cell(_allowed(hints[field.name], bounds.get(field.name)))}"
                       f" | {_cell(docs.get(field.name, '(no description)'))} |")
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, page: object, config: object, files: object) -> str:
    if MARK in markdown:
        return markdown.replace(MARK, reference())
    return markdown
