#!/usr/bin/env python3
"""pomatch.py — checks a message GIMP printed against a translation.
Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

  pomatch.py LANG.po LOG TAG MSGID [ARG...]
      LOG must hold a line "TAG TEXT" whose TEXT is, in full, the msgstr of
      MSGID in LANG.po with its C conversions (%d, %s, or %N$d, %N$s) filled
      by the ARGs in msgid order: an ARG is the exact text expected there, or
      "*" for any non-empty text, or "*TEXT*" for any text containing TEXT.
      Fails when MSGID has no translation, a fuzzy one, or one equal to the
      msgid (the check would then pass untranslated).
"""
import re
import sys


def unquote(line):
    body = line[line.index('"') + 1:line.rindex('"')]
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body)


def catalogue(path):
    """{msgid: (msgstr, fuzzy)} of a .po file (no plurals, no contexts)."""
    entries, fuzzy, key, field = {}, False, None, None
    parts = {}

    def flush():
        if "msgid" in parts and "msgstr" in parts:
            entries[parts["msgid"]] = (parts["msgstr"], parts.get("fuzzy", False))
        parts.clear()

    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#,"):
            flush()
            fuzzy = "fuzzy" in line
            parts["fuzzy"] = fuzzy
        elif line.startswith("msgid "):
            if "msgstr" in parts:
                flush()
            field, parts["msgid"] = "msgid", unquote(line)
        elif line.startswith("msgstr "):
            field, parts["msgstr"] = "msgstr", unquote(line)
        elif line.startswith('"') and field:
            parts[field] += unquote(line)
        elif not line.strip():
            flush()
            field = None
    flush()
    return entries


CONVERSION = re.compile(r"%(?:(\d+)\$)?([ds])")


def pattern(msgstr, args):
    out, pos, n = [], 0, 0
    for m in CONVERSION.finditer(msgstr):
        out.append(re.escape(msgstr[pos:m.start()]))
        i = int(m[1]) - 1 if m[1] else n
        n += 1
        arg = args[i]
        if arg == "*":
            out.append(".+")
        elif len(arg) > 1 and arg[0] == arg[-1] == "*":
            out.append(".*" + re.escape(arg[1:-1]) + ".*")
        else:
            out.append(re.escape(arg))
        pos = m.end()
    out.append(re.escape(msgstr[pos:]))
    return "".join(out)


def main(argv):
    if len(argv) < 5:
        print(__doc__)
        return 2
    po, log, tag, msgid, args = argv[1], argv[2], argv[3], argv[4], argv[5:]
    entry = catalogue(po).get(msgid)
    if entry is None or not entry[0] or entry[1] or entry[0] == msgid:
        print(f"{po}: no usable translation of {msgid!r}: {entry!r}")
        return 1
    if len(CONVERSION.findall(msgid)) != len(args):
        print(f"{len(args)} arguments given for {msgid!r}")
        return 1
    expected = pattern(entry[0], args)
    lines = [l.rstrip("\n")[len(tag) + 1:] for l in open(log, encoding="utf-8")
             if l.startswith(tag + " ")]
    print(f"expected ({po}): {entry[0]}")
    print(f"got: {lines[-1] if lines else '(no ' + tag + ' line)'}")
    return 0 if lines and re.fullmatch(expected, lines[-1], re.S) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
