#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate the Kafka protocol tables of Sluice from schemas/*.sch.

Reads every schemas/*.sch file (the message DSL, see docs/design/codec.md),
validates it and writes, per API, src/protocol/gen/<file>.h (the C structs
and descriptor declarations) and src/protocol/gen/<file>.c (the constant
descriptor tables read by src/protocol/codec.c), plus
src/protocol/gen/apis.h/.c (the API key table and sl_api_lookup()).

Output is deterministic: same schemas, same bytes. Messages without an api=
key (schemas/headers.sch) are validated but produce no code.

Usage:
    python3 tools/gen_protocol.py            # (re)write src/protocol/gen/
    python3 tools/gen_protocol.py --check    # exit 1 if gen/ is stale

A malformed schema stops the run with "file:line: reason" on stderr and exit
status 2. Python 3 standard library only.
"""

import argparse
import os
import re
import sys

VMAX = 0x7FFF  # "N+" means up to the largest int16 version

INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "uint16": (0, (1 << 16) - 1),
    "uint32": (0, (1 << 32) - 1),
}
PRIMITIVES = (
    "bool", "int8", "int16", "int32", "int64", "uint16", "uint32",
    "float64", "uuid", "string", "bytes", "records",
)
NULLABLE_TYPES = ("string", "bytes", "records")  # and arrays
C_TYPES = {
    "bool": "bool", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "float64": "double", "uuid": "sl_uuid_t", "string": "sl_str_t",
    "bytes": "sl_bytes_t", "records": "sl_records_t",
}
FT = {
    "bool": "SL_FT_BOOL", "int8": "SL_FT_INT8", "int16": "SL_FT_INT16",
    "int32": "SL_FT_INT32", "int64": "SL_FT_INT64", "uint16": "SL_FT_UINT16",
    "uint32": "SL_FT_UINT32", "float64": "SL_FT_FLOAT64", "uuid": "SL_FT_UUID",
    "string": "SL_FT_STRING", "bytes": "SL_FT_BYTES", "records": "SL_FT_RECORDS",
}
C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline",
    "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
    "void", "volatile", "while", "bool", "true", "false",
}
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class SchemaError(Exception):
    """A schema problem, reported as file:line: reason."""

    def __init__(self, where, msg):
        super().__init__("%s: %s" % (where, msg))


def snake(name):
    """CamelCase (or camelCase, or TopicID) to snake_case."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0:
            prev = name[i - 1]
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                out.append("_")
        out.append(ch.lower())
    return "".join(out)


def vrange_str(lo, hi):
    if hi == VMAX:
        return "%d+" % lo
    if lo == hi:
        return "%d" % lo
    return "%d-%d" % (lo, hi)


class Field:
    def __init__(self, where, name, typ):
        self.where = where
        self.name = name
        self.cname = snake(name)
        self.array = typ.startswith("[]")
        base = typ[2:] if self.array else typ
        self.base = base
        self.is_struct = base not in PRIMITIVES
        self.vmin, self.vmax = None, None  # None: all versions of the message
        self.nmin, self.nmax = -1, -1
        self.tag = -1
        self.default = None  # raw text of default=
        self.children = []
        self.owner = None  # the Struct this field belongs to
        self.struct = None  # the Struct this field's type names

    @property
    def type_word(self):
        return ("[]" if self.array else "") + self.base


class Struct:
    """A message or a nested struct type."""

    def __init__(self, message, name, fields):
        self.message = message
        self.name = name
        self.fields = fields
        self.cname = message.name if name == message.name else "%s_%s" % (message.name, name)


class Message:
    def __init__(self, where, path, name, api, vmin, vmax, flex):
        self.where = where
        self.path = path
        self.name = name
        self.api = api
        self.vmin, self.vmax = vmin, vmax
        self.flex = flex  # first flexible version or -1
        self.fields = []
        self.structs = []  # post-order: children before parents, message last


def parse_range(text, where, what):
    m = re.match(r"^(\d+)\+$", text)
    if m:
        return int(m.group(1)), VMAX
    m = re.match(r"^(\d+)-(\d+)$", text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise SchemaError(where, "%s range %s is empty" % (what, text))
        return lo, hi
    m = re.match(r"^(\d+)$", text)
    if m:
        return int(m.group(1)), int(m.group(1))
    raise SchemaError(where, "bad %s range %r (want N, N+ or N-M)" % (what, text))


def strip_comment(line):
    i = line.find("#")
    return line if i < 0 else line[:i]


def parse_file(path, relpath):
    """Parses one .sch file into a list of Message objects."""
    messages = []
    msg = None
    stack = []  # stack[level-1] = last field seen at that level
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for lineno, raw in enumerate(lines, 1):
        where = "%s:%d" % (relpath, lineno)
        if "\t" in raw:
            raise SchemaError(where, "tab character (indent with 2 spaces)")
        line = strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        toks = line.split()
        if indent == 0:
            if toks[0] != "message":
                raise SchemaError(where, "expected 'message' at column 1, got %r" % toks[0])
            msg = parse_message_line(toks, where, relpath)
            messages.append(msg)
            stack = []
            continue
        if msg is None:
            raise SchemaError(where, "field outside of a message")
        if indent % 2:
            raise SchemaError(where, "odd indentation (2 spaces per level)")
        level = indent // 2
        if level > len(stack) + 1:
            raise SchemaError(where, "indented too deep (no parent struct field)")
        f = parse_field_line(toks, where)
        if level == 1:
            msg.fields.append(f)
        else:
            parent = stack[level - 2]
            if not parent.is_struct:
                raise SchemaError(where, "parent field %s has primitive type %s; it cannot have fields"
                                  % (parent.name, parent.type_word))
            parent.children.append(f)
        del stack[level - 1:]
        stack.append(f)
    return messages


def parse_message_line(toks, where, relpath):
    if len(toks) < 2 or not IDENT.match(toks[1]):
        raise SchemaError(where, "message needs a CamelCase name")
    name = toks[1]
    api, vr, flex = None, None, None
    for t in toks[2:]:
        k, eq, v = t.partition("=")
        if not eq:
            raise SchemaError(where, "bad message attribute %r" % t)
        if k == "api":
            if not re.match(r"^\d+$", v) or int(v) > 0x7FFF:
                raise SchemaError(where, "bad api key %r" % v)
            api = int(v)
        elif k == "versions":
            vr = parse_range(v, where, "versions")
            if vr[1] == VMAX:
                raise SchemaError(where, "message versions must be a closed range")
        elif k == "flex":
            if v == "none":
                flex = -1
            else:
                m = re.match(r"^(\d+)\+$", v)
                if not m:
                    raise SchemaError(where, "flex must be N+ or none, got %r" % v)
                flex = int(m.group(1))
        else:
            raise SchemaError(where, "unknown message attribute %r" % k)
    if vr is None or flex is None:
        raise SchemaError(where, "message needs versions= and flex=")
    return Message(where, relpath, name, api, vr[0], vr[1], flex)


def parse_field_line(toks, where):
    if len(toks) < 2:
        raise SchemaError(where, "field needs a name and a type")
    name, typ = toks[0], toks[1]
    if not IDENT.match(name):
        raise SchemaError(where, "bad field name %r" % name)
    base = typ[2:] if typ.startswith("[]") else typ
    if not IDENT.match(base):
        raise SchemaError(where, "bad type %r" % typ)
    if base not in PRIMITIVES and not base[0].isupper():
        raise SchemaError(where, "unknown type %r (struct types are Capitalised)" % typ)
    f = Field(where, name, typ)
    if f.cname in C_KEYWORDS:
        raise SchemaError(where, "field name %s is a C keyword once snake_cased" % name)
    seen = set()
    for t in toks[2:]:
        if t.startswith("v") and re.match(r"^v\d", t):
            key = "versions"
            f.vmin, f.vmax = parse_range(t[1:], where, "field version")
        else:
            k, eq, v = t.partition("=")
            if not eq:
                raise SchemaError(where, "bad field attribute %r" % t)
            key = k
            if k == "nullable":
                f.nmin, f.nmax = parse_range(v, where, "nullable")
            elif k == "tag":
                if not re.match(r"^\d+$", v) or int(v) > 0x7FFFFFFF:
                    raise SchemaError(where, "bad tag %r" % v)
                f.tag = int(v)
            elif k == "default":
                f.default = v
            else:
                raise SchemaError(where, "unknown field attribute %r" % k)
        if key in seen:
            raise SchemaError(where, "attribute %s given twice" % key)
        seen.add(key)
    return f


def parse_int(text, where, typ):
    try:
        v = int(text, 0)
    except ValueError:
        raise SchemaError(where, "default %r is not an integer" % text) from None
    lo, hi = INT_RANGES[typ]
    if not lo <= v <= hi:
        raise SchemaError(where, "default %d out of range for %s" % (v, typ))
    return v


def check_default(f):
    """Validates f.default against the field type; returns nothing."""
    d = f.default
    if d is None:
        return
    where = f.where
    if d == "null":
        if not (f.array or f.base in NULLABLE_TYPES):
            raise SchemaError(where, "default=null on non-nullable type %s" % f.type_word)
        if f.nmin < 0:
            raise SchemaError(where, "default=null needs nullable=")
        return
    if f.array or f.is_struct:
        raise SchemaError(where, "only default=null is allowed on %s" % f.type_word)
    if f.base == "bool":
        if d not in ("true", "false"):
            raise SchemaError(where, "bool default must be true or false")
    elif f.base in INT_RANGES:
        parse_int(d, where, f.base)
    elif f.base == "float64":
        try:
            float(d)
        except ValueError:
            raise SchemaError(where, "default %r is not a number" % d) from None
    elif f.base == "string":
        if d.startswith('"'):
            if len(d) < 2 or not d.endswith('"') or '"' in d[1:-1] or "\\" in d:
                raise SchemaError(where, "bad string default %s (no spaces, quotes or backslashes)" % d)
    else:
        raise SchemaError(where, "type %s takes no default" % f.base)


def default_string_value(f):
    d = f.default
    if d is None:
        return ""
    if d.startswith('"'):
        return d[1:-1]
    return d


def contains_records(fields):
    for f in fields:
        if f.base == "records" or contains_records(f.children):
            return True
    return False


def resolve_message(msg):
    """Validates a parsed message and builds its struct list (post-order)."""
    names = {}

    def walk(struct_name, fields, lo, hi, where):
        cnames, tags = {}, {}
        for f in fields:
            if f.cname in cnames:
                raise SchemaError(f.where, "field %s clashes with %s (same C name %s)"
                                  % (f.name, cnames[f.cname], f.cname))
            cnames[f.cname] = f.name
            if f.vmin is None:
                f.vmin, f.vmax = msg.vmin, VMAX
            if max(f.vmin, lo) > min(f.vmax, hi):
                raise SchemaError(f.where, "field %s (v%s) is never present in versions %s"
                                  % (f.name, vrange_str(f.vmin, f.vmax), vrange_str(lo, hi)))
            if f.nmin >= 0 and not (f.array or f.base in NULLABLE_TYPES):
                raise SchemaError(f.where, "type %s cannot be nullable" % f.type_word)
            if f.array and f.base == "records":
                raise SchemaError(f.where, "arrays of records are not supported")
            if f.tag >= 0:
                if msg.flex < 0 or f.vmin < msg.flex:
                    raise SchemaError(f.where, "tagged field %s in a non-flexible version" % f.name)
                if f.tag in tags:
                    raise SchemaError(f.where, "tag %d already used by %s" % (f.tag, tags[f.tag]))
                tags[f.tag] = f.name
                if f.base == "records" or contains_records(f.children):
                    raise SchemaError(f.where, "records inside a tagged field are not supported")
            check_default(f)
            if f.is_struct:
                if not f.children:
                    raise SchemaError(f.where, "struct type %s declares no fields" % f.base)
                if f.base in names:
                    raise SchemaError(f.where, "struct type %s already defined at %s"
                                      % (f.base, names[f.base]))
                if f.base == msg.name:
                    raise SchemaError(f.where, "struct type named like its message")
                names[f.base] = f.where
                sub = walk(f.base, f.children, max(lo, f.vmin), min(hi, f.vmax), f.where)
                f.struct = sub
            elif f.children:
                raise SchemaError(f.children[0].where, "field of primitive type %s has fields"
                                  % f.type_word)
        s = Struct(msg, struct_name, fields)
        for f in fields:
            f.owner = s
        msg.structs.append(s)
        return s

    if msg.flex >= 0 and msg.flex > msg.vmax:
        raise SchemaError(msg.where, "flex=%d+ is above the last version %d" % (msg.flex, msg.vmax))
    walk(msg.name, msg.fields, msg.vmin, msg.vmax, msg.where)


def load_schemas(root):
    """Parses and validates schemas/*.sch; returns [(file, [Message])]."""
    sdir = os.path.join(root, "schemas")
    files = sorted(n for n in os.listdir(sdir) if n.endswith(".sch"))
    if not files:
        raise SchemaError("schemas", "no .sch files")
    out = []
    all_names, keys = {}, {}
    for fn in files:
        rel = "schemas/" + fn
        if not re.match(r"^[a-z][a-z0-9_]*\.sch$", fn) or fn[:-4] in ("apis",):
            raise SchemaError(rel, "bad schema file name (lower_snake.sch, not apis.sch)")
        msgs = parse_file(os.path.join(sdir, fn), rel)
        if not msgs:
            raise SchemaError(rel, "no message")
        for m in msgs:
            if m.name in all_names:
                raise SchemaError(m.where, "message %s already defined at %s" % (m.name, all_names[m.name]))
            all_names[m.name] = m.where
            resolve_message(m)
        with_api = [m for m in msgs if m.api is not None]
        if with_api:
            req = [m for m in with_api if m.name.endswith("Request")]
            rsp = [m for m in with_api if m.name.endswith("Response")]
            if len(req) != 1 or len(rsp) != 1 or len(with_api) != 2:
                raise SchemaError(rel, "an API file holds exactly one *Request and one *Response with api=")
            req, rsp = req[0], rsp[0]
            if req.name[:-7] != rsp.name[:-8]:
                raise SchemaError(rsp.where, "response %s does not match request %s" % (rsp.name, req.name))
            if (req.api, req.vmin, req.vmax, req.flex) != (rsp.api, rsp.vmin, rsp.vmax, rsp.flex):
                raise SchemaError(rsp.where, "request and response disagree on api/versions/flex")
            if req.api in keys:
                raise SchemaError(req.where, "api key %d already used by %s" % (req.api, keys[req.api]))
            keys[req.api] = req.where
        elif len(msgs) != len(with_api) and any(m.api is not None for m in msgs):
            raise SchemaError(rel, "mixing messages with and without api=")
        out.append((fn[:-4], msgs))
    return out


# --------------------------------------------------------------------------
# C output
# --------------------------------------------------------------------------

def banner(src, extra):
    lines = ["/* GENERATED by tools/gen_protocol.py from %s -- DO NOT EDIT." % src,
             " * SPDX-License-Identifier: Apache-2.0"]
    if extra:
        lines.append(" *")
        lines.extend((" * " + x).rstrip() for x in extra)
    lines.append(" */")
    return "\n".join(lines) + "\n"


def schema_comment(root, fn):
    """The leading comment paragraph of a schema file, without SPDX."""
    out = []
    with open(os.path.join(root, "schemas", fn + ".sch"), encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            text = line[1:].strip("\n")
            text = text[1:] if text.startswith(" ") else text
            if "SPDX-License-Identifier" in text:
                continue
            out.append(text)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def member_type(f):
    if f.is_struct:
        return "struct %s" % f.struct.cname
    return C_TYPES[f.base]


def field_note(f, msg):
    parts = [f.type_word]
    if (f.vmin, f.vmax) != (msg.vmin, VMAX):
        parts.append("v" + vrange_str(f.vmin, f.vmax))
    if f.nmin >= 0:
        parts.append("nullable " + vrange_str(f.nmin, f.nmax))
    if f.tag >= 0:
        parts.append("tag %d" % f.tag)
    if f.default is not None:
        parts.append("default " + f.default)
    return ", ".join(parts)


def gen_struct_def(s):
    msg = s.message
    lines = ["struct %s {" % s.cname]
    if not s.fields:
        lines.append("    char _unused; /* no fields */")
    for f in s.fields:
        note = field_note(f, msg)
        if f.array:
            lines.append("    struct {")
            lines.append("        int32_t n; /* -1: null */")
            lines.append("        %s *a;" % member_type(f))
            lines.append("    } %s; /* %s */" % (f.cname, note))
        else:
            lines.append("    %s %s; /* %s */" % (member_type(f), f.cname, note))
    lines.append("};")
    return "\n".join(lines)


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def vmax_c(v):
    return "SL_VERSION_MAX" if v == VMAX else str(v)


def gen_field_row(s, f):
    parent = "struct %s" % s.cname
    if f.array:
        ftype, elem = "SL_FT_ARRAY", ("SL_FT_STRUCT" if f.is_struct else FT[f.base])
        esize = "sizeof(%s)" % member_type(f)
    else:
        ftype, elem, esize = ("SL_FT_STRUCT" if f.is_struct else FT[f.base]), "0", "0"
    items = [
        ".name = %s" % c_string(f.name),
        ".type = %s" % ftype,
    ]
    if f.array:
        items.append(".elem = %s" % elem)
    items.append(".off = offsetof(%s, %s)" % (parent, f.cname))
    if f.array:
        items.append(".elem_size = %s" % esize)
    items += [
        ".vmin = %d" % f.vmin,
        ".vmax = %s" % vmax_c(f.vmax),
        ".nmin = %d" % f.nmin,
        ".nmax = %s" % vmax_c(f.nmax),
        ".tag = %d" % f.tag,
    ]
    d = f.default
    if d == "null":
        items.append(".def_null = true")
    elif d is not None and f.base == "bool":
        items.append(".def_int = %d" % (1 if d == "true" else 0))
    elif d is not None and f.base in INT_RANGES:
        v = int(d, 0)
        if f.base == "int64" and v == INT_RANGES["int64"][0]:
            items.append(".def_int = INT64_MIN")
        else:
            items.append(".def_int = %dLL" % v)
    elif d is not None and f.base == "float64":
        items.append(".def_f64 = %r" % float(d))
    if f.base == "string" and not f.array and d != "null" and default_string_value(f):
        items.append(".def_str = %s" % c_string(default_string_value(f)))
    if f.is_struct:
        items.append(".sub = &sl_desc_%s" % f.struct.cname)
    # Wrap the row at 100 columns, one designated initializer per item.
    lines, cur = [], "    {"
    for i, it in enumerate(items):
        piece = it + ("}," if i == len(items) - 1 else ",")
        if len(cur) + len(piece) + 1 > 100 and cur.strip() != "{":
            lines.append(cur.rstrip())
            cur = "     "
        cur += piece + " "
    lines.append(cur.rstrip())
    return "\n".join(lines)


def gen_desc(s, exported):
    msg = s.message
    out = []
    if s.fields:
        out.append("static const struct sl_field sl_fields_%s[] = {" % s.cname)
        out.extend(gen_field_row(s, f) for f in s.fields)
        out.append("};")
    tagged = sorted((f.tag, i) for i, f in enumerate(s.fields) if f.tag >= 0)
    if tagged:
        out.append("static const uint16_t sl_tagged_%s[] = {%s};"
                   % (s.cname, ", ".join(str(i) for _, i in tagged)))
    out.append("const struct sl_msgdesc sl_desc_%s = {" % s.cname)
    out.append("    .name = %s," % c_string(s.cname))
    out.append("    .api_key = %d," % (msg.api if exported else -1))
    out.append("    .min_version = %d," % msg.vmin)
    out.append("    .max_version = %d," % msg.vmax)
    out.append("    .flex_min = %d," % msg.flex)
    out.append("    .size = sizeof(struct %s)," % s.cname)
    out.append("    .nfields = %d," % len(s.fields))
    out.append("    .ntagged = %d," % len(tagged))
    out.append("    .fields = %s," % (("sl_fields_%s" % s.cname) if s.fields else "NULL"))
    out.append("    .tagged = %s," % (("sl_tagged_%s" % s.cname) if tagged else "NULL"))
    out.append("};")
    return "\n".join(out)


def gen_asserts(s):
    return ["SL_CODEC_CHECK_ARRAY(struct %s, %s);" % (s.cname, f.cname) for f in s.fields if f.array]


def gen_api_files(root, base, msgs):
    src = "schemas/%s.sch" % base
    guard = "SL_PROTOCOL_GEN_%s_H" % base.upper()
    comment = schema_comment(root, base)
    req = [m for m in msgs if m.name.endswith("Request")][0]
    rsp = [m for m in msgs if m.name.endswith("Response")][0]
    h = [banner(src, comment + ["", "C structs of %s and %s, and their descriptors for the"
                                % (req.name, rsp.name),
                                "codec (src/protocol/codec.h). Field comments give the schema facts:",
                                "type, versions, nullable versions, tag, default."]).rstrip("\n")]
    h.append("#ifndef %s" % guard)
    h.append("#define %s" % guard)
    h.append("")
    h.append("#include <stdbool.h>")
    h.append("#include <stdint.h>")
    h.append("")
    h.append('#include "core/bytes.h"')
    h.append('#include "protocol/codec.h"')
    for m in msgs:
        h.append("")
        h.append("/* %s: API key %d, versions %d-%d, %s. */"
                 % (m.name, m.api, m.vmin, m.vmax,
                    "flexible from v%d" % m.flex if m.flex >= 0 else "never flexible"))
        for s in m.structs:
            h.append(gen_struct_def(s))
            h.append("")
        h.append("/* Descriptors for sl_codec_decode/encode/init: the message, and each nested")
        h.append(" * struct (to default-initialise array elements a handler allocates). */")
        for s in m.structs:
            h.append("extern const struct sl_msgdesc sl_desc_%s;" % s.cname)
    h.append("")
    h.append("#endif")
    c = [banner(src, ["Descriptor tables of %s and %s (see src/protocol/codec.h)." % (req.name, rsp.name)]).rstrip("\n")]
    c.append('#include "protocol/gen/%s.h"' % base)
    c.append("")
    c.append("#include <stddef.h>")
    for m in msgs:
        for s in m.structs:
            c.append("")
            asserts = gen_asserts(s)
            if asserts:
                c.extend(asserts)
            c.append(gen_desc(s, s.cname == m.name))
    return "\n".join(h) + "\n", "\n".join(c) + "\n"


def api_const(req_name):
    return "SL_API_" + snake(req_name[:-7]).upper()


def gen_apis(apis):
    """apis: list of (base, request Message, response Message), sorted by key."""
    h = [banner("schemas/ (every .sch file)", [
        "The API table: one row per Kafka API Sluice speaks (key, name, version",
        "range, first flexible version, request and response descriptors),",
        "SL_API_* key constants, and sl_api_lookup(). Includes every generated",
        "message header, so one include gives a dispatcher all the structs.",
    ]).rstrip("\n")]
    h.append("#ifndef SL_PROTOCOL_GEN_APIS_H")
    h.append("#define SL_PROTOCOL_GEN_APIS_H")
    h.append("")
    h.append("#include <stdint.h>")
    h.append("")
    h.append('#include "protocol/codec.h"')
    for base, _, _ in sorted(apis, key=lambda a: a[0]):
        h.append('#include "protocol/gen/%s.h"' % base)
    h.append("")
    h.append("/* Kafka API keys. */")
    h.append("enum sl_api_key {")
    for _, req, _ in apis:
        h.append("    %s = %d," % (api_const(req.name), req.api))
    h.append("};")
    h.append("")
    h.append("/* Number of rows in sl_api_table. */")
    h.append("#define SL_API_COUNT %d" % len(apis))
    h.append("")
    h.append("struct sl_api_info {")
    h.append("    int16_t key;")
    h.append("    const char *name; /* Kafka's name, e.g. \"Produce\" */")
    h.append("    int16_t min_version, max_version, flex_min /* -1 if none */;")
    h.append("    const struct sl_msgdesc *request, *response;")
    h.append("};")
    h.append("")
    h.append("/* Every API, by ascending key. */")
    h.append("extern const struct sl_api_info sl_api_table[SL_API_COUNT];")
    h.append("")
    h.append("/* Returns the row of API `key`, or NULL for a key Sluice does not speak.")
    h.append(" * The row is static and immutable (any thread). */")
    h.append("const struct sl_api_info *sl_api_lookup(int16_t key);")
    h.append("")
    h.append("#endif")
    c = [banner("schemas/ (every .sch file)", ["The API table and sl_api_lookup() (see apis.h)."]).rstrip("\n")]
    c.append('#include "protocol/gen/apis.h"')
    c.append("")
    c.append("#include <stddef.h>")
    c.append("")
    c.append("const struct sl_api_info sl_api_table[SL_API_COUNT] = {")
    for _, req, rsp in apis:
        c.append("    {%d, %s, %d, %d, %d, &sl_desc_%s, &sl_desc_%s},"
                 % (req.api, c_string(req.name[:-7]), req.vmin, req.vmax, req.flex, req.name, rsp.name))
    c.append("};")
    c.append("")
    maxkey = max(req.api for _, req, _ in apis)
    c.append("/* Row index + 1 by API key; 0 = unknown key. */")
    c.append("static const uint8_t api_index[%d] = {" % (maxkey + 1))
    for i, (_, req, _) in enumerate(apis):
        c.append("    [%d] = %d," % (req.api, i + 1))
    c.append("};")
    c.append("")
    c.append("const struct sl_api_info *sl_api_lookup(int16_t key)")
    c.append("{")
    c.append("    if (key < 0 || (size_t)key >= sizeof(api_index))")
    c.append("        return NULL;")
    c.append("    int i = api_index[key];")
    c.append("    return i ? &sl_api_table[i - 1] : NULL;")
    c.append("}")
    return "\n".join(h) + "\n", "\n".join(c) + "\n"


def generate(root):
    """Returns {relative path: content} of every generated file."""
    files = {}
    apis = []
    for base, msgs in load_schemas(root):
        if all(m.api is None for m in msgs):
            continue  # headers.sch: documentation of the hand-written header codec
        h, c = gen_api_files(root, base, msgs)
        files["src/protocol/gen/%s.h" % base] = h
        files["src/protocol/gen/%s.c" % base] = c
        req = [m for m in msgs if m.name.endswith("Request")][0]
        rsp = [m for m in msgs if m.name.endswith("Response")][0]
        apis.append((base, req, rsp))
    if len(apis) > 255:
        raise SchemaError("schemas", "too many APIs for the uint8 index")
    apis.sort(key=lambda a: a[1].api)
    h, c = gen_apis(apis)
    files["src/protocol/gen/apis.h"] = h
    files["src/protocol/gen/apis.c"] = c
    return files


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the checked-in files; exit 1 on any difference")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the parent of tools/)")
    args = ap.parse_args(argv)
    try:
        files = generate(args.root)
    except SchemaError as e:
        print("gen_protocol: %s" % e, file=sys.stderr)
        return 2
    gdir = os.path.join(args.root, "src", "protocol", "gen")
    existing = set()
    if os.path.isdir(gdir):
        existing = {"src/protocol/gen/" + n for n in os.listdir(gdir) if n.endswith((".c", ".h"))}
    if args.check:
        bad = []
        for rel, text in sorted(files.items()):
            p = os.path.join(args.root, rel)
            try:
                with open(p, encoding="utf-8", newline="") as fh:
                    if fh.read() != text:
                        bad.append("%s: differs from a fresh generation" % rel)
            except FileNotFoundError:
                bad.append("%s: missing" % rel)
        for rel in sorted(existing - set(files)):
            bad.append("%s: not generated by any schema (stale)" % rel)
        for b in bad:
            print("gen_protocol: %s" % b, file=sys.stderr)
        if bad:
            print("gen_protocol: run python3 tools/gen_protocol.py and commit the result",
                  file=sys.stderr)
            return 1
        return 0
    os.makedirs(gdir, exist_ok=True)
    for rel in sorted(existing - set(files)):
        os.remove(os.path.join(args.root, rel))
    for rel, text in sorted(files.items()):
        p = os.path.join(args.root, rel)
        try:
            with open(p, encoding="utf-8", newline="") as fh:
                if fh.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(p, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
