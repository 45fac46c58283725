//! What the window shows, computed without egui: the filter language, row sorting, and the store thread
//! that turns samples and view requests into one immutable [`store_thread::Published`] for the window.
//!
//! Nothing here draws; `ui` reads what this module publishes and only swaps pointers on its own thread.

pub mod compute;
pub mod explained;
pub mod filter;
pub mod rows;
pub mod store_thread;
pub mod unix;

pub use compute::ComputedView;
pub use store_thread::{
    NameLookup, NameWaker, Published, Showing, StoreCore, StoreInput, StoreThread, ViewRequest,
};
