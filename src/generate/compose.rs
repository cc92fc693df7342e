//! The compose artifacts. NOT BUILT YET: generates nothing.

use super::{Artifact, Context, GenerateError};

pub fn artifacts(_context: &Context) -> Result<Vec<Artifact>, GenerateError> {
    Ok(Vec::new())
}
