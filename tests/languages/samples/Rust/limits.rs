//! Constants shared by the crate.

pub(crate) const LIMIT: usize = 8;
