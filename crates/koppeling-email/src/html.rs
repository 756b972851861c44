//! The HTML alternative of a plain-text mail: escaped text, line breaks kept, and only the
//! service's own links clickable (a URL from data, such as a relation named
//! `http://evil.example`, stays plain escaped text).

use koppeling_domain::text::escape_html;

/// Renders `text` as a small HTML document; URLs under `link_base` become links.
pub(crate) fn render(text: &str, link_base: &str) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"nl\">\n<head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: sans-serif;\">\n",
    );
    for line in text.lines() {
        // Keep the indentation of the item lines ("  Reden: …") without relying on CSS.
        let indent = line.len() - line.trim_start_matches(' ').len();
        out.push_str(&"&nbsp;".repeat(indent));
        out.push_str(&linkify(&line[indent..], link_base));
        out.push_str("<br>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// Whether `url` is the service's own: `base` itself or a path, query or fragment under it
/// (`http://host:8360.evil.example` is not under `http://host:8360`).
fn is_own(url: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    if base.is_empty() {
        return false;
    }
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
}

/// Escapes `line` and wraps each `http://` or `https://` URL under `link_base` in a link.
fn linkify(line: &str, link_base: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = find_url(rest) {
        out.push_str(&escape_html(&rest[..start]));
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        // Punctuation that ends a sentence is not part of the URL.
        // find_url guarantees a host character after "://", so the scheme is never eaten.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
        let url_escaped = escape_html(url);
        if is_own(url, link_base) {
            out.push_str(&format!("<a href=\"{url_escaped}\">{url_escaped}</a>"));
        } else {
            out.push_str(&url_escaped);
        }
        rest = &tail[url.len()..];
    }
    out.push_str(&escape_html(rest));
    out
}

/// The byte offset of the next URL that starts a word (or follows an opening bracket or quote)
/// and has a host.
fn find_url(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("http") {
        let at = from + found;
        let tail = &text[at..];
        let preceded_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '<' | '"' | '\'' | '['));
        let after_scheme = tail
            .strip_prefix("http://")
            .or_else(|| tail.strip_prefix("https://"));
        let has_host = after_scheme
            .and_then(|host| host.chars().next())
            .is_some_and(|c| c.is_alphanumeric() || c == '[');
        if preceded_ok && has_host {
            return Some(at);
        }
        from = at + "http".len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            linkify("Reden: <b>\"Smit & Zn\"</b>", "http://ui"),
            "Reden: &lt;b&gt;&quot;Smit &amp; Zn&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn links_are_clickable_without_trailing_punctuation() {
        assert_eq!(
            linkify("Bekijk: http://ui/facturen/inv-1.", "http://ui"),
            "Bekijk: <a href=\"http://ui/facturen/inv-1\">http://ui/facturen/inv-1</a>."
        );
        assert_eq!(
            linkify("(zie https://x.nl/a?b=1&c=2)", "https://x.nl/"),
            "(zie <a href=\"https://x.nl/a?b=1&amp;c=2\">https://x.nl/a?b=1&amp;c=2</a>)"
        );
    }

    #[test]
    fn http_inside_a_word_is_no_link() {
        assert_eq!(linkify("xhttp://a b", "http://a"), "xhttp://a b");
        assert_eq!(linkify("http:// los", "http://"), "http:// los");
    }

    #[test]
    fn indentation_and_line_breaks_are_kept() {
        let html = render("* Factuur é\n  Reden: fout\n", "http://ui");
        assert!(
            html.contains("* Factuur é<br>\n&nbsp;&nbsp;Reden: fout<br>\n"),
            "{html}"
        );
    }

    #[test]
    fn only_the_services_own_links_are_clickable() {
        let base = "http://127.0.0.1:8360/";
        assert_eq!(
            linkify(
                "Relatie http://evil.example/x en http://127.0.0.1:8360.evil.example/",
                base
            ),
            "Relatie http://evil.example/x en http://127.0.0.1:8360.evil.example/"
        );
        assert_eq!(
            linkify("Bekijk: http://127.0.0.1:8360/facturen/inv-1", base),
            "Bekijk: <a href=\"http://127.0.0.1:8360/facturen/inv-1\">http://127.0.0.1:8360/facturen/inv-1</a>"
        );
        assert_eq!(
            linkify("<a href=\"http://evil.example\">klik</a>", base),
            "&lt;a href=&quot;http://evil.example&quot;&gt;klik&lt;/a&gt;"
        );
        assert!(!render("http://ui/x", "").contains("<a "));
    }
}
