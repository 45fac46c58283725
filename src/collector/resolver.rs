//! Host names for peer addresses, from the system resolver, only when the user turns it on.
//!
//! A lookup is `getnameinfo` (via dns-lookup), so `/etc/hosts`, NSS modules and local resolvers answer
//! as they do for every other program; it may send DNS queries, which is why nothing here runs unless the
//! user asked for names (`sockscope snapshot --resolve`). Lookups run on a small pool of threads named
//! `resolver`; callers never wait unless they ask to ([`Resolver::resolve_all`]). Answers are cached: a
//! name for ten minutes, a failure for one, so an address with no name is not asked about every sample.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::model::FastMap;

/// How long a name is trusted.
pub const NAME_TTL: Duration = Duration::from_secs(600);
/// How long "no name" is trusted.
pub const FAILURE_TTL: Duration = Duration::from_secs(60);

/// Resolver threads started by this process so far: names are looked up only when asked for, and tests
/// check that nothing was started otherwise.
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// How many resolver threads this process has started.
#[must_use]
pub fn threads_started() -> usize {
    STARTED.load(Ordering::SeqCst)
}

/// Looks up the name of an address; the system resolver in the app, a fake in tests.
pub type Lookup = Arc<dyn Fn(IpAddr) -> Option<String> + Send + Sync>;

/// The system resolver: `getnameinfo` with `NI_NAMEREQD` (an address without a name is `None`).
#[must_use]
pub fn system_lookup() -> Lookup {
    Arc::new(|ip| dns_lookup::lookup_addr(&ip).ok())
}

#[derive(Clone, Debug)]
enum Entry {
    /// Queued or being looked up.
    Pending,
    /// Looked up at the instant given: the name, or none.
    Done(Option<String>, Instant),
}

#[derive(Default)]
struct State {
    cache: FastMap<IpAddr, Entry>,
    queue: VecDeque<IpAddr>,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes workers when the queue fills or on stop, and waiters when an answer arrives.
    changed: Condvar,
    lookup: Lookup,
    /// Called after each answer (the window's store republishes).
    on_answer: Option<AnswerHook>,
}

/// Called after each answer arrives.
pub type AnswerHook = Arc<dyn Fn() + Send + Sync>;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state holds plain data; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A pool of resolver threads with a cache. Dropping it tells the threads to stop (see `Drop`).
pub struct Resolver {
    shared: Arc<Shared>,
}

impl Resolver {
    /// Starts `threads` resolver threads (at least one) that look names up with `lookup`.
    ///
    /// # Errors
    /// When no thread can be started.
    pub fn start(threads: usize, lookup: Lookup) -> std::io::Result<Self> {
        Self::start_with_hook(threads, lookup, None)
    }

    /// As [`Resolver::start`]; `on_answer` runs on a resolver thread after each answer.
    ///
    /// # Errors
    /// When no thread can be started.
    pub fn start_with_hook(
        threads: usize,
        lookup: Lookup,
        on_answer: Option<AnswerHook>,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            lookup,
            on_answer,
        });
        for started in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            match std::thread::Builder::new()
                .name("resolver".to_owned())
                .spawn(move || work(&shared))
            {
                // Not kept: the threads are never joined (see `Drop`).
                Ok(_) => {
                    STARTED.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) if started == 0 => return Err(e),
                // Fewer threads than asked still resolve everything, more slowly.
                Err(_) => break,
            }
        }
        Ok(Self { shared })
    }

    /// The cached name of `ip`, without waiting. An address never asked about, or whose answer expired,
    /// is queued; until its answer arrives this returns `None`, so the caller shows the address.
    pub fn name(&self, ip: IpAddr) -> Option<String> {
        let mut state = self.shared.lock();
        match state.cache.get(&ip) {
            Some(Entry::Done(name, at)) if !expired(name.is_some(), *at) => name.clone(),
            Some(Entry::Pending) => None,
            _ => {
                state.cache.insert(ip, Entry::Pending);
                state.queue.push_back(ip);
                self.shared.changed.notify_one();
                None
            }
        }
    }

    /// Names for `ips`, waiting up to `timeout` for the lookups; addresses still unanswered then, or
    /// without a name, are left out.
    pub fn resolve_all(&self, ips: &[IpAddr], timeout: Duration) -> FastMap<IpAddr, String> {
        for ip in ips {
            let _ = self.name(*ip);
        }
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let pending = ips
                .iter()
                .any(|ip| matches!(state.cache.get(ip), Some(Entry::Pending)));
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            if !pending {
                break;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        ips.iter()
            .filter_map(|ip| match state.cache.get(ip) {
                Some(Entry::Done(Some(name), _)) => Some((*ip, name.clone())),
                _ => None,
            })
            .collect()
    }
}

/// Looks up the host names of `snapshot`'s peers with the system resolver (at most `timeout` in all) and
/// records them in `snapshot.hosts`. Loopback and this host's own addresses are looked up too: /etc/hosts
/// names them without a query.
///
/// # Errors
/// When no resolver thread can be started.
pub fn name_peers(
    snapshot: &mut crate::model::snapshot::Snapshot,
    timeout: Duration,
) -> std::io::Result<()> {
    let peers = snapshot.peer_addresses();
    if peers.is_empty() {
        return Ok(());
    }
    let resolver = Resolver::start(4, system_lookup())?;
    snapshot.hosts.extend(resolver.resolve_all(&peers, timeout));
    Ok(())
}

impl Drop for Resolver {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        // Not joined: a lookup in progress cannot be cancelled (getnameinfo may wait seconds for DNS), and
        // whoever drops this (the store thread, when names are turned off) must not wait for it. Each
        // thread ends after its current lookup; its answer is dropped.
    }
}

fn expired(named: bool, at: Instant) -> bool {
    at.elapsed() > if named { NAME_TTL } else { FAILURE_TTL }
}

/// One resolver thread: takes addresses off the queue until told to stop.
fn work(shared: &Shared) {
    loop {
        let ip = {
            let mut state = shared.lock();
            loop {
                if state.stop {
                    return;
                }
                if let Some(ip) = state.queue.pop_front() {
                    break ip;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let name = (shared.lookup)(ip);
        let stopped = {
            let mut state = shared.lock();
            state.cache.insert(ip, Entry::Done(name, Instant::now()));
            state.stop
        };
        shared.changed.notify_all();
        if let (Some(hook), false) = (&shared.on_answer, stopped) {
            hook();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting() -> (Lookup, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let lookup: Lookup = Arc::new(move |ip: IpAddr| {
            seen.fetch_add(1, Ordering::SeqCst);
            ip.is_loopback().then(|| "localhost".to_owned())
        });
        (lookup, calls)
    }

    #[test]
    fn names_arrive_later_and_are_cached_with_failures() {
        let (lookup, calls) = counting();
        let resolver = Resolver::start(2, lookup).unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(resolver.name(local), None, "never waits: the address first");
        let names = resolver.resolve_all(&[local, other], Duration::from_secs(5));
        assert_eq!(names.get(&local).map(String::as_str), Some("localhost"));
        assert_eq!(names.get(&other), None, "no name");
        assert_eq!(resolver.name(local).as_deref(), Some("localhost"));
        assert_eq!(resolver.name(other), None);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "each address asked once");
    }

    #[test]
    fn the_system_resolver_names_loopback_from_etc_hosts() {
        // /etc/hosts names 127.0.0.1 on every Linux machine this runs on; no DNS query leaves the host.
        let resolver = Resolver::start(1, system_lookup()).unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let names = resolver.resolve_all(&[local], Duration::from_secs(10));
        assert!(names.contains_key(&local), "{names:?}");
    }
}
