#!/bin/sh
# test-po-complete.sh SOURCE-DIR — the plug-in's catalogues are complete:
# every source file of plug-in/ and ui/ that marks strings for
# translation is listed in po/POTFILES, and every string xgettext finds
# there (as meson's glib preset extracts them) has a translation that is
# neither missing nor fuzzy in each language of po/LINGUAS.  TAP output.
# Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
set -u
SRC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
echo "TAP version 13"
result() {   # result ok|fail DESCRIPTION [DETAIL-FILE]
  n=$((n + 1))
  if [ "$1" = ok ]; then echo "ok $n - $2"
  else echo "not ok $n - $2"; fails=$((fails + 1)); fi
  [ $# -gt 2 ] && sed 's/^/# /' "$3"
  return 0
}

cd "$SRC" || exit 1
: >"$T/unlisted"
for f in plug-in/*.c ui/*.c; do
  grep -q '_ *(\|N_ *(\|g_dngettext' "$f" || continue
  grep -qx "$f" po/POTFILES || echo "$f" >>"$T/unlisted"
done
if [ -s "$T/unlisted" ]; then
  result fail "every source file with translatable strings is in po/POTFILES" "$T/unlisted"
else
  result ok "every source file with translatable strings is in po/POTFILES"
fi

# the keywords of meson's i18n glib preset
xgettext --from-code=UTF-8 --add-comments --language=C \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 \
  --keyword=g_dpgettext2:2c,3 --files-from=po/POTFILES -o "$T/now.pot" \
  2>"$T/xgettext.err" || { result fail "xgettext reads the sources" "$T/xgettext.err"; }
total=$(grep -c '^msgid ' "$T/now.pot")
for lang in $(cat po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$T/now.pot" \
    -o "$T/$lang.po" 2>"$T/$lang.err"
  msgattrib --untranslated --no-obsolete "$T/$lang.po" \
    | grep -A1 '^msgid' | grep -v '^msgid ""$' >"$T/$lang.missing"
  msgattrib --only-fuzzy --no-obsolete "po/$lang.po" \
    | grep '^msgid' | grep -v '^msgid ""$' >"$T/$lang.fuzzy"
  cat "$T/$lang.missing" "$T/$lang.fuzzy" >"$T/$lang.bad"
  if [ -s "$T/$lang.bad" ]; then
    result fail "$lang: all $total strings of the sources translated, none fuzzy" "$T/$lang.bad"
  else
    result ok "$lang: all $total strings of the sources translated, none fuzzy"
  fi
done
echo "1..$n"
[ $fails -eq 0 ]
