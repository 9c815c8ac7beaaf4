#!/usr/bin/env python3
"""Where psql would end each statement of a text, with PostgreSQL's own scanner deciding every token.

The tokens come from libpg_query (PostgreSQL's scan.l, through pglast's `parser.scan`); on top of
them this script applies psql's rules from psqlscan.l and mainloop.c: a `;` ends a statement only at
parenthesis depth 0 and outside the BEGIN ... END body of CREATE [OR REPLACE] FUNCTION|PROCEDURE;
COPY ... FROM STDIN data is read from the line after the `;` up to a `\\.` line; a backslash outside
quotes starts a meta-command; `:name` is a psql variable. migsafe's splitter is compared with it
(tests/lexer_judge.rs, fuzz target `lexer_judge`).

Protocol (--serve): each request is a line with a byte count, then that many bytes of UTF-8 text;
each answer is one line of JSON: {"statements": [[start, body_end], ...], "meta": [[start, end],
...]} in byte offsets, or {"skip": "reason"} when the scanner cannot judge the text (a setting
pglast cannot change, an escape error inside a string).
"""

import bisect
import json
import re
import sys

from pglast import parser

IDENT_START = "A-Za-z_\u0080-\U0010ffff"
IDENT = f"[{IDENT_START}][{IDENT_START}0-9$]*"
DEC = r"[0-9](?:_?[0-9])*"
NUMERIC = rf"(?:{DEC}\.(?:{DEC})?|\.{DEC})"
REAL = rf"(?:{DEC}|{NUMERIC})[Ee][-+]?{DEC}"
# Tokens the scanner rejects with an error but that psql passes on: the longest match at the
# error's place (scan.l's junk, fail and radix rules).
BAD_NUMBERS = [
    re.compile(p)
    for p in (
        rf"{REAL}{IDENT}",
        rf"{NUMERIC}{IDENT}",
        rf"{DEC}{IDENT}",
        rf"(?:{DEC}|{NUMERIC})[Ee][-+]",
        r"0[xXoObB]_?",
        rf"0[xX](?:_?[0-9A-Fa-f])+{IDENT}",
        rf"0[oO](?:_?[0-7])+{IDENT}",
        rf"0[bB](?:_?[01])+{IDENT}",
        rf"\$[0-9]+{IDENT}",
    )
]
VARIABLE_CHAR = re.compile(f"[{IDENT_START}0-9]")
WHOLE_LINE_META = {"!", "copy", "ef", "ev", "h", "help", "sf", "sf+", "sv", "sv+"}
SKIP_ERRORS = ("invalid Unicode", "invalid byte sequence")
KEYWORD_KINDS = {"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD", "RESERVED_KEYWORD"}


class CannotJudge(Exception):
    pass


class Source:
    """The text psql reads, which after COPY data is the rest of the COPY's line joined to the
    text after the data: pieces of the original, each mapped back to its byte offsets."""

    def __init__(self, text):
        self.text = text
        # (start in self.text, start byte in the original)
        self.pieces = [(0, 0)]

    def byte(self, i):
        """The original byte offset of character i of self.text."""
        k = bisect.bisect_right([p[0] for p in self.pieces], i) - 1
        start, byte = self.pieces[k]
        return byte + len(self.text[start:i].encode())

    def joined(self, a, b, c):
        """self.text[a:b] + self.text[c:], with its mapping."""
        new = Source(self.text[a:b] + self.text[c:])
        new.pieces = [(0, self.byte(a))]
        # Split each original piece at the cut points, keeping the mapping exact.
        for start, _ in self.pieces:
            if a < start < b:
                new.pieces.append((start - a, self.byte(start)))
        new.pieces.append((b - a, self.byte(c)))
        for start, _ in self.pieces:
            if start > c:
                new.pieces.append((start - c + (b - a), self.byte(start)))
        new.pieces.sort()
        return new


def scan(text):
    """PostgreSQL's tokens of text as (start, end, name, kind) with character offsets, end
    exclusive; a token the scanner rejects is kept with name 'BAD' (or 'OPEN' when it runs to the
    end of the text, unterminated)."""
    out = []
    offset = 0
    while offset <= len(text):
        rest = text[offset:]
        try:
            toks = parser.scan(rest)
        except parser.ParseError as e:
            message = str(e)
            m = re.search(r"at index (\d+)", message)
            if not m:
                raise CannotJudge(message)
            at = int(m.group(1))
            if message.startswith(SKIP_ERRORS) and rest[at : at + 1] == "\\":
                # An escape the scanner rejects inside an E'' string: the string ends where it
                # would without it, so judge the text with the backslash made a plain letter.
                text = text[: offset + at] + "x" + text[offset + at + 1 :]
                continue
            known = ("unterminated", "zero-length", "trailing junk", "invalid hexadecimal",
                     "invalid octal", "invalid binary")
            if not message.startswith(known):
                raise CannotJudge(message)
            try:
                prefix = parser.scan(rest[:at])
            except parser.ParseError as e2:
                raise CannotJudge(str(e2))
            for t in prefix:
                out.append((offset + t.start, offset + t.end + 1, t.name, t.kind))
            if message.startswith("unterminated"):
                out.append((offset + at, len(text), "OPEN", None))
                return out
            if message.startswith("zero-length delimited identifier"):
                length = 4 if rest[at] in "uU" else 2
                out.append((offset + at, offset + at + length, "IDENT", "NO_KEYWORD"))
                offset += at + length
                continue
            if "junk" in message or message.startswith("invalid"):
                length = max((m.end() for p in BAD_NUMBERS if (m := p.match(rest, at))), default=0) - at
                if length <= 0:
                    raise CannotJudge(message)
                out.append((offset + at, offset + at + length, "BAD", None))
                offset += at + length
                continue
            raise CannotJudge(message)
        for t in toks:
            out.append((offset + t.start, offset + t.end + 1, t.name, t.kind))
        return out
    return out


class Statement:
    def __init__(self, start):
        self.start = start
        self.body_end = start
        self.paren = 0
        self.begin = 0
        self.identifiers = [""] * 4
        self.count = 0
        self.first = None
        self.last_two = [None, None]
        self.copy_from_stdin = False

    def note_word(self, name, word):
        """Sees COPY ... FROM STDIN at depth 0."""
        if self.first is None:
            self.first = word
        self.last_two = [self.last_two[1], word if name != "SCONST" else None]
        if self.first == "copy" and self.paren == 0 and self.last_two == ["from", "stdin"]:
            self.copy_from_stdin = True

    def identifier(self, word):
        """psqlscan.l's CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ... END tracking."""
        w = word.lower()
        if self.count == 0:
            self.identifiers = [""] * 4
        if w in ("create", "function", "procedure", "or", "replace") and self.count < 4:
            self.identifiers[self.count] = w[0]
        self.count += 1
        i = self.identifiers
        routine = i[0] == "c" and (i[1] in "fp" and i[1] or (i[1] == "o" and i[2] == "r" and i[3] and i[3] in "fp"))
        if routine and self.paren == 0:
            if w == "begin":
                self.begin += 1
            elif w == "case" and self.begin >= 1:
                self.begin += 1
            elif w == "end" and self.begin > 0:
                self.begin -= 1


def meta_end(text, start):
    """The end of a meta-command starting with the backslash at start (psqlscanslash.l)."""
    line_end = len(text)
    for i in range(start, len(text)):
        if text[i] in "\n\r":
            line_end = i
            break
    if start + 1 < len(text) and text[start + 1] == "\\":
        return start + 2
    name_end = start + 1
    while name_end < line_end and text[name_end] not in " \t\n\r\f\v\\":
        name_end += 1
    if text[start + 1 : name_end] in WHOLE_LINE_META:
        return line_end
    i = name_end
    while i < line_end:
        c = text[i]
        if c == "\\":
            return i
        if c in "'\"`":
            i += 1
            while i < line_end and text[i] != c:
                i += 2 if (c == "'" and text[i] == "\\") else 1
            i = min(i + 1, line_end)
        else:
            i += 1
    return line_end


def copy_data_end(text, line_end):
    """Where COPY data starting on the line after the newline at line_end ends: (end of the data
    for the span, where psql reads on)."""
    i = line_end + 1
    while i < len(text):
        nl = text.find("\n", i)
        nxt = len(text) if nl < 0 else nl
        line = text[i:nxt]
        if line.endswith("\r"):
            line = line[:-1]
        if line == "\\." and nxt < len(text):
            return i + 2, nxt + 1
        i = nxt + 1
    return len(text), len(text)


def judge(original):
    if "standard_conforming_strings" in original.lower() or "\0" in original:
        raise CannotJudge("a setting or a byte pglast cannot take")
    j = Judge(Source(original))
    j.run()
    return j.statements, j.metas


class Judge:
    def __init__(self, src):
        self.src = src
        self.statements = []
        self.metas = []
        self.st = None

    def run(self):
        pos = 0
        while pos is not None:
            pos = self.segment(pos)
        if self.st is not None:
            self.statements.append((self.st.start, self.st.body_end))

    def open(self, s, e):
        if self.st is None:
            self.st = Statement(self.src.byte(s))
        self.st.body_end = self.src.byte(e)
        return self.st

    def segment(self, pos):
        """Reads self.src.text from pos until something only psql reads (a meta-command, a
        variable, COPY data) sends the scan elsewhere; returns where to scan next, or None."""
        text = self.src.text
        for s, e, name, kind in scan(text[pos:]):
            s, e = s + pos, e + pos
            if name in ("SQL_COMMENT", "C_COMMENT"):
                continue
            if name == "OPEN" and text[s : s + 2] == "/*":
                if self.st is not None:
                    self.open(s, e)
                continue
            after = text[s + 1 : s + 2]
            if name == "ASCII_92" and after == ";":
                continue  # `\;`: the `;` after it decides; the backslash belongs to the terminator
            if name == "ASCII_92" and after != ":":
                return self.meta(s)
            if name == "ASCII_58" and text[s - 1 : s] != "\\":
                var_end = variable_end(text, s)
                if var_end is not None:
                    self.open(s, var_end).note_word("VARIABLE", text[s:var_end])
                    return var_end
            if name == "ASCII_59":
                nxt = self.semicolon(s, e)
                if nxt is not None:
                    return nxt
                continue
            st = self.open(s, e)
            word = text[s:e]
            if name == "ASCII_40":
                st.paren += 1
            elif name == "ASCII_41":
                st.paren = max(0, st.paren - 1)
            elif is_identifier(text, s, e, name, kind):
                st.identifier(word)
            st.note_word(name, word.lower())
        return None

    def semicolon(self, s, e):
        st = self.st
        if st is None:
            return None
        if st.paren > 0 or st.begin > 0:
            # Inside parentheses or a function body: part of the statement's text.
            st.body_end = self.src.byte(e)
            if self.src.text[s - 1 : s] == "\\":
                st.count = 0
            return None
        self.statements.append((st.start, st.body_end))
        self.st = None
        if not st.copy_from_stdin:
            return None
        text = self.src.text
        nl = text.find("\n", e)
        if nl < 0:
            return None
        _, resume = copy_data_end(text, nl)
        # psql reads the data lines, then the rest of the COPY's line, then what follows the data.
        self.src = self.src.joined(e, nl + 1, resume)
        return 0

    def meta(self, s):
        text = self.src.text
        end = meta_end(text, s)
        cmd = re.split(r"[\s\\]", text[s + 1 : end] + " ", maxsplit=1)[0]
        if cmd in ("g", "gx", "gset", "gexec", "gdesc", "crosstabview", "watch", "r", "reset"):
            if self.st is not None:
                self.statements.append((self.st.start, self.st.body_end))
                self.st = None
        span_end, resume = end, end
        if cmd == "copy" and re.search(r"\bfrom\s+stdin\b", text[s:end], re.I) and end < len(text):
            span_end, resume = copy_data_end(text, end)
            span_end, resume = max(span_end, end), max(resume, end)
        self.metas.append((self.src.byte(s), self.src.byte(span_end)))
        return resume if resume < len(text) else None


def variable_end(text, s):
    """The end of the psql variable starting with the `:` at s, or None."""
    nxt = text[s + 1 : s + 2]
    if nxt in (":", "=") or not nxt:
        return None
    if VARIABLE_CHAR.match(nxt):
        i = s + 1
        while i < len(text) and VARIABLE_CHAR.match(text[i]):
            i += 1
        return i
    if nxt in "'\"":
        i = s + 2
        while i < len(text) and VARIABLE_CHAR.match(text[i]):
            i += 1
        if i > s + 2 and text[i : i + 1] == nxt:
            return i + 1
    if text[s + 1 : s + 3] == "{?":
        i = s + 3
        while i < len(text) and VARIABLE_CHAR.match(text[i]):
            i += 1
        if i > s + 3 and text[i : i + 1] == "}":
            return i + 1
    return None


def is_identifier(text, s, e, name, kind):
    """An unquoted identifier as psqlscan.l's {identifier} rule matches it."""
    if not (name == "IDENT" or kind in KEYWORD_KINDS):
        return False
    if text[s] in "\"" or text[s : s + 2].lower() == "u&":
        return False
    # `N'...'` and a `U` before a failed `U&`: rules of their own in psqlscan.l.
    if e - s == 1 and text[s] in "nNuU" and text[e : e + 1] in ("'", "&"):
        return False
    return True


def answer(text):
    try:
        statements, metas = judge(text)
        return {"statements": statements, "meta": metas}
    except CannotJudge as e:
        return {"skip": str(e)}


def serve():
    inp = sys.stdin.buffer
    out = sys.stdout
    while True:
        header = inp.readline()
        if not header:
            return
        n = int(header)
        data = inp.read(n).decode("utf-8")
        out.write(json.dumps(answer(data)) + "\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    else:
        for path in sys.argv[1:]:
            with open(path, encoding="utf-8") as f:
                print(path, json.dumps(answer(f.read())))
