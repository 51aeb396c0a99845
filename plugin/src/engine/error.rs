//! Script errors with their source location (runs on the thread that owns the realm).
//!
//! Boa reports positions in two places: parser errors carry `at line L, col C` in
//! their message, and runtime errors carry a backtrace whose frames print as
//! `    at name (path:line:col)`. [`ScriptError::from_js`] turns either into a
//! `file:line:col` triple, skipping the realm's own prelude frames so that the
//! location always points into user code.

use std::fmt;

use boa_engine::{Context, JsError, JsValue, js_string};

/// Path prefix of the realm's internal scripts; their frames are never reported.
pub const INTERNAL_PATH_PREFIX: &str = "worklet:";

/// An error raised by script code, located in the user's source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScriptError {
    /// The error's name: `SyntaxError`, `TypeError`, `NotSupportedError`, ...
    pub name: String,
    /// The error's message, without the location.
    pub message: String,
    /// The module path as it was given (or resolved for imports); empty if unknown.
    pub filename: String,
    /// 1-based line, 0 if unknown.
    pub lineno: u32,
    /// 1-based column, 0 if unknown.
    pub colno: u32,
}

impl ScriptError {
    /// An error raised by the engine itself rather than by script code.
    pub fn new(name: &str, message: impl Into<String>) -> Self {
        Self { name: name.to_owned(), message: message.into(), filename: String::new(), lineno: 0, colno: 0 }
    }

    /// Sets the location unless one is already known.
    #[must_use]
    pub fn or_at(mut self, filename: &str, lineno: u32, colno: u32) -> Self {
        if self.filename.is_empty() {
            self.filename = filename.to_owned();
            self.lineno = lineno;
            self.colno = colno;
        }
        self
    }

    /// Extracts name, message and location from a thrown value.
    ///
    /// `fallback_file` is used for parser errors, which name a line and column but
    /// not the file they were found in.
    pub fn from_js(error: &JsError, fallback_file: Option<&str>, context: &mut Context) -> Self {
        let rendered = error.to_string();
        let (name, message) = name_and_message(error, context);
        if let Some((filename, lineno, colno)) = first_user_frame(&rendered) {
            return Self { name, message, filename, lineno, colno };
        }
        if let Some((lineno, colno)) = parser_position(&message) {
            let message = strip_parser_position(&message);
            return Self { name, message, filename: fallback_file.unwrap_or_default().to_owned(), lineno, colno };
        }
        if let Some(stack) = stack_of(error, context)
            && let Some((filename, lineno, colno)) = first_user_frame(&stack)
        {
            return Self { name, message, filename, lineno, colno };
        }
        Self { name, message, filename: fallback_file.unwrap_or_default().to_owned(), lineno: 0, colno: 0 }
    }

    /// `FILE:LINE:COL`, or just the file (or nothing) when the position is unknown.
    pub fn location(&self) -> String {
        match (self.filename.is_empty(), self.lineno) {
            (true, _) => String::new(),
            (false, 0) => self.filename.clone(),
            (false, _) => format!("{}:{}:{}", self.filename, self.lineno, self.colno),
        }
    }
}

impl fmt::Display for ScriptError {
    /// `FILE:LINE:COL: Name: message`, the format of the CLI's stderr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.location();
        if location.is_empty() {
            write!(f, "{}: {}", self.name, self.message)
        } else {
            write!(f, "{location}: {}: {}", self.name, self.message)
        }
    }
}

impl std::error::Error for ScriptError {}

fn name_and_message(error: &JsError, context: &mut Context) -> (String, String) {
    if let Some(native) = error.as_native() {
        let name = native_kind_name(&native.kind().to_string());
        return (name, runaway_message(native.message()));
    }
    if let Some(engine) = error.as_engine() {
        return ("RangeError".to_owned(), runaway_message(&engine.to_string()));
    }
    let Some(value) = error.as_opaque() else {
        return ("Error".to_owned(), error.to_string());
    };
    match value.as_object() {
        Some(object) => {
            let name = read_string(&object.get(js_string!("name"), context).unwrap_or_default(), context);
            let message = read_string(&object.get(js_string!("message"), context).unwrap_or_default(), context);
            if name.is_empty() && message.is_empty() {
                ("Error".to_owned(), value.display().to_string())
            } else {
                (if name.is_empty() { "Error".to_owned() } else { name }, message)
            }
        }
        None => {
            let text = value.as_string().map_or_else(|| value.display().to_string(), |s| s.to_std_string_escaped());
            ("Error".to_owned(), text)
        }
    }
}

/// How Boa words a stop asked for through the realm's interrupt handle.
const INTERRUPTED: &str = "RuntimeLimitError: the execution was interrupted";
/// The message of the error a watchdog's interrupt throws where the script was
/// (see [`crate::engine::RealmConfig::interrupt`]).
pub const WATCHDOG_STOPPED: &str = "the watchdog stopped the script: it ran past the engine's deadline";

/// Where a watchdog's interrupt stopped a message handler or a microtask, from
/// the console line its uncaught error makes (`Uncaught RangeError: the watchdog
/// stopped the script: … (FILE:LINE:COL)`); `None` for any other line.
pub fn watchdog_stop_in_console(text: &str) -> Option<&str> {
    let (uncaught, rest) = text.split_once(WATCHDOG_STOPPED)?;
    uncaught.starts_with("Uncaught ").then_some(())?;
    rest.strip_prefix(" (")?.strip_suffix(')')
}

/// Boa's runtime-limit errors, worded for processor authors. The engine's own
/// uncatchable errors (wasm past its deadline) carry their wording already.
fn runaway_message(message: &str) -> String {
    if message == INTERRUPTED {
        WATCHDOG_STOPPED.to_owned()
    } else if let Some(rest) = message.strip_prefix("RuntimeLimitError: ") {
        format!("{rest} (runaway guard: the script was stopped)")
    } else if let Some(rest) = message.strip_prefix("EnginePanic: ") {
        rest.to_owned()
    } else {
        message.to_owned()
    }
}

/// Boa names native error kinds like `TypeError`; runtime limits come out as `RuntimeLimit`.
fn native_kind_name(kind: &str) -> String {
    if kind.ends_with("Error") { kind.to_owned() } else { "RangeError".to_owned() }
}

fn read_string(value: &JsValue, context: &mut Context) -> String {
    if value.is_undefined() || value.is_null() {
        return String::new();
    }
    value.to_string(context).map(|s| s.to_std_string_escaped()).unwrap_or_default()
}

fn stack_of(error: &JsError, context: &mut Context) -> Option<String> {
    let object = error.as_opaque()?.as_object()?;
    let stack = object.get(js_string!("stack"), context).ok()?;
    stack.as_string().map(|s| s.to_std_string_escaped())
}

/// The innermost backtrace frame that lies in user code: `(path, line, col)`.
pub fn first_user_frame(rendered: &str) -> Option<(String, u32, u32)> {
    rendered.lines().filter_map(|line| line.trim_start().strip_prefix("at ")).find_map(|frame| {
        let open = frame.find(" (")?;
        let inner = frame[open + 2..].strip_suffix(')')?;
        let mut parts = inner.rsplitn(3, ':');
        // Boa prints `?` when it has no position for the frame.
        let number = |part: &str| if part == "?" { Some(0) } else { part.parse().ok() };
        let colno = number(parts.next()?)?;
        let lineno = number(parts.next()?)?;
        let path = parts.next()?;
        let internal = path.starts_with(INTERNAL_PATH_PREFIX) || path.starts_with("native") || path.contains(" at ");
        (!internal).then(|| (path.to_owned(), lineno, colno))
    })
}

/// `... at line L, col C` in a parser message.
fn parser_position(message: &str) -> Option<(u32, u32)> {
    let at = message.rfind(" at line ")?;
    let rest = &message[at + " at line ".len()..];
    let (line, rest) = rest.split_once(", col ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, col.parse().ok()?))
}

fn strip_parser_position(message: &str) -> String {
    message.rfind(" at line ").map_or(message, |at| &message[..at]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_innermost_user_frame() {
        let rendered = "Error: boom\n    at inner (worklet:scope.js:10:5)\n    at process (proc/a.js:12:9)\n    at <main> (proc/b.js:1:1)";
        assert_eq!(first_user_frame(rendered), Some(("proc/a.js".to_owned(), 12, 9)));
    }

    #[test]
    fn paths_with_parentheses_and_colons_survive() {
        let rendered = "    at process (/home/me/My (copy):x/a.js:3:14)";
        assert_eq!(first_user_frame(rendered), Some(("/home/me/My (copy):x/a.js".to_owned(), 3, 14)));
    }

    #[test]
    fn frames_without_a_position_keep_their_file() {
        assert_eq!(first_user_frame("    at <main> (m.js:?:?)"), Some(("m.js".to_owned(), 0, 0)));
    }

    #[test]
    fn native_frames_are_skipped() {
        assert_eq!(first_user_frame("    at construct (native)\n    at f (a.js:2:3)"), Some(("a.js".to_owned(), 2, 3)));
    }

    #[test]
    fn parser_positions_are_read_and_stripped() {
        let message = "expected token ';', got 'x' in expression statement at line 3, col 7";
        assert_eq!(parser_position(message), Some((3, 7)));
        assert_eq!(strip_parser_position(message), "expected token ';', got 'x' in expression statement");
    }

    #[test]
    fn display_is_file_line_col_name_message() {
        let error = ScriptError::new("SyntaxError", "bad").or_at("a.js", 2, 5);
        assert_eq!(error.to_string(), "a.js:2:5: SyntaxError: bad");
        assert_eq!(ScriptError::new("Error", "x").to_string(), "Error: x");
    }

    #[test]
    fn a_watchdog_stop_is_found_in_its_console_line_only() {
        let located = ScriptError {
            filename: "main.js".into(),
            lineno: 3,
            colno: 9,
            ..ScriptError::new("RangeError", WATCHDOG_STOPPED)
        };
        let line = crate::engine::realm::uncaught_text(&located);
        assert_eq!(watchdog_stop_in_console(&line), Some("main.js:3:9"), "{line}");
        assert_eq!(watchdog_stop_in_console("Uncaught RangeError: reached the maximum (main.js:1:1)"), None);
        assert_eq!(watchdog_stop_in_console(&format!("console.log said {WATCHDOG_STOPPED} (x.js:1:1)")), None);
    }
}
