//! opsmith: analyze a repository and generate what it needs to ship.

pub mod analyze;
pub mod app;
pub mod build;
pub mod command;
pub mod config;
pub mod generate;
pub mod git;
pub mod github;
pub mod job;
pub mod profile;
pub mod queue;
pub mod repo_config;
pub mod report;
pub mod scan;
pub mod server;
pub mod setup;
pub mod worker;
