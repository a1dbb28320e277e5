"""Which of EXAoperation's documented XML-RPC methods `exaop serve` offers, object kind by
object kind: writes docs/API_COVERAGE.md from the code's own registry and the two public
reference files (../shared/reference/ in this workspace; --reference DIR elsewhere).

    .venv/bin/python tools/api_coverage.py [--check] [--reference DIR]

--check writes nothing and exits 1 when the file and the code disagree (the test suite
runs that). Like moto's implementation coverage: the code is the truth, the file its
picture, kept in step by a test.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
REFERENCE = ROOT.parent / "shared" / "reference"
OUT = ROOT / "docs" / "API_COVERAGE.md"
FILES = ("EXAoperation_XMLRPC.md", "EXAoperation_methodHelp_6x.md")
#: the 6.x help dump names objects by their variable, not their service
OBJECTS_6X = {"cluster": "NodeCluster", "storage": "Storage", "users": "UserFolder", "database": "Database",
              "logservice": "LogService", "node": "Node"}  # fmt: skip
GENERIC = "Generic"  # the methods every object has


def documented(reference: Path) -> dict[str, set[str]]:
    """{service: method names} from both reference files."""
    out: dict[str, set[str]] = {}
    service = None
    for line in (reference / FILES[0]).read_text().splitlines():
        if m := re.match(r"## Service `(\w+)`", line):
            service = m.group(1)
        elif line.startswith("## Generic"):
            service = GENERIC
        elif (m := re.match(r"### Method `(\w+)`", line)) and service:
            out.setdefault(service, set()).add(m.group(1))
    obj = None
    for line in (reference / FILES[1]).read_text().splitlines():
        if m := re.match(r"## (\w+) = XmlRpcCall", line):
            obj = OBJECTS_6X.get(m.group(1))
        elif (m := re.match(r"### (\w+)\.(\w+)\(\)", line)) and obj:
            out.setdefault(obj, set()).add(m.group(2))
    return out


def report(reference: Path) -> tuple[str, int, int]:
    from exaop.faces.exaoperation.objects import ROOT as _  # noqa: F401 - imports every object kind
    from exaop.faces.exaoperation.registry import ALL_TYPES

    docs = documented(reference)
    generic = docs.pop(GENERIC, set())
    lines: list[str] = []
    total = done = 0
    for service in sorted(docs):
        ours = ALL_TYPES.get(service)
        wanted = sorted(docs[service] | generic)
        have = [m for m in wanted if ours is not None and m in ours.methods]
        total += len(wanted)
        done += len(have)
        where = ""
        if ours is not None:
            common = "exaop.faces.exaoperation.objects.common"
            modules = sorted({ours.methods[m].fn.__module__ for m in have} - {common})
            where = " — " + ", ".join(f"`{mod.replace('.', '/')}.py`" for mod in modules) if modules else ""
        lines += ["", f"## {service} ({len(have)}/{len(wanted)}){where}", ""]
        lines += [f"- [{'x' if m in have else ' '}] `{m}`" for m in wanted]
    head = [
        "# EXAoperation XML-RPC API coverage",
        "",
        "Written by `tools/api_coverage.py` from the code's registry and the public reference",
        f"({' and '.join(f'`{f}`' for f in FILES)}); a test fails when this file and the code disagree.",
        "Each heading names the modules where that object kind's methods are; every object also",
        "has the generic methods (" + ", ".join(f"`{m}`" for m in sorted(generic)) + ").",
        "",
        f"**{done} of {total} documented methods ({100 * done / max(1, total):.0f} %)**",
    ]
    return "\n".join(head + lines) + "\n", done, total


def listed(text: str) -> dict[str, set[str]]:
    """{service: method names} as docs/API_COVERAGE.md lists them, the generic methods under
    GENERIC: the reference's picture where the reference files are not at hand (the test
    above keeps the file in step with them wherever they are)."""
    out: dict[str, set[str]] = {}
    service = ""
    for line in text.splitlines():
        if line.startswith("has the generic methods ("):
            out[GENERIC] = set(re.findall(r"`(\w+)`", line))
        elif m := re.match(r"## (\w+) \(", line):
            service = m.group(1)
            out[service] = set()
        elif (m := re.match(r"- \[[ x]\] `(\w+)`", line)) and service:
            out[service].add(m.group(1))
    return out


def mismatches(text: str) -> list[str]:
    """Where the file says otherwise than the code: each listed method's check mark against
    the registry (needs no reference files, so it runs anywhere the repository is)."""
    from exaop.faces.exaoperation.objects import ROOT as _  # noqa: F401 - imports every object kind
    from exaop.faces.exaoperation.registry import ALL_TYPES

    out = []
    service = ""
    for line in text.splitlines():
        if m := re.match(r"## (\w+) \(", line):
            service = m.group(1)
        elif m := re.match(r"- \[([ x])\] `(\w+)`", line):
            ours = ALL_TYPES.get(service)
            has = ours is not None and m.group(2) in ours.methods
            if has != (m.group(1) == "x"):
                out.append(f"{service}.{m.group(2)}: the file says {'done' if m.group(1) == 'x' else 'missing'}")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="compare with docs/API_COVERAGE.md instead of writing it")
    p.add_argument("--reference", type=Path, default=REFERENCE, help=f"the reference files (default {REFERENCE})")
    args = p.parse_args()
    if args.check and not args.reference.exists():  # no reference here: check the marks only
        wrong = mismatches(OUT.read_text())
        for w in wrong:
            print(w, file=sys.stderr)
        return 1 if wrong else 0
    text, done, total = report(args.reference)
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is not what the code says: run tools/api_coverage.py", file=sys.stderr)
            return 1
        print(f"{OUT}: up to date, {done}/{total}")
        return 0
    OUT.write_text(text)
    print(f"{OUT}: {done}/{total} documented methods")
    return 0


if __name__ == "__main__":
    sys.exit(main())
