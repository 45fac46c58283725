//! A [`SocketSource`] that hands out prepared snapshots, for tests and demos.

use std::collections::VecDeque;

use super::{CollectError, SocketSource};
use crate::model::snapshot::Snapshot;

/// Replays snapshots in order; after the last one it repeats it, or reports [`CollectError::Exhausted`].
#[derive(Debug, Default)]
pub struct ReplaySource {
    queue: VecDeque<Snapshot>,
    last: Option<Snapshot>,
    repeat_last: bool,
}

impl ReplaySource {
    /// Replays `snapshots` once, then reports exhaustion.
    #[must_use]
    pub fn new(snapshots: impl IntoIterator<Item = Snapshot>) -> Self {
        Self {
            queue: snapshots.into_iter().collect(),
            last: None,
            repeat_last: false,
        }
    }

    /// Replays `snapshots`, then keeps returning the last one.
    #[must_use]
    pub fn repeating(snapshots: impl IntoIterator<Item = Snapshot>) -> Self {
        Self {
            repeat_last: true,
            ..Self::new(snapshots)
        }
    }
}

impl SocketSource for ReplaySource {
    fn sample(&mut self) -> Result<Snapshot, CollectError> {
        match self.queue.pop_front() {
            Some(next) => {
                if self.repeat_last {
                    self.last = Some(next.clone());
                }
                Ok(next)
            }
            None => self.last.clone().ok_or(CollectError::Exhausted),
        }
    }
}
