//! The filter language's tokenizer: source text to tokens with their columns.

use super::{FilterError, err};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `=~`, `!~`.
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Not,
    In,
    True,
    False,
    Null,
    End,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// 1-based character column of its first character.
    pub(super) col: usize,
    /// The source text, for messages.
    pub(super) text: String,
}

pub(super) fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

pub(super) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let start = i;
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return err(
                                format!("unterminated string: missing the closing {c}"),
                                col,
                            );
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                // Anything else escaped stands for itself (\" \' \\), but a regex
                                // escape such as \d or \. keeps its backslash.
                                Some(&e) if e == c || e == '\\' => s.push(e),
                                Some(&e) => {
                                    s.push('\\');
                                    s.push(e);
                                }
                                None => {
                                    return err(
                                        format!("unterminated string: missing the closing {c}"),
                                        col,
                                    );
                                }
                            }
                            i += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            '`' => {
                let Some(len) = chars[i + 1..].iter().position(|&ch| ch == '`') else {
                    return err("unterminated field name: missing the closing `", col);
                };
                let name = text(i + 1, i + 1 + len);
                i += len + 2;
                Tok::Ident(name)
            }
            '=' => {
                i += 1;
                match next {
                    Some('=') => {
                        i += 1;
                        Tok::Op("==")
                    }
                    Some('~') => {
                        i += 1;
                        Tok::Op("=~")
                    }
                    _ => Tok::Op("=="),
                }
            }
            '!' => {
                i += 1;
                match next {
                    Some('=') => {
                        i += 1;
                        Tok::Op("!=")
                    }
                    Some('~') => {
                        i += 1;
                        Tok::Op("!~")
                    }
                    _ => Tok::Not,
                }
            }
            '<' | '>' => {
                i += 1;
                if next == Some('=') {
                    i += 1;
                    Tok::Op(if c == '<' { "<=" } else { ">=" })
                } else {
                    Tok::Op(if c == '<' { "<" } else { ">" })
                }
            }
            '&' if next == Some('&') => {
                i += 2;
                Tok::And
            }
            '|' if next == Some('|') => {
                i += 2;
                Tok::Or
            }
            c if c.is_ascii_digit()
                || (c == '.' && next.is_some_and(|n| n.is_ascii_digit()))
                || (matches!(c, '-' | '+')
                    && next.is_some_and(|n| n.is_ascii_digit() || n == '.')) =>
            {
                i += 1;
                while i < chars.len() {
                    let ch = chars[i];
                    let exp_sign = matches!(ch, '+' | '-') && matches!(chars[i - 1], 'e' | 'E');
                    if ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '_') || exp_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let lit = text(start, i).replace('_', "");
                if let Some(&ch) = chars.get(i)
                    && is_ident_char(ch)
                {
                    return err(format!("unexpected '{ch}' after the number {lit}"), i + 1);
                }
                match lit.parse::<f64>() {
                    Ok(x) => Tok::Num(x),
                    Err(_) => return err(format!("'{lit}' is not a number"), col),
                }
            }
            c if is_ident_start(c) => {
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word = text(start, i);
                match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" | "none" => Tok::Null,
                    "nan" => Tok::Num(f64::NAN),
                    "inf" | "infinity" => Tok::Num(f64::INFINITY),
                    _ => Tok::Ident(word),
                }
            }
            '&' | '|' => {
                let word = if c == '&' { "and" } else { "or" };
                return err(format!("unexpected character '{c}' (write '{word}')"), col);
            }
            other => return err(format!("unexpected character '{other}'"), col),
        };
        out.push(Token {
            tok,
            col,
            text: text(start, i),
        });
    }
    out.push(Token {
        tok: Tok::End,
        col: chars.len() + 1,
        text: String::new(),
    });
    Ok(out)
}
