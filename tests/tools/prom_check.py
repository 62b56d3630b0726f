#!/usr/bin/env python3
"""A strict parser of the Prometheus text exposition format (0.0.4), for tests.
The tests run it beside `promtool check metrics` (Debian's prometheus package):
promtool lints names, types and HELP, but its 2.42 accepts a family whose
samples are split, which this rejects.  Exits 0 when every file parses, else
prints the first problem with its line number and exits 1.

Checked: HELP/TYPE comment syntax and at most one of each per family, TYPE
before the family's samples, known types, metric and label names, label value
escapes, no duplicate label names, samples of one family contiguous, no
duplicate series, float values (incl. NaN/+Inf/-Inf), optional integer
timestamp, a final newline."""
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*'
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}
SUFFIXES = ('_total', '_sum', '_count', '_bucket', '_created')


def family_of(name, typed):
    if name in typed:
        return name
    for s in SUFFIXES:
        if name.endswith(s) and name[:-len(s)] in typed:
            return name[:-len(s)]
    return name


def parse_labels(s, lineno):
    labels, i = {}, 0
    while i < len(s):
        m = re.compile(LABEL).match(s, i)
        if not m:
            raise ValueError(f'line {lineno}: bad label name at {s[i:]!r}')
        key = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ValueError(f'line {lineno}: expected =" after {key}')
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ValueError(f'line {lineno}: unterminated label value')
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    raise ValueError(f'line {lineno}: bad escape in label value')
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ValueError(f'line {lineno}: raw newline in label value')
            else:
                val.append(c)
                i += 1
        if key in labels:
            raise ValueError(f'line {lineno}: duplicate label {key}')
        labels[key] = ''.join(val)
        if i < len(s):
            if s[i] != ',':
                raise ValueError(f'line {lineno}: expected , between labels')
            i += 1
    return labels


def check(text):
    if text and not text.endswith('\n'):
        raise ValueError('no final newline')
    helps, types, seen_series, done_families = set(), {}, set(), set()
    current = None
    samples = 0
    for lineno, line in enumerate(text.split('\n')[:-1], 1):
        if line == '':
            continue
        if line.startswith('#'):
            m = re.fullmatch(r'# (HELP|TYPE) (' + NAME + r') ?(.*)', line)
            if not m:
                if line.startswith('# HELP') or line.startswith('# TYPE'):
                    raise ValueError(f'line {lineno}: bad {line[2:6]} line')
                continue
            kind, name, rest = m.groups()
            if kind == 'HELP':
                if name in helps:
                    raise ValueError(f'line {lineno}: second HELP for {name}')
                if re.search(r'\\[^\\n]', rest):
                    raise ValueError(f'line {lineno}: bad escape in HELP')
                helps.add(name)
            else:
                if name in types:
                    raise ValueError(f'line {lineno}: second TYPE for {name}')
                if rest not in TYPES:
                    raise ValueError(f'line {lineno}: unknown type {rest!r}')
                if name in done_families or name == current:
                    raise ValueError(f'line {lineno}: TYPE after samples of {name}')
                types[name] = rest
            continue
        m = re.fullmatch(r'(' + NAME + r')(?:\{(.*)\})? (\S+)(?: (-?\d+))?', line)
        if not m:
            raise ValueError(f'line {lineno}: bad sample line {line!r}')
        name, labels, value, _ts = m.groups()
        labels = parse_labels(labels or '', lineno)
        if value not in ('NaN', '+Inf', '-Inf'):
            try:
                float(value)
            except ValueError:
                raise ValueError(f'line {lineno}: bad value {value!r}')
            if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', value):
                raise ValueError(f'line {lineno}: bad value {value!r}')
        fam = family_of(name, types)
        if fam != current:
            if fam in done_families:
                raise ValueError(f'line {lineno}: samples of {fam} are not contiguous')
            if current:
                done_families.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise ValueError(f'line {lineno}: duplicate series {name}{labels}')
        seen_series.add(key)
        samples += 1
    if not samples:
        raise ValueError('no samples')
    return samples


def main():
    for path in sys.argv[1:]:
        try:
            with open(path, encoding='utf-8') as f:
                n = check(f.read())
        except (ValueError, UnicodeDecodeError) as e:
            print(f'{path}: {e}', file=sys.stderr)
            return 1
        print(f'{path}: {n} samples ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
