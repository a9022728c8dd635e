#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
The names scripts read have two copies each that must not drift: the JSON
keys the code writes and docs/json.md, the journal fields it sends and
nattraced(8). Every JSON key written (a string literal in the key position
of a jsonw_* call or of a helper that takes its key the same way, and the
owner attributes of the attr_names table) must be a key in a table of
docs/json.md (a backquoted name in a row's first cell), and every key
documented there must be written somewhere; the same for each NATTRACE_*
field and the man page.

Usage: docs_keys.py TOP [JSON_DOC [MAN_PAGE]]
"""
import pathlib
import re
import sys

top = pathlib.Path(sys.argv[1])
json_doc = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else top / 'docs' / 'json.md'
man_page = pathlib.Path(sys.argv[3]) if len(sys.argv) > 3 else top / 'man' / 'nattraced.8'


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)


sources = {p: strip_comments(p.read_text()) for p in sorted((top / 'src').rglob('*.c'))}

# Functions that take a JSON key as their second argument: jsonw's own and
# any helper declared as f(struct jsonw *w, const char *key, ...).
key_funcs = {'jsonw_string', 'jsonw_uint', 'jsonw_bool', 'jsonw_null',
             'jsonw_object_open', 'jsonw_array_open'}
for text in sources.values():
    for m in re.finditer(r'\b(\w+)\s*\(\s*(?:const\s+)?struct\s+jsonw\s*\*\s*\w+\s*,'
                         r'\s*const\s+char\s*\*\s*\w+\s*[,)]', text):
        key_funcs.add(m.group(1))


def second_arg(text, i):
    """The text of the second argument of the call whose '(' ends at i."""
    depth, arg, n = 0, '', 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            arg += text[i:j + 1]
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                return arg if n == 1 else None
            depth -= 1
        elif c == ',' and depth == 0:
            if n == 1:
                return arg
            n, arg = n + 1, ''
            i += 1
            continue
        arg += c
        i += 1
    return None


written = {}
for path, text in sources.items():
    if path.name == 'jsonw.c':
        continue
    for m in re.finditer(r'\b(\w+)\s*\(', text):
        if m.group(1) not in key_funcs:
            continue
        arg = second_arg(text, m.end())
        # literals only: a ternary gives both, NULL (an array element) none
        for key in re.findall(r'"((?:[^"\\]|\\.)*)"', arg or ''):
            written.setdefault(key, set()).add(str(path.relative_to(top)))
    # the owner attributes: rows { "key", "label" } of attr_names[]
    table = re.search(r'attr_names\s*\[\s*\]\s*=\s*\{(.*?)\n\};', text, flags=re.S)
    if table:
        for key in re.findall(r'\{\s*"([a-z0-9_]+)"\s*,', table.group(1)):
            written.setdefault(key, set()).add(str(path.relative_to(top)))

documented = set()
for line in json_doc.read_text().splitlines():
    cells = line.split('|')
    if len(cells) > 2 and line.lstrip().startswith('|'):
        documented.update(re.findall(r'`([a-z0-9_]+)`', cells[1]))

fail = False
if len(written) < 50:
    print(f'docs_keys: only {len(written)} JSON keys found in src/: is the extraction broken?')
    fail = True
for key in sorted(set(written) - documented):
    print(f'docs_keys: JSON key "{key}" written by {", ".join(sorted(written[key]))} '
          f'is not documented in {json_doc.name}')
    fail = True
for key in sorted(documented - set(written)):
    print(f'docs_keys: JSON key "{key}" is documented in {json_doc.name} but nothing in src/ writes it')
    fail = True

fields = {}
for path, text in sources.items():
    for f in re.findall(r'"(NATTRACE_[A-Z0-9_]+)', text):
        fields.setdefault(f, set()).add(str(path.relative_to(top)))
man = man_page.read_text().replace('\\-', '-').replace('\\_', '_')
in_man = set(re.findall(r'NATTRACE_[A-Z0-9_]+', man))
if len(fields) < 20:
    print(f'docs_keys: only {len(fields)} journal fields found in src/: is the extraction broken?')
    fail = True
for f in sorted(set(fields) - in_man):
    print(f'docs_keys: journal field {f} sent by {", ".join(sorted(fields[f]))} '
          f'is not in {man_page.name}')
    fail = True
for f in sorted(in_man - set(fields)):
    print(f'docs_keys: journal field {f} is in {man_page.name} but nothing in src/ sends it')
    fail = True

print(f'docs_keys: {len(written)} JSON keys against {json_doc.name}, '
      f'{len(fields)} journal fields against {man_page.name}')
sys.exit(1 if fail else 0)
