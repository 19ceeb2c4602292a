#!/usr/bin/env bash
# dtr import and dtr export, timed with /usr/bin/time -v (wall seconds, rows
# per second, peak RSS):
#   1. import of the register's sample (../shared/data/dtr-sample) into a
#      fresh data directory (goal: < 2 s), and its re-import (all unchanged);
#   2. dtr generate --units N (default 1,000,000: numbers run across the
#      series G, H, J, ...), then its import into a fresh data directory
#      (goals: < 60 s, < 256 MiB peak RSS);
#   3. its re-import (all unchanged), and dtr export of that register.
# Nothing is asserted: it prints the figures. Disk: the million takes about
# 3 GB of database in the work directory.
#
# Usage: tests/bench/bulk_import_export.sh [BUILD_DIR] [UNITS]   (default: build 1000000)
# Environment: WORK (default: a fresh directory under /tmp, removed at the end
# unless KEEP=1), SEED (default 1).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
units=${2:-1000000}
seed=${SEED:-1}
dtr="$build/dtr"
sample="${DTR_SHARED_DIR:-$root/../shared}/data/dtr-sample"
[ -x "$dtr" ] || { echo "bulk_import_export: $dtr is missing (build the dtr target)" >&2; exit 2; }
[ -f "$build/plugins/csv.so" ] || { echo "bulk_import_export: $build/plugins/csv.so is missing" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bulk_import_export: /usr/bin/time is missing" >&2; exit 2; }

work=${WORK:-$(mktemp -d /tmp/dtr-bulk-bench.XXXXXX)}
mkdir -p "$work"
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

config="$work/dtr.json"
printf '{"plugin_dir": "%s", "plugins": []}\n' "$build/plugins" >"$config"

# run LABEL DATA_DIR ROWS_KNOWN? -- dtr ARGS...: prints one line of figures.
run() {
    local label=$1 data=$2; shift 2
    local log="$work/time.log" out="$work/out.log"
    /usr/bin/time -v "$dtr" "$@" --config "$config" --data "$data" >"$out" 2>"$log" || {
        echo "$label: dtr $* failed:" >&2; tail -5 "$out" "$log" >&2; exit 1; }
    local wall rss rows
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$log")
    rows=$(awk -F': ' '/^rows read:/ {print $2}' "$out")
    last_wall=$wall last_rss=$rss
    if [ -n "$rows" ]; then
        local refused created unchanged
        refused=$(awk -F': ' '/^refused:/ {print $2}' "$out")
        created=$(awk -F': ' '/^created:/ {print $2}' "$out")
        unchanged=$(awk -F': ' '/^unchanged:/ {print $2}' "$out")
        printf '%-28s %8.2f s  %9.0f rows/s  peak RSS %7s MiB  (rows %s, created %s, unchanged %s, refused %s)\n' \
            "$label" "$wall" "$(awk -v r="$rows" -v w="$wall" 'BEGIN {print (w > 0 ? r / w : 0)}')" \
            "$rss" "$rows" "$created" "$unchanged" "$refused"
    else
        printf '%-28s %8.2f s  peak RSS %7s MiB\n' "$label" "$wall" "$rss"
    fi
}

# goal LABEL VALUE LIMIT UNIT: the figure against its goal from issue 5, as a ratio.
goal() {
    awk -v l="$1" -v v="$2" -v g="$3" -v u="$4" \
        'BEGIN {printf "%s: %.2f %s against a goal of < %s %s: %.2fx the goal (%s)\n", l, v, u, g, u, v / g, (v < g ? "met" : "NOT met")}'
}

echo "dtr bulk benchmark: $dtr, $(nproc) CPUs, work in $work"
if [ -d "$sample" ]; then
    run "import sample" "$work/sample-data" import "$sample"
    goal "  sample import" "$last_wall" 2 s
    run "re-import sample" "$work/sample-data" import "$sample"
    run "export sample" "$work/sample-data" export "$work/sample-out"
    for f in daginstitution.csv anvisningsenhed.csv alternativadresse.csv; do
        cmp -s "$sample/$f" "$work/sample-out/$f" || echo "  note: $f differs from the sample"
    done
else
    echo "import sample: skipped ($sample is absent)"
fi

run "generate $units units" "$work/gen-data" generate --units "$units" --seed "$seed" "$work/gen"
echo "  files: $(du -sh "$work/gen" | cut -f1), $(($(wc -l <"$work/gen/daginstitution.csv") - 1)) daginstitutioner," \
     "$(($(wc -l <"$work/gen/anvisningsenhed.csv") - 1)) anvisningsenheder," \
     "$(($(wc -l <"$work/gen/alternativadresse.csv") - 1)) alternative adresser"
run "import $units units" "$work/gen-data" import "$work/gen"
if [ "$units" -eq 1000000 ]; then
    goal "  million import" "$last_wall" 60 s
    goal "  million import peak RSS" "$last_rss" 256 MiB
fi
echo "  database: $(du -sh "$work/gen-data" | cut -f1)"
run "re-import $units units" "$work/gen-data" import "$work/gen"
run "export $units units" "$work/gen-data" export "$work/gen-out"
for f in daginstitution.csv anvisningsenhed.csv alternativadresse.csv; do
    cmp -s "$work/gen/$f" "$work/gen-out/$f" || echo "  note: exported $f differs from the generated one"
done
