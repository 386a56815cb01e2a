#!/usr/bin/env bash
# Builds crsync for release with the Swift runtime linked in, and packs it as
# crsync_<version>_<arch>.deb in OUTDIR (default: the current folder). crsync-devserver is not packed.
#   Packaging/build-deb.sh [OUTDIR]
# Needs swift, dpkg-dev (for dpkg-shlibdeps), libcurl4-openssl-dev and libsqlite3-dev. The build goes to
# .build-release/ at the top of the repository, so it works from a clean clone and leaves .build/ alone.
set -euo pipefail
umask 022

outdir=$(realpath -m "${1:-.}")
packaging=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$packaging")
scratch="$repo/.build-release"
cd "$repo"

die() { echo "build-deb: $*" >&2; exit 1; }
command -v swift >/dev/null || die "swift is not on PATH (Swift 6: https://www.swift.org/install/linux/)"
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps is missing: apt-get install dpkg-dev"

echo "== swift build -c release --static-swift-stdlib --product crsync"
# --static-swift-stdlib links the Swift runtime and Foundation into the binary, so the package needs no
# Swift toolchain; --disable-local-rpath drops the $ORIGIN search path, which /usr/bin has no use for.
swift build -c release --static-swift-stdlib --disable-local-rpath --product crsync --scratch-path "$scratch"
built="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/crsync"

# The binary may only need libraries Debian ships: no libswift*, libFoundation*, libdispatch, libBlocksRuntime.
needed=$(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
swift_libs=$(grep -E '^lib(swift|Foundation|dispatch|BlocksRuntime|_Foundation|icu)' <<<"$needed" || true)
[ -z "$swift_libs" ] || die "$built still needs Swift's libraries: $(echo $swift_libs)"

version=$("$built" version | sed -n 's/^crsync \([0-9][0-9A-Za-z.+~-]*\)$/\1/p')
[ -n "$version" ] || die "\`$built version\` did not print \"crsync X.Y.Z\""
arch=$(dpkg --print-architecture)
maintainer=${CRSYNC_MAINTAINER:-crsync authors <crsync@localhost>}
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo "unknown")
# Dates inside the package come from the last commit, so rebuilding a commit does not change them.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
deb="$outdir/crsync_${version}_${arch}.deb"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"

echo "== assembling crsync $version ($arch)"
install -D -m 0755 "$built" "$root/usr/bin/crsync"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/crsync"
"$root/usr/bin/crsync" version >/dev/null || die "the stripped binary does not run"

install -D -m 0644 "$packaging/crsync.service"        "$root/lib/systemd/system/crsync.service"
install -D -m 0644 "$packaging/crsync-backup.service" "$root/lib/systemd/system/crsync-backup.service"
install -D -m 0644 "$packaging/crsync-backup.timer"   "$root/lib/systemd/system/crsync-backup.timer"
install -D -m 0644 "$packaging/crsync-user.service"   "$root/usr/lib/systemd/user/crsync.service"

doc="$root/usr/share/doc/crsync"
install -D -m 0644 "$repo/LICENSE"                    "$doc/copyright"
install -D -m 0644 "$packaging/config.example.toml"   "$doc/config.example.toml"
# Debian wants a changelog in every package; this one names the commit the package was built from.
printf 'crsync (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
    "$version" "$commit" "$maintainer" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
if [ -f "$repo/README.md" ]; then
    install -D -m 0644 "$repo/README.md" "$doc/README.md"
else
    echo "build-deb: warning: no README.md at the top of the repository; the package ships none" >&2
fi

# dpkg-shlibdeps reads the binary's libraries and names the Debian packages (with minimum versions)
# that provide them. It insists on a debian/control, so it gets a minimal one of its own.
mkdir -p "$stage/debian"
printf 'Source: crsync\n\nPackage: crsync\nArchitecture: any\n' >"$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O root/usr/bin/crsync 2>"$stage/shlibdeps.log") \
    || { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
lib_depends=${shlibs#shlibs:Depends=}
[ -n "$lib_depends" ] && [ "$lib_depends" != "$shlibs" ] || die "dpkg-shlibdeps printed no dependencies: $shlibs"

install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$packaging/deb/$script" "$root/DEBIAN/$script"
done
installed_kib=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: crsync
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kib
Depends: $lib_depends, adduser
Recommends: ca-certificates
Section: net
Priority: optional
Description: keeps local folders uploaded to a Cloudreve v4 server
 crsync watches local folders and uploads new and changed files to a
 Cloudreve v4 server; interrupted uploads resume where they stopped.
 It runs per user (systemctl --user enable --now crsync) or system-wide as
 the user "crsync" (crsync.service, or one pass nightly with
 crsync-backup.timer). Configuration: /etc/crsync/config.toml or
 ~/.config/crsync/config.toml; see /usr/share/doc/crsync/.
CONTROL

mkdir -p "$outdir"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "== built $deb ($(du -h "$deb" | cut -f1))"
