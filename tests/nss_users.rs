//! User names come through the name service switch (NSS), not from `/etc/passwd`: a user that exists only in
//! an `extrausers` database, visible only inside a private mount namespace, is named in the snapshot.
//!
//! Nothing on the host changes: `unshare -m` gives the snapshot its own mounts, where a tmpfs over
//! `/var/lib` holds the extra database and a bind mount replaces `nsswitch.conf` for that process only.
//! Needs root, `unshare`, `setpriv`, `/usr/bin/python3` and libnss-extrausers (scripts/install-deps.sh installs it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const UID: u32 = 4242;
const NAME: &str = "nssonlyuser";
/// The system's Python, which any user may run (a `python3` first on root's PATH may be root's own).
const PYTHON: &str = "/usr/bin/python3";

fn available() -> Result<(), String> {
    if common::effective_uid() != Some(0) {
        return Err("needs root for unshare -m and mount".into());
    }
    if !std::path::Path::new(PYTHON).exists() {
        return Err(format!("{PYTHON} is missing"));
    }
    for tool in ["unshare", "setpriv", "getent"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Err(format!("{tool} is missing"));
        }
    }
    let lib = [
        "/usr/lib/libnss_extrausers.so.2",
        "/lib/x86_64-linux-gnu/libnss_extrausers.so.2",
    ];
    if !lib.iter().any(|p| std::path::Path::new(p).exists()) {
        return Err("libnss-extrausers is not installed (bash scripts/install-deps.sh)".into());
    }
    Ok(())
}

/// Writes into `dir` an extrausers database naming uid 4242 and an `nsswitch.conf` that reads it;
/// returns their paths.
fn write_nss_files(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("extrausers");
    std::fs::create_dir(&db).unwrap();
    std::fs::write(
        db.join("passwd"),
        format!("{NAME}:x:{UID}:{UID}:NSS only:/nonexistent:/usr/sbin/nologin\n"),
    )
    .unwrap();
    std::fs::write(db.join("group"), format!("{NAME}:x:{UID}:\n")).unwrap();
    std::fs::write(db.join("shadow"), format!("{NAME}:*:19000:0:99999:7:::\n")).unwrap();
    let nsswitch = dir.join("nsswitch.conf");
    std::fs::write(
        &nsswitch,
        "passwd: files extrausers\ngroup: files extrausers\nshadow: files extrausers\n\
         hosts: files\n",
    )
    .unwrap();
    (db, nsswitch)
}

/// A listener created by uid 4242 (the kernel records that uid for the socket), held until its stdin
/// closes; returns the process and the listener's port.
fn listen_as_uid() -> (Child, u16) {
    let mut holder = Command::new("setpriv")
        .args([
            &format!("--reuid={UID}"),
            &format!("--regid={UID}"),
            "--clear-groups",
            PYTHON,
            "-c",
            "import socket, sys, time\n\
             s = socket.socket()\n\
             s.bind(('127.0.0.1', 0))\n\
             s.listen()\n\
             print(s.getsockname()[1], flush=True)\n\
             sys.stdin.read()\n",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    (holder, port)
}

/// Runs `sockscope snapshot --format json` in a private mount namespace where NSS reads `db` through
/// `nsswitch`.
fn snapshot_with_private_nss(db: &Path, nsswitch: &Path) -> Output {
    let script = format!(
        "set -e; mount -t tmpfs sockscope-test /var/lib; mkdir /var/lib/extrausers; \
         cp {db}/passwd {db}/group {db}/shadow /var/lib/extrausers/; \
         mount --bind {nss} /etc/nsswitch.conf; exec {bin} snapshot --format json",
        db = db.display(),
        nss = nsswitch.display(),
        bin = env!("CARGO_BIN_EXE_sockscope"),
    );
    Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap()
}

#[test]
fn a_user_known_only_through_nss_is_named_in_the_snapshot() {
    if let Err(why) = available() {
        // CI runs as root with scripts/install-deps.sh, where this never skips.
        assert!(std::env::var_os("CI").is_none(), "cannot run in CI: {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let host_knows = Command::new("getent")
        .args(["passwd", &UID.to_string()])
        .output()
        .unwrap();
    assert!(
        !host_knows.status.success(),
        "uid {UID} must be unknown to the host for this test"
    );

    let temp = common::temp_dir();
    let (db, nsswitch) = write_nss_files(temp.path());
    let (mut holder, port) = listen_as_uid();
    let out = snapshot_with_private_nss(&db, &nsswitch);
    drop(holder.stdin.take());
    let _ = holder.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let socket = json["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["local_port"] == port && s["state"] == "LISTEN")
        .expect("the listener is in the snapshot");
    assert_eq!(socket["uid"], UID);
    assert_eq!(socket["user"], NAME, "{socket}");
}
