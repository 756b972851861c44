//! A validation problem that names the field, what is wrong and how to fix it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One violated rule. `field` is a JSON path such as `lines[0].unit_price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The JSON path of the offending field.
    pub field: String,
    /// A stable snake_case code.
    pub code: String,
    /// A sentence that says what is wrong.
    pub message: String,
    /// What the user can do about it, when there is something specific to say.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem without a hint.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the field path, e.g. `address` + `.city`.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Problem {}

/// Joins problems into one sentence list.
#[must_use]
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks that `value` has at most `max` characters; the error names `field` and the limit.
pub(crate) fn check_len(
    problems: &mut Vec<Problem>,
    field: &str,
    value: &str,
    max: usize,
    snelstart_field: &str,
) {
    let len = value.chars().count();
    if len > max {
        problems.push(
            Problem::new(
                field,
                "too_long",
                format!("{field} has {len} characters; SnelStart's {snelstart_field} holds at most {max}"),
            )
            .with_hint(format!("shorten {field} to at most {max} characters")),
        );
    }
}
