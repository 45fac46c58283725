#!/usr/bin/env bash
# AppImage recipe (not built by CI: it needs appimagetool, which is downloaded from its project, not from a
# package registry). Usage: bash packaging/linux/appimage/build-appimage.sh /path/to/appimagetool
# The AppImage runs on the host (no sandbox), so owners are shown as with the .deb. It does not bundle GL,
# X11 or Wayland libraries: like the .deb, it expects the host's (see the depends list in Cargo.toml).
set -euo pipefail
tool=${1:?path to appimagetool}
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
cargo build --release --locked
appdir=target/Sockscope.AppDir
rm -rf "$appdir"
install -Dm755 target/release/sockscope "$appdir/usr/bin/sockscope"
install -Dm644 packaging/linux/io.github.sockscope.Sockscope.desktop "$appdir/usr/share/applications/io.github.sockscope.Sockscope.desktop"
install -Dm644 packaging/linux/io.github.sockscope.Sockscope.metainfo.xml "$appdir/usr/share/metainfo/io.github.sockscope.Sockscope.appdata.xml"
cp -r packaging/linux/icons "$appdir/usr/share/"
cp packaging/linux/io.github.sockscope.Sockscope.desktop "$appdir/"
cp packaging/linux/icons/hicolor/256x256/apps/io.github.sockscope.Sockscope.png "$appdir/"
cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
exec "$here/usr/bin/sockscope" "$@"
RUN
chmod +x "$appdir/AppRun"
ARCH=$(uname -m) "$tool" "$appdir" target/Sockscope-$(uname -m).AppImage
