//! Text made safe for where it goes: HTML (the one escaper of every crate that writes HTML)
//! and URLs in logs and error messages (the one redaction of secrets in a URL).

/// Escapes text for HTML content and double-quoted or single-quoted attribute values.
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// What stands for a hidden secret in a redacted URL.
const HIDDEN: &str = "***";

/// A URL fit for a log line or an error message: the password of the user part becomes
/// `***`, and so does the value of every query parameter whose key names a secret
/// (`password`, `pwd`, `pass`, `secret`, `token`, `key`, case-insensitive, also as part of a
/// longer key such as `sslpassword`). The user name, host, port, path and the other query
/// parameters stay, so that the line still says where it went. Text that is not a URL
/// becomes `<not a URL>` (it may be a secret itself).
#[must_use]
pub fn redact_url(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text.trim()) else {
        return String::from("<not a URL>");
    };
    if url.password().is_some() {
        // Fails only for URLs that cannot have a user part, which have no password either.
        let _ = url.set_password(Some(HIDDEN));
    }
    if url.query_pairs().any(|(key, _)| names_a_secret(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if names_a_secret(&key) {
                    HIDDEN.to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Whether a query key names a secret.
fn names_a_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key"]
        .iter()
        .any(|word| key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x" title='y'>Tom & Jerry</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;"
        );
        assert_eq!(escape_html("Ünïcode blijft"), "Ünïcode blijft");
    }

    #[test]
    fn passwords_in_the_user_part_are_hidden_and_the_user_name_stays() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example.nl:5432/koppeling"),
            "postgres://app:***@db.example.nl:5432/koppeling"
        );
        assert_eq!(
            redact_url("smtp://mailer:pw@mail:25"),
            "smtp://mailer:***@mail:25"
        );
        assert_eq!(
            redact_url("smtps://bea:geh%40im@mail.example.nl:465?tls=required"),
            "smtps://bea:***@mail.example.nl:465?tls=required"
        );
    }

    #[test]
    fn user_info_without_a_password_is_kept() {
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }

    #[test]
    fn secret_query_values_are_hidden_and_other_keys_stay() {
        assert_eq!(
            redact_url("postgres://db/k?user=app&password=s3cret"),
            "postgres://db/k?user=app&password=***"
        );
        assert_eq!(
            redact_url("postgres://db/k?sslpassword=a&API_Token=b&sslmode=require"),
            "postgres://db/k?sslpassword=***&API_Token=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://koppeling.db?mode=rwc"),
            "sqlite://koppeling.db?mode=rwc"
        );
    }

    #[test]
    fn text_that_is_not_a_url_is_not_repeated() {
        assert_eq!(redact_url("geheim"), "<not a URL>");
        assert_eq!(redact_url(""), "<not a URL>");
    }
}
