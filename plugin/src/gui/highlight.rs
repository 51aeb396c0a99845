//! JavaScript syntax highlighting for the code editor (GUI thread).
//!
//! A small lexer that splits source text into coloured spans: comments, strings
//! and template literals, numbers, keywords, the AudioWorklet names a processor
//! uses, and everything else. It never fails: unterminated strings and comments
//! run to the end of their line or of the text, as an editor shows them while
//! they are being typed.

use std::ops::Range;

/// What a span of source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `// …` and `/* … */`.
    Comment,
    /// `'…'`, `"…"` and `` `…` ``.
    Str,
    /// `1`, `0.5`, `1e-3`, `0xff`, `10n`.
    Number,
    /// Reserved words and literals (`class`, `return`, `true`, …).
    Keyword,
    /// AudioWorklet names (`registerProcessor`, `sampleRate`, `process`, …).
    Builtin,
    /// Identifiers, operators and whitespace.
    Plain,
}

const KEYWORDS: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "get",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "null",
    "of",
    "return",
    "set",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "yield",
];

const BUILTINS: &[&str] = &[
    "AudioWorkletProcessor",
    "registerProcessor",
    "sampleRate",
    "currentFrame",
    "currentTime",
    "parameterDescriptors",
    "process",
    "port",
    "postMessage",
    "onmessage",
    "console",
    "Math",
    "Float32Array",
    "Float64Array",
    "MessageChannel",
];

/// Splits `text` into spans that cover it exactly, in order (byte ranges).
pub fn tokens(text: &str) -> Vec<(Range<usize>, Token)> {
    let bytes = text.as_bytes();
    let mut spans: Vec<(Range<usize>, Token)> = Vec::new();
    let mut push = |range: Range<usize>, token: Token| match spans.last_mut() {
        Some((last, kind)) if *kind == token && last.end == range.start => last.end = range.end,
        _ => spans.push((range, token)),
    };
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let token = if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            i = find_from(bytes, i, b"\n").unwrap_or(bytes.len());
            Token::Comment
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |end| end + 2);
            Token::Comment
        } else if matches!(c, b'\'' | b'"' | b'`') {
            i = string_end(bytes, i);
            Token::Str
        } else if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i = number_end(bytes, i);
            Token::Number
        } else if is_ident_start(c) {
            while i < bytes.len() && is_ident_part(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            if KEYWORDS.contains(&word) {
                Token::Keyword
            } else if BUILTINS.contains(&word) {
                Token::Builtin
            } else {
                Token::Plain
            }
        } else {
            // One character (whole, for non-ASCII text).
            i += text[i..].chars().next().map_or(1, char::len_utf8);
            Token::Plain
        };
        push(start..i, token);
    }
    spans
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The end of a string starting at `start`; a quote string ends at its line's
/// end if unterminated, a template literal at the end of the text.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if quote != b'`' => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        let exponent_sign = matches!(c, b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E') && !is_hex(bytes, start);
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn is_hex(bytes: &[u8], start: usize) -> bool {
    bytes[start] == b'0' && matches!(bytes.get(start + 1), Some(b'x' | b'X'))
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80
}

fn is_ident_part(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&str, Token)> {
        tokens(text).into_iter().map(|(range, token)| (&text[range], token)).collect()
    }

    #[test]
    fn a_processor_line_is_split_into_its_parts() {
        let text = "class Gain extends AudioWorkletProcessor { // unity\n  process() { return 1.5e-3; } }";
        let spans = kinds(text);
        assert!(spans.contains(&("class", Token::Keyword)));
        assert!(spans.contains(&("extends", Token::Keyword)));
        assert!(spans.contains(&("AudioWorkletProcessor", Token::Builtin)));
        assert!(spans.contains(&("// unity", Token::Comment)));
        assert!(spans.contains(&("process", Token::Builtin)));
        assert!(spans.contains(&("1.5e-3", Token::Number)));
        assert_eq!(spans.iter().map(|(s, _)| *s).collect::<String>(), text, "the spans cover the text exactly");
    }

    #[test]
    fn strings_comments_and_unfinished_input() {
        assert_eq!(kinds(r#"'a\'b' "c""#), [(r#"'a\'b'"#, Token::Str), (" ", Token::Plain), (r#""c""#, Token::Str)]);
        assert_eq!(kinds("`x\ny`"), [("`x\ny`", Token::Str)]);
        assert_eq!(kinds("'open\nnext"), [("'open", Token::Str), ("\nnext", Token::Plain)]);
        assert_eq!(kinds("/* never closed"), [("/* never closed", Token::Comment)]);
        assert_eq!(kinds("0xff+10n"), [("0xff", Token::Number), ("+", Token::Plain), ("10n", Token::Number)]);
        assert_eq!(kinds("é=1"), [("é=", Token::Plain), ("1", Token::Number)]);
    }
}
