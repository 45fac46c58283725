//! Network namespaces: each is a whole network stack of its own (interfaces, routes, and its own TCP and
//! UDP port number spaces). A container's listener on port 80 and the host's listener on port 80 are
//! two different ports, which is why every socket carries the namespace it lives in.

use super::snapshot::{MachineFacts, PortRange};

/// A namespace's own settings (its `/proc/sys/net` and addresses), read from inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceFacts {
    /// Its `net.ipv4.ip_local_port_range`.
    pub ephemeral_range: Option<PortRange>,
    /// Its other settings and its interfaces' addresses.
    pub machine: MachineFacts,
}

/// One network namespace a sample looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetNamespace {
    /// Its inode number in nsfs (`ls -L -i /proc/PID/ns/net`, `ip netns identify`): its identity.
    pub inode: u64,
    /// True for the namespace PID 1 is in: the host's own network stack.
    pub host: bool,
    /// The container its processes belong to, as their cgroup names it (`docker 3f2a1b9c8d7e`,
    /// `podman …`, `kubernetes …`, `lxc NAME`, `systemd-nspawn NAME`); `None` when the cgroup names none.
    pub container: Option<String>,
    /// Whether its sockets were listed; `false` when the namespace could not be entered (a note says why).
    pub listed: bool,
    /// True for the namespace Sockscope sampled from: the snapshot's own settings are this one's.
    pub sampler: bool,
    /// Its settings, read from inside it; `None` for the sampler's (the snapshot holds those) and where
    /// they could not be read.
    pub facts: Option<NamespaceFacts>,
}

impl NetNamespace {
    /// How a sentence names it: `the host's network namespace (netns 4026531840)`, `network namespace
    /// 4026532291 of docker 3f2a1b9c8d7e`, or `network namespace 4026532291`.
    #[must_use]
    pub fn describe(&self) -> String {
        match (&self.container, self.host) {
            (_, true) => format!("the host's network namespace (netns {})", self.inode),
            (Some(container), false) => {
                format!("network namespace {} of {container}", self.inode)
            }
            (None, false) => format!("network namespace {}", self.inode),
        }
    }

    /// How lists name it: `host`, the container, or `netns 4026532291`.
    #[must_use]
    pub fn label(&self) -> String {
        if self.host {
            "host".to_owned()
        } else if let Some(container) = &self.container {
            container.clone()
        } else {
            format!("netns {}", self.inode)
        }
    }
}

impl NetNamespace {
    /// True when the `ns:` filter value (lowercase) names it: its inode number, `host`, or part of its
    /// label.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        value == self.inode.to_string()
            || (value == "host" && self.host)
            || self.label().to_lowercase().contains(value)
    }

    /// The namespace `inode` as a [`label`](Self::label) names it (what a CSV file keeps): `host`, a
    /// container, or a bare number (`netns N`, or empty). A CSV file records no sampler; the host's
    /// namespace is taken for it, as it is where Sockscope runs almost always.
    #[must_use]
    pub fn from_label(inode: u64, label: &str) -> Self {
        let plain = label.is_empty() || label == format!("netns {inode}");
        let host = label == "host";
        Self {
            sampler: host,
            ..Self::listed(inode, host, (!plain && !host).then_some(label))
        }
    }

    /// A namespace whose sockets were listed, with no settings of its own recorded: how files without
    /// them, and snapshots built by hand, describe one.
    #[must_use]
    pub fn listed(inode: u64, host: bool, container: Option<&str>) -> Self {
        Self {
            inode,
            host,
            container: container.map(str::to_owned),
            listed: true,
            sampler: false,
            facts: None,
        }
    }
}

/// Where a socket's addresses and ports live, as sentences say it: "this host" for the host's network
/// namespace (and when none was recorded), else the namespace by name: a container's wildcard takes the
/// container's addresses, not the host's. Made by [`super::snapshot::Snapshot::place`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Another namespace; `None` for this host.
    other: Option<Other>,
}

/// A namespace other than the host's, as sentences name it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Other {
    /// One whose processes' cgroup names a container (`docker 3f2a1b9c8d7e`).
    Container(String),
    /// One known only by its inode number.
    Bare(u64),
}

impl Place {
    /// Namespace `ns`, which is not the host's.
    #[must_use]
    pub fn other(ns: &NetNamespace) -> Self {
        Self {
            other: Some(match &ns.container {
                Some(container) => Other::Container(container.clone()),
                None => Other::Bare(ns.inode),
            }),
        }
    }

    /// True for the host's namespace (or when none was recorded).
    #[must_use]
    pub fn is_this_host(&self) -> bool {
        self.other.is_none()
    }

    /// "this host", or "the network namespace of docker 3f2a1b9c8d7e" (`netns N` when no container
    /// is known).
    #[must_use]
    pub fn name(&self) -> String {
        match &self.other {
            None => "this host".to_owned(),
            Some(Other::Bare(inode)) => format!("network namespace {inode}"),
            Some(Other::Container(container)) => format!("the network namespace of {container}"),
        }
    }

    /// "on this host", or "in the network namespace of docker 3f2a1b9c8d7e".
    #[must_use]
    pub fn on(&self) -> String {
        match &self.other {
            Some(_) => format!("in {}", self.name()),
            None => "on this host".to_owned(),
        }
    }

    /// "this host's network namespace", or [`Self::name`].
    #[must_use]
    pub fn netns(&self) -> String {
        match &self.other {
            Some(_) => self.name(),
            None => "this host's network namespace".to_owned(),
        }
    }

    /// "this host's ephemeral range 32768–60999", or "the ephemeral range 40000–40100 of the network
    /// namespace of docker 3f2a1b9c8d7e", for `range` as written.
    #[must_use]
    pub fn ephemeral_range(&self, range: &str) -> String {
        match &self.other {
            Some(_) => format!("the ephemeral range {range} of {}", self.name()),
            None => format!("this host's ephemeral range {range}"),
        }
    }

    /// A short tag for a gauge: "", " in docker 3f2a1b9c8d7e", or " in netns 4026532291".
    #[must_use]
    pub fn tag(&self) -> String {
        match &self.other {
            None => String::new(),
            Some(Other::Container(container)) => format!(" in {container}"),
            Some(Other::Bare(inode)) => format!(" in netns {inode}"),
        }
    }
}

/// The container named by a process's `/proc/PID/cgroup` text, when its cgroup path names one. Handles
/// cgroup v1 and v2 paths of docker (`/docker/ID`, `docker-ID.scope`), podman (`libpod-ID.scope`),
/// kubernetes (`kubepods…`, with a CRI's `cri-containerd-ID`, `crio-ID` or `docker-ID`), lxc
/// (`/lxc/NAME`, `lxc.payload.NAME`), systemd-nspawn (`systemd-nspawn@NAME.service`) and other
/// machines registered with systemd-machined (`machine-NAME.scope`, named `machine NAME`). Container ids
/// are shortened to 12 characters, as `docker ps` shows them. In kubernetes the namespace is the pod's,
/// shared by its containers, so the pod is named (`kubernetes pod 0f1e2d3c`, its uid's first group).
#[must_use]
pub fn container_of_cgroup(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .find_map(container_of_path)
}

fn container_of_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kubernetes = segments.iter().any(|s| s.starts_with("kubepods"));
    if kubernetes {
        if let Some(pod) = segments.iter().find_map(|s| pod_uid(s)) {
            return Some(format!("kubernetes pod {pod}"));
        }
    }
    for (i, segment) in segments.iter().enumerate().rev() {
        let id = |prefix: &str| {
            segment
                .strip_prefix(prefix)
                .map(|rest| rest.trim_end_matches(".scope"))
                .filter(|id| is_container_id(id))
                .map(short_id)
        };
        let runtime_id = id("docker-")
            .or_else(|| id("cri-containerd-"))
            .or_else(|| id("crio-"))
            .or_else(|| id("libpod-").map(|id| format!("podman {id}")));
        if let Some(found) = runtime_id {
            return Some(if kubernetes {
                format!("kubernetes {}", found.trim_start_matches("podman "))
            } else if found.starts_with("podman ") {
                found
            } else {
                format!("docker {found}")
            });
        }
        let parent = i.checked_sub(1).and_then(|p| segments.get(p)).copied();
        if parent == Some("docker") && is_container_id(segment) {
            return Some(format!("docker {}", short_id(segment)));
        }
        if matches!(parent, Some("lxc" | "lxc.payload")) {
            return Some(format!("lxc {segment}"));
        }
        if let Some(name) = segment.strip_prefix("lxc.payload.") {
            return Some(format!("lxc {name}"));
        }
        let nspawn = segment
            .strip_prefix("systemd-nspawn@")
            .and_then(|s| s.strip_suffix(".service"));
        if let Some(name) = nspawn {
            return Some(format!("systemd-nspawn {}", systemd_unescape(name)));
        }
        let machine = segment
            .strip_prefix("machine-")
            .and_then(|s| s.strip_suffix(".scope"));
        if let Some(name) = machine {
            return Some(format!("machine {}", systemd_unescape(name)));
        }
    }
    None
}

/// The first group of a pod's uid in a kubepods cgroup segment: `kubepods-besteffort-pod0f1e2d3c_…
/// .slice` (systemd driver) or `pod0f1e2d3c-…` (cgroupfs driver).
fn pod_uid(segment: &str) -> Option<String> {
    let at = segment.rfind("pod")?;
    let rest = segment[at + 3..].trim_end_matches(".slice");
    let first = rest.split(['_', '-']).next()?;
    (first.len() == 8 && first.bytes().all(|b| b.is_ascii_hexdigit())).then(|| first.to_owned())
}

/// A runtime's container id: 12 or more hex digits.
fn is_container_id(id: &str) -> bool {
    id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

/// Undoes systemd's unit-name escaping of `-` (`\x2d`), which machine names use.
fn systemd_unescape(name: &str) -> String {
    name.replace("\\x2d", "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";

    #[test]
    fn names_the_container_runtimes_from_their_cgroup_paths() {
        let cases = [
            (
                format!("0::/system.slice/docker-{ID}.scope\n"),
                "docker 3f2a1b9c8d7e",
            ),
            (
                format!("12:pids:/docker/{ID}\n1:name=systemd:/docker/{ID}\n"),
                "docker 3f2a1b9c8d7e",
            ),
            (
                format!("0::/machine.slice/libpod-{ID}.scope/container\n"),
                "podman 3f2a1b9c8d7e",
            ),
            (
                format!(
                    "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/cri-containerd-{ID}.scope\n"
                ),
                "kubernetes pod 0f1e2d3c",
            ),
            (
                format!(
                    "11:pids:/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/{ID}\n"
                ),
                "kubernetes pod 0f1e2d3c",
            ),
            ("0::/lxc.payload.web1\n".to_owned(), "lxc web1"),
            ("4:memory:/lxc/db\n".to_owned(), "lxc db"),
            (
                "0::/machine.slice/systemd-nspawn@build\\x2dbox.service/payload\n".to_owned(),
                "systemd-nspawn build-box",
            ),
            (
                "0::/machine.slice/machine-arch.scope\n".to_owned(),
                "machine arch",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(container_of_cgroup(&text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn an_ordinary_service_or_session_is_no_container() {
        for text in [
            "0::/system.slice/ssh.service\n",
            "0::/user.slice/user-1000.slice/session-2.scope\n",
            "0::/\n",
            "",
            "garbage",
            "0::/system.slice/docker.service\n",
        ] {
            assert_eq!(container_of_cgroup(text), None, "{text}");
        }
    }

    #[test]
    fn labels_read_host_container_or_number() {
        let mut ns = NetNamespace {
            inode: 4_026_532_291,
            host: false,
            container: None,
            listed: true,
            sampler: false,
            facts: None,
        };
        assert_eq!(ns.label(), "netns 4026532291");
        ns.container = Some("docker 3f2a1b9c8d7e".to_owned());
        assert_eq!(ns.label(), "docker 3f2a1b9c8d7e");
        ns.host = true;
        assert_eq!(ns.label(), "host");
    }

    #[test]
    fn a_label_reads_back_as_its_namespace() {
        for (host, container) in [(true, None), (false, Some("lxc web1")), (false, None)] {
            let ns = NetNamespace {
                inode: 4_026_532_291,
                host,
                container: container.map(str::to_owned),
                listed: true,
                sampler: host,
                facts: None,
            };
            assert_eq!(NetNamespace::from_label(ns.inode, &ns.label()), ns);
        }
    }
}
