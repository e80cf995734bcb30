#!/usr/bin/env python3
"""Size audit: non-test Rust files over 800 lines and functions over 120 lines.

    .ci/sizes.py            # report every violator, exit 1 if one has no reason given
    .ci/sizes.py --all      # also list the violators that carry a reason
    .ci/sizes.py --limits 800 120 PATH...

The house rule (ARCHITECTURE.md, issue #8): files under ~800 lines, functions under ~120,
unless a comment says why. The reason is a `// size:` comment:
  - for a function, in the comment and attribute lines directly above its `fn` line;
  - for a file, anywhere in its leading comment block (`//!` or `//` lines at the top).

What counts:
  - test code is left out: `tests/` directories, `#[cfg(test)]` modules (inline, and the files
    of out-of-line ones), and the `fuzz/` and `target/` trees are not scanned as test code
    either way (fuzz targets are scanned, `target/` never);
  - a file's size is its lines outside `#[cfg(test)]` modules (the total is shown beside it);
  - a function's size runs from its `fn` line to its closing brace, both included; a function
    without a body (a trait method's signature) has none.

The scanner blanks comments, strings, byte strings, raw strings and character literals before
matching braces, so braces inside them do not count. It is not a Rust parser: a `fn` inside a
macro body is measured like any other.
"""

import argparse
import os
import re
import sys

FILE_LIMIT = 800
FN_LIMIT = 120
REASON = re.compile(r"//.*\bsize:")


def blank(src):
    """The source with every comment and literal replaced by spaces (newlines kept), so that
    line numbers and brace positions survive and only code braces remain."""
    out = []
    i, n = 0, len(src)

    def keep_newlines(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = src[i]
        nxt = src[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(keep_newlines(src[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:i + 300]) and not _ident_before(src, i):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(keep_newlines(src[i:j]))
            i = j
        elif c == "b" and nxt in "\"'r" and not _ident_before(src, i):
            out.append(" ")
            i += 1
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(keep_newlines(src[i:j]))
            i = j
        elif c == "'":
            # A character literal ('x', '\n', '\u{1F600}', '{'), or a lifetime ('a): a
            # lifetime has no closing quote right after its name.
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'])'", src[i:i + 12])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_before(src, i):
    return i > 0 and (src[i - 1].isalnum() or src[i - 1] == "_")


def matching_brace(code, open_at):
    """Index of the `}` closing the `{` at `open_at`, or None."""
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return None


CFG_TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([{;])")
FN = re.compile(r"\bfn\s+\w+")


def test_spans(code):
    """(start, end) offsets of inline `#[cfg(test)] mod x { ... }` and the names of the
    out-of-line ones (`#[cfg(test)] mod x;`)."""
    spans, files = [], []
    for m in CFG_TEST_MOD.finditer(code):
        if m.group(2) == ";":
            files.append(m.group(1))
            continue
        end = matching_brace(code, m.end() - 1)
        spans.append((m.start(), len(code) if end is None else end + 1))
    return spans, files


def line_of(code, offset):
    return code.count("\n", 0, offset) + 1


def functions(code, spans):
    """(name, first line, last line) of every function with a body outside `spans`."""
    out = []
    for m in FN.finditer(code):
        if any(a <= m.start() < b for a, b in spans):
            continue
        # The body opens at the first `{` at bracket depth 0 after the signature; a `;` first
        # means a signature without a body.
        depth, j = 0, m.end()
        while j < len(code):
            ch = code[j]
            if ch in "([<":
                depth += 1
            elif ch in ")]>" and depth > 0:
                # `->` is not a closing angle bracket.
                if not (ch == ">" and code[j - 1] == "-"):
                    depth -= 1
            elif ch == ";" and depth == 0:
                j = None
                break
            elif ch == "{" and depth == 0:
                break
            j += 1
        if j is None or j >= len(code):
            continue
        end = matching_brace(code, j)
        if end is None:
            continue
        out.append((m.group(0).split()[1], line_of(code, m.start()), line_of(code, end)))
    return out


def reason_above(lines, fn_line):
    """A `// size:` reason in the comment/attribute lines directly above line `fn_line`."""
    k = fn_line - 2
    while k >= 0:
        s = lines[k].strip()
        if REASON.search(s):
            return True
        if s.startswith("//") or s.startswith("#[") or s.startswith("#!"):
            k -= 1
            continue
        return False
    return False


def file_reason(lines):
    for s in lines:
        s = s.strip()
        if not s.startswith("//") and not s.startswith("#!["):
            return False
        if REASON.search(s):
            return True
    return False


def rust_files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root
            continue
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x not in ("target", "tests", ".git", "benches"))
            for f in sorted(files):
                if f.endswith(".rs"):
                    yield os.path.join(d, f)


def test_module_files(path, names):
    """The files an out-of-line `#[cfg(test)] mod NAME;` in `path` may live in."""
    d = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    base = d if stem in ("lib", "main", "mod") else os.path.join(d, stem)
    for name in names:
        yield os.path.normpath(os.path.join(base, name + ".rs"))
        yield os.path.normpath(os.path.join(base, name, "mod.rs"))


def audit(roots, file_limit, fn_limit):
    sources = {}
    test_files = set()
    for path in rust_files(roots):
        with open(path, encoding="utf-8", errors="replace") as f:
            src = f.read()
        code = blank(src)
        spans, names = test_spans(code)
        sources[os.path.normpath(path)] = (src, code, spans)
        test_files.update(test_module_files(path, names))
    big_files, long_fns = [], []
    for path, (src, code, spans) in sorted(sources.items()):
        if path in test_files:
            continue
        lines = src.split("\n")
        total = len(lines) - (1 if src.endswith("\n") else 0)
        in_tests = sum(line_of(code, b - 1) - line_of(code, a) + 1 for a, b in spans)
        own = total - in_tests
        if own > file_limit:
            big_files.append((path, own, total, file_reason(lines)))
        for name, first, last in functions(code, spans):
            size = last - first + 1
            if size > fn_limit:
                long_fns.append((path, first, name, size, reason_above(lines, first)))
    return big_files, long_fns


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=["."])
    ap.add_argument("--limits", nargs=2, type=int, metavar=("FILE", "FN"), default=[FILE_LIMIT, FN_LIMIT])
    ap.add_argument("--all", action="store_true", help="also list violators that give a reason")
    args = ap.parse_args()
    file_limit, fn_limit = args.limits
    big_files, long_fns = audit(args.paths, file_limit, fn_limit)

    print(f"== files over {file_limit} lines (outside #[cfg(test)] modules)")
    for path, own, total, why in big_files:
        if why and not args.all:
            continue
        print(f"{own:6d} {path}" + (f"  (total {total})" if total != own else "") + ("  [reason given]" if why else ""))
    print(f"== functions over {fn_limit} lines (outside tests)")
    for path, line, name, size, why in sorted(long_fns, key=lambda x: -x[3]):
        if why and not args.all:
            continue
        print(f"{size:6d} {path}:{line} fn {name}" + ("  [reason given]" if why else ""))
    bad_files = sum(1 for x in big_files if not x[3])
    bad_fns = sum(1 for x in long_fns if not x[4])
    print(
        f"== {len(big_files)} file(s) over {file_limit} ({bad_files} without a reason), "
        f"{len(long_fns)} function(s) over {fn_limit} ({bad_fns} without a reason)"
    )
    return 1 if bad_files or bad_fns else 0


if __name__ == "__main__":
    sys.exit(main())
