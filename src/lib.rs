//! opsmith: analyze a repository and generate what it needs to ship.

pub mod analyze;
pub mod generate;
pub mod profile;
