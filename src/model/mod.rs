//! Plain data: sockets, snapshots, diffs and the store. No egui, no OS calls.

pub mod budget;
pub mod compare;
pub mod diff;
pub mod failure;
pub mod history;
pub mod join;
pub mod kernel;
pub mod netns;
pub mod port_class;
pub mod ports;
pub mod privilege;
pub mod side;
pub mod snapshot;
pub mod socket;
pub mod state;
pub mod store;
pub mod traffic;
pub mod unix;

/// The hash map of every per-sample index (socket keys, cookies, inodes, ports): keys come from the kernel,
/// not from an attacker, so a fast non-cryptographic hash is safe, and SipHash was half of the store's time
/// per sample.
pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// The set counterpart of [`FastMap`].
pub type FastSet<K> = rustc_hash::FxHashSet<K>;
