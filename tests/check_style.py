#!/usr/bin/python3
"""tests/check_style.py - the size limits of STYLE/common rules as a test: no file over 800
lines and no C function over 120 lines, in base nn data evaluation src bench tests tools
(C sources and headers, Python and shell files; fixtures and generated data are not code).

A C function is a definition that starts at column 0 (a line that is not a comment, a
preprocessor line or a declaration ending in ';') and ends at the first '}' at column 0;
its length counts from the first line of its signature to that brace.
Prints one line per offender and the runner's closing line "N passed, N failed".
Usage: check_style.py [ROOT] (default: the repository this file is in)."""
import os
import re
import sys

MAX_FILE, MAX_FUNC = 800, 120
DIRS = ("base", "nn", "data", "evaluation", "src", "bench", "tests", "tools")
CODE = (".c", ".h", ".py", ".sh")


def code_files(root):
    for d in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames[:] = sorted(n for n in dirnames if n not in ("fixtures", "__pycache__"))
            for n in sorted(filenames):
                if n.endswith(CODE):
                    yield os.path.join(dirpath, n)


HEAD = re.compile(r"^[A-Za-z_][^;]*\(")   # column 0, a '(' and no ';' before it


def functions(lines):
    """(name, first line, length) of each C function definition."""
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not HEAD.match(line):
            i += 1
            continue
        # the signature runs until a line ends with '{' (definition) or ';' (prototype)
        j = i
        while j < n and not lines[j].rstrip().endswith(("{", ";", "}")) and j - i < 10:
            j += 1
        if j < n and lines[j].rstrip().endswith("{") and not lines[j].rstrip().endswith("= {"):
            k = j + 1
            while k < n and not lines[k].startswith("}"):
                k += 1
            name = re.findall(r"([A-Za-z_]\w*)\s*\(", lines[i])
            yield (name[0] if name else "?"), i + 1, k - i + 1
            i = k + 1
        else:
            i = j + 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    long_files, long_funcs = [], []
    for path in code_files(root):
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        rel = os.path.relpath(path, root)
        if len(lines) > MAX_FILE:
            long_files.append(f"{rel}: {len(lines)} lines (limit {MAX_FILE})")
        if path.endswith((".c", ".h")):
            for name, start, length in functions(lines):
                if length > MAX_FUNC:
                    long_funcs.append(f"{rel}:{start}: {name}() {length} lines (limit {MAX_FUNC})")
    ok = 0
    for title, found in (("files over %d lines" % MAX_FILE, long_files),
                         ("C functions over %d lines" % MAX_FUNC, long_funcs)):
        if found:
            print(f"FAIL {title}:")
            for s in found:
                print("    " + s)
        else:
            print(f"ok   no {title}")
            ok += 1
    print(f"{ok} passed, {2 - ok} failed")
    return 0 if ok == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
