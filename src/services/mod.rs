//! What port numbers mean: IANA's registry, RFC 6335 classes and the OS ephemeral range, and the sentences
//! that explain a socket and its port.

pub mod doctor;
pub mod explain;
pub mod registry;
