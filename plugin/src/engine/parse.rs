//! Parsing one module source with the pre-scan in front (realm's thread).
//!
//! The scan (see [`super::source_scan`]) refuses source too deeply nested for the
//! parser's native stack, and gives a location to the parser errors Boa reports
//! without one (unterminated literals, a top-level name declared twice) and to a
//! module whose top-level `await` never settles.

use std::path::Path;

use boa_engine::{Context, Module, Source};

use super::error::ScriptError;
use super::source_scan::{MAX_NESTING, Position, Scan, scan};

/// Parses `text` as the module at `path`; errors carry `file:line:col`.
pub(crate) fn parse_module(text: &str, path: &Path, context: &mut Context) -> Result<Module, ScriptError> {
    let display = path.display().to_string();
    let scanned = scan(text);
    if let Some(at) = scanned.too_deep {
        return Err(ScriptError::new(
            "SyntaxError",
            format!("brackets nested deeper than {MAX_NESTING} levels (the parser's limit)"),
        )
        .or_at(&display, at.line, at.col));
    }
    let source = Source::from_bytes(text.as_bytes()).with_path(path);
    Module::parse(source, None, context)
        .map_err(|e| locate(ScriptError::from_js(&e, Some(&display), context), &scanned))
}

/// The error of a module whose evaluation is still pending after its microtasks ran.
pub(crate) fn never_settled(text: &str, display: &str) -> ScriptError {
    let awaits = scan(text).top_level_awaits;
    let message = match awaits.len() {
        0 => "module evaluation did not finish (a top-level await that never settles?)".to_owned(),
        1 => "module evaluation did not finish: this top-level await never settles".to_owned(),
        n => format!(
            "module evaluation did not finish: one of its {n} top-level awaits never settles (the first is here)"
        ),
    };
    let at = awaits.first().copied().unwrap_or(Position { line: 0, col: 0 });
    ScriptError::new("Error", message).or_at(display, at.line, at.col)
}

/// Gives a position to a parser error that has none (or Boa's placeholder 1:1).
fn locate(mut error: ScriptError, scanned: &Scan) -> ScriptError {
    if error.name != "SyntaxError" {
        return error;
    }
    let unplaced = error.lineno == 0 || (error.lineno, error.colno) == (1, 1);
    let found = if error.message.starts_with("unterminated string literal") {
        scanned.unterminated_string
    } else if error.message.starts_with("unterminated template literal") {
        scanned.unterminated_template
    } else if error.message.starts_with("abrupt end") {
        if scanned.unclosed.is_some() && unplaced {
            error.message = "unexpected end of the module: this bracket is never closed".to_owned();
        }
        scanned.unclosed
    } else if error.message.ends_with("declared multiple times") {
        declared_name(&error.message).and_then(|name| scanned.redeclaration(name))
    } else {
        None
    };
    if let Some(at) = found.filter(|_| unplaced) {
        error.lineno = at.line;
        error.colno = at.col;
    }
    error
}

/// `x` in "lexical name `x` declared multiple times".
fn declared_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ScriptError {
        let mut context = Context::default();
        parse_module(text, Path::new("m.js"), &mut context).err().expect("a parse error")
    }

    #[test]
    fn deep_brackets_are_refused_where_the_limit_is_crossed() {
        let text =
            format!("const x = 1;\nconst y = {}{};", "[".repeat(MAX_NESTING + 100), "]".repeat(MAX_NESTING + 100));
        let error = parse(&text);
        assert_eq!(error.name, "SyntaxError");
        assert_eq!((error.lineno, error.colno), (2, 11 + MAX_NESTING as u32));
        assert!(error.message.contains("nested deeper than 500"), "{error}");
    }

    #[test]
    fn unterminated_literals_point_at_their_start() {
        let error = parse("let a = 1;\nconst s = 'abc\nlet b = 2;");
        assert_eq!((error.filename.as_str(), error.lineno, error.colno), ("m.js", 2, 11), "{error}");
        let error = parse("let a = `ok`;\nconst t = `abc ${a}\nmore");
        assert_eq!((error.lineno, error.colno), (2, 11), "{error}");
    }

    #[test]
    fn a_top_level_redeclaration_points_at_the_second_declaration() {
        let error = parse("function f() {\n  let q = 0;\n}\nvar q = 1;\nlet q = 2;\n");
        assert!(error.message.contains("`q` declared multiple times"), "{error}");
        assert_eq!((error.lineno, error.colno), (5, 5), "{error}");
    }

    #[test]
    fn an_abrupt_end_points_at_the_bracket_left_open() {
        let error = parse("function f() {\n  if (x) {\n    return 1\n  }\n");
        assert_eq!((error.lineno, error.colno), (1, 14), "{error}");
        assert!(error.message.contains("never closed"), "{error}");
    }

    #[test]
    fn other_parser_errors_keep_their_own_position() {
        let error = parse("let a = 1;\nlet b = ;\n");
        assert_eq!(error.lineno, 2, "{error}");
    }

    #[test]
    fn a_pending_module_points_at_its_top_level_await() {
        let text = "async function f() { await g(); }\nconst x = 1;\n  await new Promise(() => {});\n";
        let error = never_settled(text, "m.js");
        assert_eq!((error.lineno, error.colno), (3, 3), "{error}");
        assert!(error.message.contains("this top-level await never settles"), "{error}");
    }
}
