//! A lexical pre-scan of module sources (realm's thread, before and after parsing).
//!
//! Boa's parser recurses natively once per nesting level and overflows the thread's
//! stack on deep enough source: the process dies instead of reporting an error. The
//! scan runs first and refuses source nested deeper than [`MAX_NESTING`] with a
//! located SyntaxError. It also locates what Boa reports without a position: an
//! unterminated string or template literal, a redeclared top-level name, and the
//! top-level `await`s of a module whose evaluation never finishes.
//!
//! The scan knows tokens, not grammar: it skips comments, strings, templates and
//! regular expression literals (told apart from division by the token before the
//! slash, as JavaScript tokenizers do), and tracks bracket nesting. It is only
//! trusted for what it reports; Boa stays the judge of what is valid.

/// Deepest bracket nesting (`(`, `[`, `{`, `${`) a module may have. Real code stays
/// far below it; the render thread's stack holds several times as many parser levels.
pub const MAX_NESTING: usize = 500;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// What the scan found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The bracket that opened level [`MAX_NESTING`] + 1, if any.
    pub too_deep: Option<Position>,
    /// Where the first string literal that never ends starts.
    pub unterminated_string: Option<Position>,
    /// Where the first template literal that never ends starts.
    pub unterminated_template: Option<Position>,
    /// The innermost bracket still open at the end of the source.
    pub unclosed: Option<Position>,
    /// Top-level `await` keywords, in source order.
    pub top_level_awaits: Vec<Position>,
    /// Names declared at the top level (`let`, `const`, `var`, `class`, `function`).
    pub top_level_declarations: Vec<(String, Position)>,
}

impl Scan {
    /// The second top-level declaration of `name`: where a redeclaration is.
    pub fn redeclaration(&self, name: &str) -> Option<Position> {
        self.top_level_declarations.iter().filter(|(n, _)| n == name).nth(1).map(|&(_, at)| at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `(`; `control` when it follows `if`, `for`, `while`, `switch`, `catch` or `with`.
    Paren {
        control: bool,
    },
    Bracket,
    /// `{`; `function` when it is a function body.
    Brace {
        function: bool,
    },
    /// `${` inside the template that starts at `template`.
    Substitution {
        template: Position,
    },
}

/// The kind of the last significant token, which decides what a `/` starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Last {
    /// Start of input or a punctuator: a `/` starts a regular expression.
    Punctuator,
    /// An operand (a name, a number, a literal, `)` or `]`): a `/` divides.
    Operand,
    /// A keyword after which an expression starts.
    Keyword(&'static str),
    /// Any other name.
    Name(String),
    /// `)` closing a non-control parenthesis (a parameter list or a call).
    CloseCall,
    /// `=>`.
    Arrow,
    /// `.`: the name that follows is a property.
    Dot,
}

const EXPRESSION_KEYWORDS: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "let",
    "const",
    "var",
    "class",
    "function",
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "with",
    "export",
    "extends",
];

const DECLARATION_KEYWORDS: &[&str] = &["let", "const", "var", "class", "function"];

/// Keywords whose parenthesis is not a parameter list (`for await (`).
const CONTROL_KEYWORDS: &[&str] = &["if", "for", "while", "switch", "catch", "with", "await"];

struct Scanner<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    col: u32,
    open: Vec<Open>,
    /// Where each of `open` was opened.
    open_at: Vec<Position>,
    last: Last,
    scan: Scan,
}

/// Scans `source`.
pub fn scan(source: &str) -> Scan {
    let mut scanner = Scanner {
        chars: source.chars().peekable(),
        line: 1,
        col: 1,
        open: Vec::new(),
        open_at: Vec::new(),
        last: Last::Punctuator,
        scan: Scan::default(),
    };
    scanner.run();
    scanner.scan.unclosed = scanner.open_at.last().copied();
    scanner.scan
}

impl Scanner<'_> {
    fn here(&self) -> Position {
        Position { line: self.line, col: self.col }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        match c {
            '\n' | '\u{2028}' | '\u{2029}' => {
                self.line += 1;
                self.col = 1;
            }
            // `\r\n` is one line break.
            '\r' => {
                if self.chars.peek() != Some(&'\n') {
                    self.line += 1;
                    self.col = 1;
                }
            }
            _ => self.col += 1,
        }
        Some(c)
    }

    fn run(&mut self) {
        while let Some(&c) = self.chars.peek() {
            let at = self.here();
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '/' => self.slash(),
                '\'' | '"' => {
                    self.bump();
                    if !self.string(c) && self.scan.unterminated_string.is_none() {
                        self.scan.unterminated_string = Some(at);
                    }
                    self.last = Last::Operand;
                }
                '`' => {
                    self.bump();
                    self.template(at);
                }
                '(' | '[' | '{' => {
                    self.bump();
                    let opened = match c {
                        '(' => Open::Paren {
                            control: matches!(self.last, Last::Keyword(k) if CONTROL_KEYWORDS.contains(&k)),
                        },
                        '[' => Open::Bracket,
                        _ => Open::Brace { function: matches!(self.last, Last::Arrow | Last::CloseCall) },
                    };
                    self.push(opened, at);
                    self.last = Last::Punctuator;
                }
                ')' | ']' => {
                    self.bump();
                    let closed = self.close();
                    self.last = match closed {
                        Some(Open::Paren { control: false }) => Last::CloseCall,
                        Some(Open::Paren { control: true }) => Last::Punctuator,
                        _ => Last::Operand,
                    };
                }
                '}' => {
                    self.bump();
                    if let Some(&Open::Substitution { template }) = self.open.last() {
                        self.close();
                        self.template(template);
                    } else {
                        self.close();
                        self.last = Last::Punctuator;
                    }
                }
                c if c == '_' || c == '$' || c == '\\' || c.is_alphanumeric() => self.word(at),
                '=' => {
                    self.bump();
                    self.last = if self.chars.peek() == Some(&'>') {
                        self.bump();
                        Last::Arrow
                    } else {
                        Last::Punctuator
                    };
                }
                '*' if self.last == Last::Keyword("function") => {
                    // `function*`: the name that follows is still declared.
                    self.bump();
                }
                '.' => {
                    self.bump();
                    self.last = Last::Dot;
                    if self.chars.peek() == Some(&'.') {
                        // `...` spreads an expression.
                        self.bump();
                        self.bump();
                        self.last = Last::Punctuator;
                    }
                }
                _ => {
                    self.bump();
                    self.last = Last::Punctuator;
                }
            }
        }
    }

    fn push(&mut self, opened: Open, at: Position) {
        self.open.push(opened);
        self.open_at.push(at);
        if self.open.len() > MAX_NESTING && self.scan.too_deep.is_none() {
            self.scan.too_deep = Some(at);
        }
    }

    fn close(&mut self) -> Option<Open> {
        self.open_at.pop();
        self.open.pop()
    }

    fn at_top_level(&self) -> bool {
        self.open.iter().all(|open| !matches!(open, Open::Brace { function: true }))
    }

    /// A name, keyword or number.
    fn word(&mut self, at: Position) {
        let mut word = String::new();
        while let Some(&c) = self.chars.peek() {
            if c == '_' || c == '$' || c == '\\' || c.is_alphanumeric() || c == '.' && starts_number(&word) {
                word.push(c);
                self.bump();
            } else {
                break;
            }
        }
        if starts_number(&word) || self.last == Last::Dot {
            self.last = Last::Operand;
            return;
        }
        let declared = matches!(&self.last, Last::Keyword(k) if DECLARATION_KEYWORDS.contains(k));
        if declared && self.open.is_empty() && !EXPRESSION_KEYWORDS.contains(&word.as_str()) {
            self.scan.top_level_declarations.push((word.clone(), at));
        }
        if word == "await" && self.at_top_level() {
            self.scan.top_level_awaits.push(at);
        }
        self.last = match EXPRESSION_KEYWORDS.iter().find(|&&k| k == word) {
            Some(&keyword) => Last::Keyword(keyword),
            None => Last::Name(word),
        };
    }

    /// After `/`: a comment, a regular expression or a division.
    fn slash(&mut self) {
        self.bump();
        let regex_allowed = self.regex_allowed();
        match self.chars.peek() {
            Some('/') => {
                while self.chars.peek().is_some_and(|&c| !is_line_break(c)) {
                    self.bump();
                }
            }
            Some('*') => {
                self.bump();
                let mut star = false;
                while let Some(c) = self.bump() {
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
            }
            _ if regex_allowed => {
                self.regex();
                self.last = Last::Operand;
            }
            _ => self.last = Last::Punctuator,
        }
    }

    fn regex_allowed(&self) -> bool {
        match &self.last {
            Last::Punctuator | Last::Keyword(_) | Last::Arrow => true,
            Last::Operand | Last::Name(_) | Last::CloseCall | Last::Dot => false,
        }
    }

    /// The body and flags of a regular expression literal (the `/` is consumed).
    fn regex(&mut self) {
        let mut class = false;
        while let Some(&c) = self.chars.peek() {
            if is_line_break(c) {
                return;
            }
            self.bump();
            match c {
                '\\' => {
                    if self.chars.peek().is_some_and(|&c| !is_line_break(c)) {
                        self.bump();
                    }
                }
                '[' => class = true,
                ']' => class = false,
                '/' if !class => break,
                _ => {}
            }
        }
        while self.chars.peek().is_some_and(|&c| c.is_alphanumeric()) {
            self.bump();
        }
    }

    /// The rest of a string literal after its opening quote; false if it never ends.
    fn string(&mut self, quote: char) -> bool {
        while let Some(&c) = self.chars.peek() {
            if c == '\n' || c == '\r' {
                return false;
            }
            self.bump();
            if c == quote {
                return true;
            }
            if c == '\\' {
                // An escaped line break continues the string.
                if self.bump() == Some('\r') && self.chars.peek() == Some(&'\n') {
                    self.bump();
                }
            }
        }
        false
    }

    /// The rest of a template after its backtick or after a `}` that closes a
    /// substitution; `start` is reported if it never ends.
    fn template(&mut self, start: Position) {
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    self.bump();
                }
                '`' => {
                    self.last = Last::Operand;
                    return;
                }
                '$' if self.chars.peek() == Some(&'{') => {
                    let at = self.here();
                    self.bump();
                    self.push(Open::Substitution { template: start }, at);
                    self.last = Last::Punctuator;
                    return;
                }
                _ => {}
            }
        }
        if self.scan.unterminated_template.is_none() {
            self.scan.unterminated_template = Some(start);
        }
    }
}

fn starts_number(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, col: u32) -> Option<Position> {
        Some(Position { line, col })
    }

    #[test]
    fn brackets_inside_strings_comments_templates_and_regexes_do_not_nest() {
        let deep = "(".repeat(MAX_NESTING + 1);
        let text = format!(
            "const a = '{deep}'; // {deep}\n/* {deep} */ const b = `{deep}`;\nconst c = /[(]{{2}}\\(/g.test(a) / 2;"
        );
        assert_eq!(scan(&text), Scan { top_level_declarations: scan(&text).top_level_declarations, ..Scan::default() });
    }

    #[test]
    fn the_bracket_past_the_limit_is_reported() {
        let text = format!("x = {}", "[".repeat(MAX_NESTING + 3));
        assert_eq!(scan(&text).too_deep, at(1, 5 + MAX_NESTING as u32));
        let text = format!("x = {}", "[".repeat(MAX_NESTING));
        assert_eq!(scan(&text).too_deep, None);
    }

    #[test]
    fn the_innermost_unclosed_bracket_is_kept() {
        assert_eq!(scan("f(a, [1, 2], {\n  b: (c)\n").unclosed, at(1, 14));
        assert_eq!(scan("f(a, [1, 2], {})").unclosed, None);
    }

    #[test]
    fn template_substitutions_nest_and_close() {
        let text = "const t = `a ${ `b ${ c } d` } e`;\nconst s = 'x";
        let scanned = scan(text);
        assert_eq!(scanned.unterminated_template, None);
        assert_eq!(scanned.unterminated_string, at(2, 11));
        assert_eq!(scan("const t = `a ${b}\nc").unterminated_template, at(1, 11));
    }

    #[test]
    fn escaped_quotes_and_line_continuations_stay_in_the_string() {
        let scanned = scan("const s = 'it\\'s \\\nfine';\nconst d = \"a\\\"b\";");
        assert_eq!(scanned.unterminated_string, None);
    }

    #[test]
    fn division_is_not_a_regex() {
        // Read as regexes, the quotes would start strings that never end.
        let scanned = scan("const a = x / 2 / y;\nconst b = (x) / 'q'.length / 3;\nconst c = a[0] / 2; // '");
        assert_eq!(scanned.unterminated_string, None);
        let scanned = scan("if (x) /'/.test(y);\nreturn /\"/;");
        assert_eq!(scanned.unterminated_string, None);
    }

    #[test]
    fn awaits_inside_functions_are_not_top_level() {
        let text = "async function f() { await a; }\nconst g = async () => { await b; };\nclass C { async m() { await c; } }\n\
                    const o = { async m() { await d; } };\nif (x) { await e; }\nfor await (const v of s) {}\nx.await;";
        let awaits = scan(text).top_level_awaits;
        assert_eq!(awaits, vec![Position { line: 5, col: 10 }, Position { line: 6, col: 5 }]);
    }

    #[test]
    fn top_level_declarations_are_listed_in_order() {
        let text = "let a = 1;\nfunction* g() { let inner; }\nexport const b = 2;\nclass C {}\nvar [d] = [];";
        let names: Vec<String> = scan(text).top_level_declarations.into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["a", "g", "b", "C"]);
    }
}
