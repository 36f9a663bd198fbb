"""A small YAML reader for config files (``config-defaults.yaml``, sweep parameter files).

:func:`load` uses PyYAML's ``safe_load`` when PyYAML is importable, else :func:`parse`, a reader of
the subset of YAML that such files use:

- block mappings and sequences by indentation (``key: value``, ``key:`` + an indented block,
  ``- item``, ``- key: value`` items), the document markers ``---`` and ``...``, ``#`` comments;
- flow collections on one line (``[1, 2]``, ``{a: 1}``), single- and double-quoted strings,
  literal ``|`` and folded ``>`` block scalars;
- plain scalars resolved as PyYAML resolves them (YAML 1.1): ``null``/``~``/empty, booleans
  (``true``/``yes``/``on``/... and their negations), integers (decimal, ``0x``, ``0o``/``0``-octal,
  ``0b``), floats (``1.5``, ``1.0e-3``, ``.inf``, ``.nan``; like PyYAML, ``1e-3`` without a dot
  stays a string), anything else a string.

Anchors, aliases, tags and multi-line flow collections are not supported (ValueError).
"""

import json
import re

_BOOL = {
    "yes": True, "Yes": True, "YES": True, "true": True, "True": True, "TRUE": True,
    "on": True, "On": True, "ON": True,
    "no": False, "No": False, "NO": False, "false": False, "False": False, "FALSE": False,
    "off": False, "Off": False, "OFF": False,
}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_INT_DEC = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)\Z")
_INT_OCT = re.compile(r"[-+]?0o?[0-7_]+\Z")
_INT_HEX = re.compile(r"[-+]?0x[0-9a-fA-F_]+\Z")
_INT_BIN = re.compile(r"[-+]?0b[01_]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+][0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")


def load(text):
    """The data of the YAML document ``text`` (PyYAML if importable, else :func:`parse`)."""
    try:
        import yaml
    except ImportError:
        return parse(text)
    return yaml.safe_load(text)


def parse(text):
    """The data of the YAML document ``text``, read with the subset described in the module doc."""
    lines = []
    raw_lines = text.splitlines()
    for number, raw in enumerate(raw_lines, 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError("line %d: tabs are not allowed in indentation" % number)
        stripped = raw.strip()
        if stripped in ("---", "...") or stripped.startswith("--- ") and raw.startswith("---"):
            if stripped.startswith("--- ") and stripped[4:].strip():
                lines.append(_Line(number, 0, stripped[4:].strip(), raw_lines))
            continue
        if not stripped or stripped.startswith("#"):
            lines.append(_Line(number, None, "", raw_lines))  # kept for block scalars
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        lines.append(_Line(number, indent, raw.strip(), raw_lines))
    reader = _Reader(lines)
    reader.skip_blank()
    if reader.done():
        return None
    value = reader.block(reader.peek().indent)
    reader.skip_blank()
    if not reader.done():
        line = reader.peek()
        raise ValueError("line %d: unexpected content %r" % (line.number, line.text))
    return value


class _Line:
    __slots__ = ("number", "indent", "text", "raw_lines")

    def __init__(self, number, indent, text, raw_lines):
        self.number, self.indent, self.text, self.raw_lines = number, indent, text, raw_lines


class _Reader:
    def __init__(self, lines):
        self.lines = lines
        self.i = 0

    def done(self):
        return self.i >= len(self.lines)

    def peek(self):
        return self.lines[self.i]

    def skip_blank(self):
        while self.i < len(self.lines) and self.lines[self.i].indent is None:
            self.i += 1

    def block(self, indent):
        line = self.peek()
        if _is_item(line.text):
            return self.sequence(indent)
        return self.mapping(indent)

    def mapping(self, indent):
        out = {}
        while True:
            self.skip_blank()
            if self.done():
                return out
            line = self.peek()
            if line.indent < indent:
                return out
            if line.indent > indent or _is_item(line.text):
                raise ValueError("line %d: bad indentation" % line.number)
            key, rest = _split_key(line)
            self.i += 1
            out[key] = self.value_after_key(rest, indent, line)

    def sequence(self, indent):
        out = []
        while True:
            self.skip_blank()
            if self.done():
                return out
            line = self.peek()
            if line.indent < indent or (line.indent == indent and not _is_item(line.text)):
                return out
            if line.indent > indent:
                raise ValueError("line %d: bad indentation" % line.number)
            rest = line.text[1:]
            content = rest.lstrip(" ")
            if not content or content.startswith("#"):
                self.i += 1
                out.append(self.nested(indent, line))
            elif _is_item(content) or _find_colon(content) is not None and content[0] not in "[{'\"":
                # "- key: value" (or "- - x"): the item is a block starting at the content's column
                column = line.indent + 1 + (len(rest) - len(content))
                self.lines[self.i] = _Line(line.number, column, content, line.raw_lines)
                out.append(self.block(column))
            else:
                self.i += 1
                out.append(self.inline(content, line, indent))

    def value_after_key(self, rest, indent, line):
        if not rest or rest.startswith("#"):
            return self.nested(indent, line, allow_same_indent_sequence=True)
        return self.inline(rest, line, indent)

    def nested(self, indent, line, allow_same_indent_sequence=False):
        self.skip_blank()
        if self.done():
            return None
        nxt = self.peek()
        if nxt.indent > indent:
            return self.block(nxt.indent)
        if allow_same_indent_sequence and nxt.indent == indent and _is_item(nxt.text):
            return self.sequence(indent)
        return None

    def inline(self, text, line, indent):
        if text[0] in "|>":
            return self.block_scalar(text, line, indent)
        if text[0] in "&*!":
            raise ValueError("line %d: anchors, aliases and tags are not supported" % line.number)
        value, end = _flow_value(text, 0, line, top=True)
        rest = text[end:].strip()
        if rest and not rest.startswith("#"):
            raise ValueError("line %d: unexpected %r" % (line.number, rest))
        return value

    def block_scalar(self, header, line, indent):
        style, chomp = header[0], header[1:].split("#")[0].strip()
        if chomp not in ("", "-", "+"):
            raise ValueError("line %d: unsupported block scalar header %r" % (line.number, header))
        body = []
        block_indent = None
        while not self.done():
            nxt = self.peek()
            if nxt.indent is not None:
                if nxt.indent <= indent:
                    break
                if block_indent is None:
                    block_indent = nxt.indent
                if nxt.indent < block_indent:
                    break
                body.append(nxt.raw_lines[nxt.number - 1][block_indent:])
            else:
                body.append("")
            self.i += 1
        while body and body[-1] == "" and chomp != "+":
            body.pop()
        if style == "|":
            text = "\n".join(body)
        else:
            text = ""
            for j, part in enumerate(body):
                if j == 0:
                    text = part
                elif part == "" or body[j - 1] == "":
                    text += "\n" if part == "" else part
                else:
                    text += " " + part
        if chomp != "-" and body:
            text += "\n"
        return text


def _is_item(text):
    return text == "-" or text.startswith("- ") or text.startswith("-\t")


def _find_colon(text):
    """Index of the ``:`` ending a plain mapping key in ``text``, or None."""
    quote = None
    for j, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "'\"" and j == 0:
            quote = c
        elif c == "#" and j > 0 and text[j - 1] == " ":
            return None
        elif c == ":" and (j + 1 == len(text) or text[j + 1] == " "):
            return j
    return None


def _split_key(line):
    text = line.text
    if text[0] in "'\"":
        key, end = _quoted(text, 0, line)
        rest = text[end:].lstrip(" ")
        if not rest.startswith(":"):
            raise ValueError("line %d: expected ':' after the key" % line.number)
        return key, rest[1:].strip()
    j = _find_colon(text)
    if j is None:
        raise ValueError("line %d: expected 'key: value', got %r" % (line.number, text))
    key = text[:j].strip()
    return _resolve(key) if key else None, text[j + 1:].strip()


def _quoted(text, start, line):
    q = text[start]
    j = start + 1
    if q == "'":
        out = []
        while j < len(text):
            if text[j] == "'":
                if text[j + 1: j + 2] == "'":
                    out.append("'")
                    j += 2
                    continue
                return "".join(out), j + 1
            out.append(text[j])
            j += 1
    else:
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                try:
                    return json.loads(text[start: j + 1]), j + 1
                except ValueError:
                    raise ValueError("line %d: bad escape in %s" % (line.number, text[start: j + 1]))
            j += 1
    raise ValueError("line %d: unterminated string" % line.number)


def _flow_value(text, j, line, top=False):
    """Parse one value at ``text[j:]``; returns (value, index after it)."""
    while j < len(text) and text[j] == " ":
        j += 1
    if j >= len(text):
        return None, j
    c = text[j]
    if c in "'\"":
        return _quoted(text, j, line)
    if c == "[":
        out = []
        j += 1
        while True:
            while j < len(text) and text[j] == " ":
                j += 1
            if j >= len(text):
                raise ValueError("line %d: unterminated '['" % line.number)
            if text[j] == "]":
                return out, j + 1
            value, j = _flow_value(text, j, line)
            out.append(value)
            j = _flow_sep(text, j, "]", line)
    if c == "{":
        out = {}
        j += 1
        while True:
            while j < len(text) and text[j] == " ":
                j += 1
            if j >= len(text):
                raise ValueError("line %d: unterminated '{'" % line.number)
            if text[j] == "}":
                return out, j + 1
            key, j = _flow_value(text, j, line)
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text) and text[j] == ":":
                value, j = _flow_value(text, j + 1, line)
            else:
                value = None
            out[key] = value
            j = _flow_sep(text, j, "}", line)
    # a plain scalar: up to " #", or (inside a flow) up to , ] } and a key's ":"
    end = j
    while end < len(text):
        ch = text[end]
        if ch == "#" and end > 0 and text[end - 1] == " ":
            break
        if not top and (ch in ",]}" or ch == ":" and (end + 1 == len(text) or text[end + 1] in " ,]}")):
            break
        end += 1
    return _resolve(text[j:end].strip()), end


def _flow_sep(text, j, close, line):
    while j < len(text) and text[j] == " ":
        j += 1
    if j < len(text) and text[j] == ",":
        return j + 1
    if j < len(text) and text[j] == close:
        return j
    raise ValueError("line %d: expected ',' or %r" % (line.number, close))


def _resolve(s):
    """A plain scalar's value, resolved as PyYAML (YAML 1.1) resolves it."""
    if s in _NULL:
        return None
    if s in _BOOL:
        return _BOOL[s]
    if _INT_DEC.match(s):
        return int(s.replace("_", ""))
    if _INT_HEX.match(s):
        return int(s.replace("_", ""), 16)
    if _INT_BIN.match(s):
        return int(s.replace("_", "").replace("0b", "", 1), 2)
    if _INT_OCT.match(s):
        return int(s.replace("_", "").replace("0o", "", 1), 8)
    if _FLOAT.match(s) and any(ch.isdigit() for ch in s):
        return float(s.replace("_", ""))
    if _INF.match(s):
        return float("-inf") if s.startswith("-") else float("inf")
    if _NAN.match(s):
        return float("nan")
    return s
