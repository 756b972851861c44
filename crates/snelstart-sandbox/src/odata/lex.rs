//! The lexer of `$filter` text.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Typed(String, String),
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Eof,
}

pub(super) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let quoted = |i: &mut usize| -> Result<String, String> {
        // at opening quote
        let start = *i;
        *i += 1;
        let mut s = String::new();
        loop {
            match chars.get(*i) {
                None => {
                    return Err(format!(
                        "There is an unterminated string literal at position {start} in '{src}'."
                    ));
                }
                Some('\'') if chars.get(*i + 1) == Some(&'\'') => {
                    s.push('\'');
                    *i += 2;
                }
                Some('\'') => {
                    *i += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(*c);
                    *i += 1;
                }
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' | ':' | '/' => {
                out.push((
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        ':' => Tok::Colon,
                        _ => Tok::Slash,
                    },
                    pos,
                ));
                i += 1;
            }
            '\'' => {
                let s = quoted(&mut i)?;
                out.push((Tok::Str(s), pos));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut s = String::from(c);
                i += 1;
                while let Some(&d) = chars.get(i) {
                    let exp_sign =
                        (d == '-' || d == '+') && matches!(s.chars().last(), Some('e' | 'E'));
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                        s.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if let Some(&d) = chars.get(i)
                    && matches!(d, 'm' | 'M' | 'd' | 'D' | 'f' | 'F' | 'l' | 'L')
                {
                    s.push(d);
                    i += 1;
                }
                out.push((Tok::Num(s), pos));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let mut s = String::new();
                while let Some(&d) = chars.get(i) {
                    if d.is_alphanumeric() || d == '_' || d == '.' || d == '$' {
                        s.push(d);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if chars.get(i) == Some(&'\'') {
                    let content = quoted(&mut i)?;
                    out.push((Tok::Typed(s, content), pos));
                } else {
                    out.push((Tok::Ident(s), pos));
                }
            }
            other => {
                return Err(format!(
                    "Syntax error: character '{other}' is not valid at position {pos} in '{src}'."
                ));
            }
        }
    }
    out.push((Tok::Eof, chars.len()));
    Ok(out)
}
