"""A small GraphQL reader and executor for the simulated Shopify Admin API.

It parses the operation an adapter sends (fields, aliases, arguments, variables, directives, inline fragments)
and answers with exactly the fields that were selected, so an adapter asking for a field Shopify does not
have fails here as it would against Shopify. Named fragments and subscriptions are not supported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class GraphQLError(ValueError):
    """A request the schema rejects; `code` goes to `extensions.code` as Shopify does."""

    def __init__(self, message: str, code: str = "GRAPHQL_VALIDATION_FAILED",
                 path: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path or []

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "extensions": {"code": self.code}}
        if self.path:
            error["path"] = self.path
        return error


@dataclass(frozen=True)
class Var:
    name: str


class EnumValue(str):
    """An enum literal (unquoted name), told apart from a quoted string."""


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    directives: dict[str, dict[str, Any]] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Operation:
    kind: str  # "query" | "mutation"
    name: str | None
    variable_defaults: dict[str, Any]
    selections: list[Field]


_TOKEN = re.compile(r'''
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{}|])
''', re.VERBOSE)


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise GraphQLError(f"Parse error on {source[pos:pos + 10]!r}", "PARSE_ERROR")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "skip":
            tokens.append((kind, match.group()))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "")

    def take(self, text: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_text = self.peek()
        if (text is not None and tok_text != text) or (kind is not None and tok_kind != kind):
            raise GraphQLError(f"Parse error on {tok_text or 'end of document'!r} (expected {text or kind})",
                               "PARSE_ERROR")
        self.pos += 1
        return tok_text

    def skip(self, text: str) -> bool:
        if self.peek()[1] == text and self.peek()[0] != "string":
            self.pos += 1
            return True
        return False

    def operations(self) -> list[Operation]:
        found = []
        while self.peek()[0] != "eof":
            found.append(self.operation())
        if not found:
            raise GraphQLError("No operation in the document", "PARSE_ERROR")
        return found

    def operation(self) -> Operation:
        if self.peek()[1] == "{":
            return Operation("query", None, {}, self.selection_set())
        kind = self.take(kind="name")
        if kind not in ("query", "mutation"):
            raise GraphQLError(f"Unsupported operation type {kind!r}", "PARSE_ERROR")
        name = self.take(kind="name") if self.peek()[0] == "name" else None
        defaults: dict[str, Any] = {}
        if self.skip("("):
            while not self.skip(")"):
                self.take("$")
                var = self.take(kind="name")
                self.take(":")
                self.type_ref()
                if self.skip("="):
                    defaults[var] = self.value()
                self.directives()
        self.directives()
        return Operation(kind, name, defaults, self.selection_set())

    def type_ref(self) -> None:
        if self.skip("["):
            self.type_ref()
            self.take("]")
        else:
            self.take(kind="name")
        self.skip("!")

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields: list[Field] = []
        while not self.skip("}"):
            if self.skip("..."):
                if self.peek()[1] != "on":
                    raise GraphQLError("Named fragments are not supported by the simulator", "PARSE_ERROR")
                self.take("on")
                self.take(kind="name")
                self.directives()
                fields.extend(self.selection_set())  # flattened: the simulator's types are concrete
                continue
            fields.append(self.field())
        return fields

    def field(self) -> Field:
        name = self.take(kind="name")
        alias = None
        if self.skip(":"):
            alias, name = name, self.take(kind="name")
        args = self.arguments()
        directives = self.directives()
        selections = self.selection_set() if self.peek()[1] == "{" else []
        return Field(name, alias, args, directives, selections)

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.skip("("):
            while not self.skip(")"):
                name = self.take(kind="name")
                self.take(":")
                args[name] = self.value()
        return args

    def directives(self) -> dict[str, dict[str, Any]]:
        found = {}
        while self.skip("@"):
            found[self.take(kind="name")] = self.arguments()
        return found

    def value(self) -> Any:
        kind, text = self.peek()
        if kind == "punct" and text == "$":
            self.pos += 1
            return Var(self.take(kind="name"))
        self.pos += 1
        if kind == "string":
            return json.loads(text)
        if kind == "block":
            return text[3:-3]
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, EnumValue(text))
        if text == "[":
            items = []
            while not self.skip("]"):
                items.append(self.value())
            return items
        if text == "{":
            obj = {}
            while not self.skip("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            return obj
        raise GraphQLError(f"Parse error on {text!r}", "PARSE_ERROR")


def parse(source: str, operation_name: str | None = None) -> Operation:
    operations = _Parser(source).operations()
    if operation_name is None:
        if len(operations) > 1:
            raise GraphQLError("An operation name is required with several operations")
        return operations[0]
    for operation in operations:
        if operation.name == operation_name:
            return operation
    raise GraphQLError(f"No operation named {operation_name!r}")


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace variable references by the request's variables (absent variables become null)."""
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


# An object the executor can answer from: a mapping of field name to a value or to a resolver that
# takes the field's (substituted) arguments. "__typename" names the type for errors and introspection.
Resolver = Callable[[dict[str, Any]], Any]


def execute(obj: Mapping[str, Any], fields: list[Field], variables: Mapping[str, Any],
            path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Answer `fields` from `obj`, selecting only what was asked (GraphQLError for unknown fields)."""
    type_name = obj.get("__typename", "Object")
    out: dict[str, Any] = {}
    for f in fields:
        here = (*path, f.key)
        if f.name == "__typename":
            out[f.key] = type_name
            continue
        if f.name not in obj:
            raise GraphQLError(f"Field '{f.name}' doesn't exist on type '{type_name}'", "undefinedField",
                               list(here))
        value = obj[f.name]
        if callable(value):
            value = value(substitute(f.args, variables))
        out[f.key] = _shape(value, f, variables, here)
    return out


def _shape(value: Any, f: Field, variables: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        if not f.selections:
            raise GraphQLError(f"Field must have selections (field '{f.name}' returns an object)",
                               "selectionMismatch", list(path))
        return execute(value, f.selections, variables, path)
    if isinstance(value, list):
        return [_shape(v, f, variables, path) for v in value]
    if f.selections and value is not None:
        raise GraphQLError(f"Selections can't be made on scalars (field '{f.name}')", "selectionMismatch",
                           list(path))
    return value
