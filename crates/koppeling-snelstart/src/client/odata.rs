//! OData v3 query pieces: literals, `$filter` expressions and percent-encoded query strings (README §4).

/// An OData string literal: `O'Brien` → `'O''Brien'`.
#[must_use]
pub fn string_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `Property eq 'value'`.
#[must_use]
pub fn eq_str(property: &str, value: &str) -> String {
    format!("{property} eq {}", string_literal(value))
}

/// `ModifiedOn ge datetime'<stamp>'`: what changed since a stamp, the stamp included.
#[must_use]
pub fn modified_since(stamp: &str) -> String {
    format!("ModifiedOn ge datetime'{stamp}'")
}

/// `Property ge datetime'<from>T00:00:00' and Property le datetime'<to>T23:59:59'`: the
/// days `from..=to`, both included.
#[must_use]
pub fn date_range(property: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    format!(
        "{property} ge datetime'{}T00:00:00' and {property} le datetime'{}T23:59:59'",
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    )
}

/// `Property eq 123`.
#[must_use]
pub fn eq_int(property: &str, value: i64) -> String {
    format!("{property} eq {value}")
}

/// The query options of a request, percent-encoded in order (`$` kept literal in names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    /// No options.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `$filter`.
    #[must_use]
    pub fn filter(self, expr: impl Into<String>) -> Self {
        self.with("$filter", expr)
    }

    /// Adds `$top`.
    #[must_use]
    pub fn top(self, n: u32) -> Self {
        self.with("$top", n.to_string())
    }

    /// Adds `$skip`.
    #[must_use]
    pub fn skip(self, n: u32) -> Self {
        self.with("$skip", n.to_string())
    }

    /// Adds any option.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.pairs.push((name, value.into()));
        self
    }

    /// `?$filter=Relatiecode%20eq%201001&$top=500`, or empty. Spaces become `%20` (not `+`)
    /// and quotes `%27`, which every server decodes the same way.
    #[must_use]
    pub fn to_query_string(&self) -> String {
        if self.pairs.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", urlencoding::encode(value)))
            .collect();
        format!("?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_inside_string_literals() {
        assert_eq!(string_literal("O'Brien"), "'O''Brien'");
        assert_eq!(
            eq_str("Factuurnummer", "F'1''"),
            "Factuurnummer eq 'F''1'''''"
        );
        assert_eq!(eq_int("Relatiecode", 1001), "Relatiecode eq 1001");
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        assert_eq!(
            date_range("FactuurDatum", day(1), day(31)),
            "FactuurDatum ge datetime'2026-03-01T00:00:00' and FactuurDatum le datetime'2026-03-31T23:59:59'"
        );
    }

    #[test]
    fn query_strings_are_percent_encoded() {
        let q = Query::new()
            .filter(eq_str("Factuurnummer", "2026/0042 & co+1#"))
            .top(500)
            .skip(0);
        assert_eq!(
            q.to_query_string(),
            "?$filter=Factuurnummer%20eq%20%272026%2F0042%20%26%20co%2B1%23%27&$top=500&$skip=0"
        );
        assert_eq!(Query::new().to_query_string(), "");
    }
}
