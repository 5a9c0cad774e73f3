//! Lexer: scenario text to tokens.
//!
//! The lexer never fails: a malformed piece of input (a stray character, a bad
//! number) is reported as a [`Diag`] and becomes a [`TokKind::Error`] token, which
//! tells the parser "already reported, recover quietly" so one typo does not
//! cascade into several messages. An unterminated string is reported and still
//! yields a [`TokKind::Str`] (its text up to the end of the line), which lets the
//! parser go on normally.
//!
//! Comments (`#` to end of line) are dropped; newlines are tokens, because they
//! separate statements. Every token records whether whitespace (or a comment, or
//! the start of the file) came right before it: the parser needs that to tell
//! `key=value` (no space before `=`) from the assignment in `store m[0] = 0x11`.

use crate::ast::Span;
use crate::diag::Diag;

/// The lexer stops recording diagnostics after this many (it keeps lexing so the
/// parser still gets a complete token stream); the parser caps the total anyway.
const MAX_LEX_DIAGS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// `[A-Za-z_][A-Za-z0-9_-]*`; the text is the source slice of the span.
    Ident,
    /// Decimal or `0x` hex, fits in a `u64`.
    Number(u64),
    /// A string literal, escapes resolved, quotes removed.
    Str(String),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `;`
    Semi,
    /// `\n`
    Newline,
    /// Malformed input the lexer has already reported.
    Error,
    /// End of input (always the last token, with an empty span at the end).
    Eof,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub span: Span,
    /// Whitespace, a comment, or the start of input comes right before this token.
    pub spaced: bool,
}

impl Token {
    /// The token's source text.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.span.range()).unwrap_or("")
    }

    /// How the token is named in "expected X, found Y" messages.
    pub fn describe(&self, source: &str) -> String {
        match &self.kind {
            TokKind::Ident | TokKind::Number(_) => format!("`{}`", self.text(source)),
            TokKind::Str(_) => "a string".to_string(),
            TokKind::Newline => "end of line".to_string(),
            TokKind::Eof => "end of file".to_string(),
            TokKind::Error => "invalid input".to_string(),
            _ => format!("`{}`", self.text(source)),
        }
    }
}

pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub diags: Vec<Diag>,
}

/// Split `text` into tokens. The result always ends with exactly one `Eof`.
pub(crate) fn lex(text: &str) -> Lexed {
    Lexer { text, bytes: text.as_bytes(), pos: 0, spaced: true, tokens: Vec::new(), diags: Vec::new() }.run()
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the next unread byte; always on a char boundary.
    pos: usize,
    spaced: bool,
    tokens: Vec<Token>,
    diags: Vec<Diag>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether a char can be shown as itself in a message. Others (spaces, controls,
/// zero-width and other format chars) are shown by code point.
fn visible(c: char) -> bool {
    c.is_ascii_graphic() || (!c.is_ascii() && c.is_alphanumeric())
}

/// A char as shown in a message: itself if visible, else its code point.
fn show_char(c: char) -> String {
    if visible(c) {
        format!("`{c}`")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

impl Lexer<'_> {
    fn run(mut self) -> Lexed {
        // A byte-order mark some editors put at the start of a file is not content.
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let b = self.bytes[start];
            let next = self.bytes.get(start + 1).copied();
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.push(TokKind::Newline, start);
                    self.spaced = true;
                }
                b' ' | b'\t' | b'\r' | 0x0c => {
                    self.pos += 1;
                    self.spaced = true;
                }
                b'#' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                    self.spaced = true;
                }
                b'{' => self.single(TokKind::LBrace),
                b'}' => self.single(TokKind::RBrace),
                b'(' => self.single(TokKind::LParen),
                b')' => self.single(TokKind::RParen),
                b'[' => self.single(TokKind::LBracket),
                b']' => self.single(TokKind::RBracket),
                b';' => self.single(TokKind::Semi),
                b'=' if next == Some(b'=') => self.double(TokKind::EqEq),
                b'=' => self.single(TokKind::Eq),
                b'!' if next == Some(b'=') => self.double(TokKind::NotEq),
                b'.' if next == Some(b'.') => self.double(TokKind::DotDot),
                b'.' => self.single(TokKind::Dot),
                b'"' => self.string(),
                b'0'..=b'9' => self.number(),
                _ if is_ident_start(b) => self.word(),
                _ if self.text[start..].chars().next().is_some_and(char::is_alphanumeric) => self.word(),
                _ => self.unexpected(),
            }
        }
        let end = self.bytes.len();
        self.tokens.push(Token { kind: TokKind::Eof, span: Span::new(end, end), spaced: true });
        Lexed { tokens: self.tokens, diags: self.diags }
    }

    fn push(&mut self, kind: TokKind, start: usize) {
        self.tokens.push(Token { kind, span: Span::new(start, self.pos), spaced: self.spaced });
        self.spaced = false;
    }

    fn single(&mut self, kind: TokKind) {
        let start = self.pos;
        self.pos += 1;
        self.push(kind, start);
    }

    fn double(&mut self, kind: TokKind) {
        let start = self.pos;
        self.pos += 2;
        self.push(kind, start);
    }

    fn report(&mut self, diag: Diag) {
        if self.diags.len() < MAX_LEX_DIAGS {
            self.diags.push(diag);
        }
    }

    /// An identifier. A word with non-ASCII letters in it (`café`) is taken whole
    /// and reported once, rather than as an identifier followed by junk.
    fn word(&mut self) {
        let start = self.pos;
        for c in self.text[start..].chars() {
            let continues = if c.is_ascii() { is_ident_continue(c as u8) } else { c.is_alphanumeric() };
            if !continues {
                break;
            }
            self.pos += c.len_utf8();
        }
        let word = &self.text[start..self.pos];
        if word.is_ascii() {
            self.push(TokKind::Ident, start);
        } else {
            self.report(
                Diag::new(Span::new(start, self.pos), format!("invalid name `{word}`"))
                    .label("non-ASCII letter")
                    .help("names use only ASCII letters, digits, `_` and `-`"),
            );
            self.push(TokKind::Error, start);
        }
    }

    /// A string literal. Strings do not span lines; `\"` and `\\` are the only escapes.
    fn string(&mut self) {
        let start = self.pos;
        let mut value = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        loop {
            let Some((off, c)) = chars.next() else {
                self.pos = self.bytes.len();
                return self.unterminated(start, value);
            };
            let at = start + 1 + off;
            match c {
                '"' => {
                    self.pos = at + 1;
                    self.push(TokKind::Str(value), start);
                    return;
                }
                '\n' => {
                    self.pos = at;
                    return self.unterminated(start, value);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => value.push(e),
                    // A backslash right before the end of the line or of the input:
                    // the string is unterminated; leave the newline to be a token.
                    Some((_, '\n')) | None => {
                        self.pos = if at + 1 < self.bytes.len() { at + 1 } else { self.bytes.len() };
                        return self.unterminated(start, value);
                    }
                    Some((off2, e)) => {
                        let end = start + 1 + off2 + e.len_utf8();
                        let shown = if visible(e) {
                            format!("`\\{e}`")
                        } else {
                            format!("backslash followed by {}", show_char(e))
                        };
                        self.report(
                            Diag::new(Span::new(at, end), format!("unknown escape {shown} in string"))
                                .label("unknown escape")
                                .help("the only escapes are `\\\"` and `\\\\`"),
                        );
                        value.push(e);
                    }
                },
                c => value.push(c),
            }
        }
    }

    fn unterminated(&mut self, start: usize, value: String) {
        // Exclude a `\r` before the newline from the span.
        let mut end = self.pos;
        while end > start + 1 && self.bytes[end - 1] == b'\r' {
            end -= 1;
        }
        self.report(
            Diag::new(Span::new(start, end), "unterminated string")
                .label("string starts here")
                .help("close the string with `\"` before the end of the line"),
        );
        self.push(TokKind::Str(value), start);
    }

    /// A number: the whole run of letters, digits and `_` starting at a digit, so
    /// that `12ab` is one bad number rather than `12` followed by `ab`.
    fn number(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        let span = Span::new(start, self.pos);
        let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => (hex, 16),
            None => (text, 10),
        };
        let problem = if digits.is_empty() {
            Some(
                Diag::new(span, format!("hex number `{text}` has no digits"))
                    .help("write hex digits after `0x`, as in `0xAA`"),
            )
        } else if !digits.chars().all(|c| c.is_digit(radix)) {
            let mut d = Diag::new(span, format!("invalid number `{text}`"));
            if radix == 16 {
                d = d.help("hex digits are 0-9 and a-f");
            } else if digits.chars().all(|c| c.is_ascii_hexdigit()) {
                d = d.help(format!("hex numbers start with `0x`, as in `0x{digits}`"));
            } else {
                d = d.help("numbers are decimal (`64`) or hex (`0x40`); names cannot start with a digit");
            }
            Some(d)
        } else {
            match u64::from_str_radix(digits, radix) {
                Ok(value) => {
                    self.push(TokKind::Number(value), start);
                    None
                }
                Err(_) => Some(
                    Diag::new(span, format!("number `{text}` does not fit in 64 bits"))
                        .help("the largest number is 0xffffffffffffffff (18446744073709551615)"),
                ),
            }
        };
        if let Some(d) = problem {
            self.report(d.label("bad number"));
            self.push(TokKind::Error, start);
        }
    }

    /// A run of characters that start no token, reported once as a whole.
    fn unexpected(&mut self) {
        let start = self.pos;
        let first = self.text[start..].chars().next().unwrap_or('\u{fffd}');
        // Always consume the first char, so the lexer makes progress whatever it is.
        self.pos += first.len_utf8();
        for c in self.text[self.pos..].chars() {
            let starts_token = c.is_alphanumeric()
                || c.is_ascii()
                    && (c.is_ascii_alphanumeric()
                    || c.is_ascii_whitespace()
                    || "_#{}()[];=.\"".contains(c)
                    // `!=` starts a token, a lone `!` does not.
                    || (c == '!' && self.text[self.pos..].starts_with("!=")));
            if starts_token {
                break;
            }
            self.pos += c.len_utf8();
        }
        let run = &self.text[start..self.pos];
        let message = if run.chars().count() == 1 {
            format!("unexpected character {}", show_char(first))
        } else {
            let shown: String = run
                .chars()
                .map(|c| if visible(c) { c.into() } else { c.escape_unicode().to_string() })
                .collect();
            format!("unexpected characters `{shown}`")
        };
        let mut d = Diag::new(Span::new(start, self.pos), message).label("not part of the language");
        d = match run {
            "!" => d.help("write `not C` to negate a condition, or `!=` to compare"),
            "&&" | "&" => d.help("write `and` to combine conditions"),
            "||" | "|" => d.help("write `or` to combine conditions"),
            "-" => d.help("`-` may appear inside a name (`seed-rdma`), not at its start"),
            _ if first.is_whitespace() => d.help("only ASCII spaces and tabs separate words"),
            _ => d,
        };
        self.report(d);
        self.push(TokKind::Error, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokKind> {
        lex(text).tokens.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn punctuation_and_spacing() {
        let l = lex("a=b c = 0x1f..2 # note\n!= == .;");
        let k: Vec<_> = l.tokens.iter().map(|t| (t.kind.clone(), t.spaced)).collect();
        assert_eq!(
            k,
            vec![
                (TokKind::Ident, true),
                (TokKind::Eq, false),
                (TokKind::Ident, false),
                (TokKind::Ident, true),
                (TokKind::Eq, true),
                (TokKind::Number(0x1f), true),
                (TokKind::DotDot, false),
                (TokKind::Number(2), false),
                (TokKind::Newline, true),
                (TokKind::NotEq, true),
                (TokKind::EqEq, true),
                (TokKind::Dot, true),
                (TokKind::Semi, false),
                (TokKind::Eof, true),
            ]
        );
        assert!(l.diags.is_empty());
    }

    #[test]
    fn identifiers_with_dashes() {
        let l = lex("seed-rdma-writeback _x9");
        assert_eq!(l.tokens[0].text("seed-rdma-writeback _x9"), "seed-rdma-writeback");
        assert_eq!(l.tokens[1].text("seed-rdma-writeback _x9"), "_x9");
    }

    #[test]
    fn strings() {
        assert_eq!(kinds(r#""a \"q\" \\ é""#), vec![TokKind::Str("a \"q\" \\ é".into()), TokKind::Eof]);
        let l = lex("\"abc\nx");
        assert_eq!(l.diags.len(), 1);
        assert_eq!(l.diags[0].message, "unterminated string");
        assert_eq!(l.diags[0].span, Span::new(0, 4));
        assert_eq!(l.tokens[1].kind, TokKind::Newline);
        let l = lex("\"a\\n\"");
        assert_eq!(l.diags[0].message, "unknown escape `\\n` in string");
        for t in ["\"", "\"\\", "\"\\\n", "\"é\\"] {
            let l = lex(t);
            assert_eq!(l.diags.len(), 1, "{t:?}");
            assert_eq!(l.tokens.last().map(|t| &t.kind), Some(&TokKind::Eof));
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 42 0xAA 0XfF"),
            vec![
                TokKind::Number(0),
                TokKind::Number(42),
                TokKind::Number(0xaa),
                TokKind::Number(0xff),
                TokKind::Eof
            ]
        );
        assert_eq!(kinds("18446744073709551615")[0], TokKind::Number(u64::MAX));
        for (t, msg) in [
            ("18446744073709551616", "number `18446744073709551616` does not fit in 64 bits"),
            ("0x1ffffffffffffffff", "number `0x1ffffffffffffffff` does not fit in 64 bits"),
            ("0x", "hex number `0x` has no digits"),
            ("0xZZ", "invalid number `0xZZ`"),
            ("12ab", "invalid number `12ab`"),
        ] {
            let l = lex(t);
            assert_eq!(l.diags.len(), 1, "{t}");
            assert_eq!(l.diags[0].message, msg);
            assert_eq!(l.tokens[0].kind, TokKind::Error);
        }
    }

    #[test]
    fn unexpected_characters() {
        let l = lex("a @@ b ! é\u{a0}\u{a0}→ café-x y");
        let msgs: Vec<_> = l.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "unexpected characters `@@`",
                "unexpected character `!`",
                "invalid name `é`",
                "unexpected characters `\\u{a0}\\u{a0}\\u{2192}`",
                "invalid name `café-x`",
            ]
        );
        assert_eq!(l.diags[3].span, Span::new(11, 18));
        assert_eq!(l.tokens.iter().filter(|t| t.kind == TokKind::Ident).count(), 3);
        assert_eq!(lex("\u{a0}").diags[0].message, "unexpected character U+00A0");
    }
}
