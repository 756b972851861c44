//! A checker for English in text a Beheerder reads (used by the tests of the Dutch
//! renderers, the e-mails and the screens).
//!
//! Honest on purpose: only words that are English and not also Dutch (`is`, `in`, `of`,
//! `was`, `over`, `door`, `die` are Dutch too and are not listed), matched as whole words,
//! case-insensitively.

/// Common English words that do not occur in Dutch sentences.
pub const ENGLISH_WORDS: &[&str] = &[
    "the",
    "has",
    "have",
    "must",
    "not",
    "characters",
    "field",
    "and",
    "with",
    "for",
    "does",
    "should",
    "are",
    "only",
    "from",
    "this",
    "that",
    "cannot",
    "which",
    "would",
    "please",
    "there",
    "been",
    "will",
    "your",
    "you",
    "invoice",
    "refuses",
    "refused",
    "exists",
    "already",
    "than",
    "between",
    "error",
    "failed",
    "found",
    "missing",
    "invalid",
    "unknown",
    "required",
    "empty",
    "because",
    "could",
    "holds",
    "most",
    "least",
    "reached",
    "unavailable",
    "available",
    "temporarily",
    "answered",
    "request",
    "lookup",
    "booked",
    "again",
    "shorten",
    "contains",
    "outside",
    "range",
    "value",
    "settings",
];

/// The English words found in `text` (empty when it reads as Dutch).
#[must_use]
pub fn english_words(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !c.is_alphabetic()) {
        let lower = word.to_lowercase();
        if let Some(hit) = ENGLISH_WORDS.iter().find(|w| **w == lower)
            && !found.contains(hit)
        {
            found.push(*hit);
        }
    }
    found
}

/// Panics naming the English words when `text` has any.
///
/// # Panics
/// When `text` contains a word of [`ENGLISH_WORDS`].
pub fn assert_dutch(text: &str) {
    let found = english_words(text);
    assert!(found.is_empty(), "English {found:?} in Dutch text: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_found_and_dutch_is_not() {
        assert_eq!(
            english_words("number has 31 characters; SnelStart's factuurnummer holds at most 25"),
            vec!["has", "characters", "holds", "most"]
        );
        assert!(
            english_words("De plaats is verplicht; het adres was leeg of over de grens.")
                .is_empty()
        );
        assert!(
            english_words("Wat te doen: vul die in bij Instellingen, door SnelStart").is_empty()
        );
    }
}
