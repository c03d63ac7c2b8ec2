//! One import under way: what each of its steps works from.

use std::time::Instant;

use crate::mapping::Mapping;
use crate::source::Source;

use super::plan::StagePlan;

/// The file, its mapping and the SQL that reads it, for one import.
pub(super) struct Run<'a> {
    pub(super) src: &'a Source,
    pub(super) mapping: &'a Mapping,
    /// The pseudonym salt, when user ids are replaced by a salted hash.
    pub(super) salt: Option<&'a str>,
    pub(super) plan: StagePlan,
    pub(super) started: Instant,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        src: &'a Source,
        mapping: &'a Mapping,
        salt: Option<&'a str>,
        started: Instant,
    ) -> Self {
        Run {
            src,
            mapping,
            salt,
            plan: StagePlan::new(src, mapping, salt),
            started,
        }
    }
}
