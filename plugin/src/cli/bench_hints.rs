//! Slow patterns in `process()`, found in the source and located (the caller's
//! thread, for `worklet bench --profile`).
//!
//! Each module is parsed with Boa's own parser and every non-static class method
//! named `process` is walked. What is reported is what `processors/README.md`
//! ("Performance on Boa") measured: in a sample loop (an innermost loop whose
//! condition calls nothing, or one bounded by a number of at least 32 such as
//! `i < 128`; a loop over channels that holds the sample loop and an event loop
//! are not hot), a `.length` read in the condition, a global
//! name or a `this.` property; anywhere in `process()`, what allocates on
//! every call (`new`, array and object literals, closures, array destructuring and
//! `for … of`, the array methods that return a new array), except on the right of `??`, `||`,
//! `??=` and `||=` (lazy initialisation). Helper functions that `process()` calls
//! are not followed; a module that does not parse gets no hints (the engine
//! reports its error).

use std::collections::HashSet;
use std::ops::ControlFlow;

use boa_engine::Source;
use boa_engine::ast::declaration::Binding;
use boa_engine::ast::expression::access::{PropertyAccessField, SimplePropertyAccess};
use boa_engine::ast::expression::literal::{ArrayLiteral, Literal, LiteralKind, ObjectLiteral};
use boa_engine::ast::expression::operator::assign::AssignOp;
use boa_engine::ast::expression::operator::binary::{BinaryOp, LogicalOp};
use boa_engine::ast::expression::operator::{Assign, Binary, Conditional};
use boa_engine::ast::expression::{Call, Identifier, New};
use boa_engine::ast::function::{ArrowFunction, ClassElement, ClassElementName, FunctionExpression};
use boa_engine::ast::pattern::ArrayPattern;
use boa_engine::ast::property::PropertyName;
use boa_engine::ast::scope::Scope;
use boa_engine::ast::statement::If;
use boa_engine::ast::statement::iteration::{DoWhileLoop, ForInLoop, ForLoop, ForOfLoop, WhileLoop};
use boa_engine::ast::visitor::{VisitWith, Visitor};
use boa_engine::ast::{Expression, Position, Span, Spanned, Statement};
use boa_engine::interner::{Interner, Sym};
use boa_engine::parser::Parser;
use serde::Serialize;

/// Global names whose reads the guide measured as slow in a sample loop.
const GLOBALS: [&str; 4] = ["Math", "sampleRate", "currentTime", "currentFrame"];

/// Array methods that return a new array or view on every call.
const ALLOCATING_METHODS: [&str; 10] =
    ["map", "filter", "slice", "concat", "subarray", "flat", "flatMap", "from", "of", "bind"];

/// At most this many hints per module; the rest are counted.
pub(super) const MAX_HINTS: usize = 20;

/// What a hint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum HintKind {
    /// `i < y.length` in a loop's condition.
    LengthInLoop,
    /// A global name read inside a loop.
    GlobalInLoop,
    /// A `this.` property read or written inside a loop.
    ThisInLoop,
    /// Something that allocates on every call.
    Allocation,
}

/// One slow pattern at its place in a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Hint {
    pub(super) file: String,
    pub(super) line: u32,
    pub(super) col: u32,
    pub(super) kind: HintKind,
    pub(super) text: String,
}

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.text)
    }
}

/// The hints for one module's `process()` methods, in source order; the second
/// value counts those left out beyond [`MAX_HINTS`].
pub(super) fn find(file: &str, source: &str) -> (Vec<Hint>, usize) {
    let mut interner = Interner::default();
    let parsed = Parser::new(Source::from_bytes(source.as_bytes())).parse_module(&Scope::new_global(), &mut interner);
    let Ok(module) = parsed else { return (Vec::new(), 0) };
    let mut finder = Finder {
        interner: &interner,
        lines: source.lines().collect(),
        file,
        in_process: 0,
        locals: HashSet::new(),
        loop_id: None,
        next_loop: 0,
        lazy: 0,
        branch: 0,
        member: None,
        callee: false,
        seen: HashSet::new(),
        hints: Vec::new(),
    };
    let _ = module.visit_with(&mut finder);
    let mut hints = finder.hints;
    hints.sort_by_key(|h| (h.line, h.col));
    hints.dedup_by_key(|h| (h.line, h.col, h.kind));
    let left_out = hints.len().saturating_sub(MAX_HINTS);
    hints.truncate(MAX_HINTS);
    (hints, left_out)
}

struct Finder<'a> {
    interner: &'a Interner,
    lines: Vec<&'a str>,
    file: &'a str,
    /// How many `process()` methods the walk is inside.
    in_process: usize,
    /// Names bound inside the current `process()` (they shadow the globals).
    locals: HashSet<String>,
    /// The loop around the walk if it is an innermost one (an id for
    /// deduplication); `None` outside loops and in loops that hold loops.
    loop_id: Option<usize>,
    next_loop: usize,
    /// How many lazy initialisations (`a ?? (a = [])`) the walk is inside.
    lazy: usize,
    /// How many `if` branches and `?:` arms the walk is inside.
    branch: usize,
    /// The property read from the identifier being walked (`Math.sin`: `sin`).
    member: Option<String>,
    /// Whether the expression being walked is the callee of a call.
    callee: bool,
    /// (loop, name) pairs already reported, so a loop gets one hint per name.
    seen: HashSet<(usize, String)>,
    hints: Vec<Hint>,
}

impl Finder<'_> {
    fn name(&self, sym: Sym) -> String {
        self.interner.resolve_expect(sym).to_string()
    }

    /// The source text of `span` (its first line, shortened).
    fn snippet(&self, span: Span) -> String {
        let (start, end) = (span.start(), span.end());
        let line = self.lines.get(start.line_number() as usize - 1).copied().unwrap_or_default();
        let from = start.column_number() as usize - 1;
        let to = if end.line_number() == start.line_number() { end.column_number() as usize - 1 } else { usize::MAX };
        let text: String = line.chars().skip(from).take(to.saturating_sub(from)).collect();
        let shortened: String = text.chars().take(40).collect();
        if shortened.len() < text.len() || to == usize::MAX { format!("{shortened}…") } else { shortened }
    }

    fn hint(&mut self, at: Position, kind: HintKind, text: String) {
        let (line, col) = (at.line_number(), at.column_number());
        self.hints.push(Hint { file: self.file.to_owned(), line, col, kind, text });
    }

    /// Whether this loop has not yet had a hint about `name`.
    fn first_in_loop(&mut self, name: &str) -> Option<usize> {
        let id = self.loop_id?;
        self.seen.insert((id, name.to_owned())).then_some(id)
    }

    /// Walks a loop's parts inside it (see [`hot`]).
    fn in_loop(&mut self, hot: bool, walk: impl FnOnce(&mut Self) -> ControlFlow<()>) -> ControlFlow<()> {
        let outer = std::mem::replace(&mut self.loop_id, hot.then_some(self.next_loop));
        self.next_loop += 1;
        let flow = walk(self);
        self.loop_id = outer;
        flow
    }

    /// Walks the branches of an `if` or a `?:`.
    fn in_branch(&mut self, walk: impl FnOnce(&mut Self) -> ControlFlow<()>) -> ControlFlow<()> {
        self.branch += 1;
        let flow = walk(self);
        self.branch -= 1;
        flow
    }

    /// Walks a lazy initialisation (its allocations happen once).
    fn lazily(&mut self, walk: impl FnOnce(&mut Self) -> ControlFlow<()>) -> ControlFlow<()> {
        self.lazy += 1;
        let flow = walk(self);
        self.lazy -= 1;
        flow
    }

    /// A `.length` read in the condition of a loop, if the loop is hot.
    fn check_condition(&mut self, condition: &Expression, hot: bool) {
        if self.in_process == 0 || !hot {
            return;
        }
        let mut reads = LengthReads { interner: self.interner, spans: Vec::new() };
        let _ = condition.visit_with(&mut reads);
        for span in reads.spans {
            let read = self.snippet(span);
            let target = read.trim_end_matches(".length").to_owned();
            self.hint(
                span.start(),
                HintKind::LengthInLoop,
                format!(
                    "`{read}` is read on every iteration of this loop; read it once: \
                     `for (let i = 0, n = {target}.length; i < n; i++)`"
                ),
            );
        }
    }

    fn allocation(&mut self, span: Span, what: &str) {
        if self.in_process > 0 && self.lazy == 0 {
            let when =
                if self.branch > 0 { "each time this branch of process() runs" } else { "on every call to process()" };
            let text =
                format!("`{}` {what} {when}; make it once (in the constructor) and reuse it", self.snippet(span));
            self.hint(span.start(), HintKind::Allocation, text);
        }
    }

    fn is_process(&self, name: &ClassElementName) -> bool {
        matches!(name, ClassElementName::PropertyName(PropertyName::Literal(id)) if self.name(id.sym()) == "process")
    }
}

impl<'ast> Visitor<'ast> for Finder<'_> {
    type BreakTy = ();

    fn visit_class_element(&mut self, node: &'ast ClassElement) -> ControlFlow<()> {
        let ClassElement::MethodDefinition(method) = node else { return node.visit_with(self) };
        if method.is_static() || !self.is_process(method.name()) {
            return node.visit_with(self);
        }
        let mut names = Bindings { interner: self.interner, names: HashSet::new() };
        let _ = node.visit_with(&mut names);
        let outer = std::mem::replace(&mut self.locals, names.names);
        self.in_process += 1;
        let flow = node.visit_with(self);
        self.in_process -= 1;
        self.locals = outer;
        flow
    }

    fn visit_for_loop(&mut self, node: &'ast ForLoop) -> ControlFlow<()> {
        if let Some(init) = node.init() {
            self.visit_for_loop_initializer(init)?;
        }
        let hot = hot(node.condition(), node.body());
        if let Some(condition) = node.condition() {
            self.check_condition(condition, hot);
        }
        self.in_loop(hot, |this| {
            if let Some(condition) = node.condition() {
                this.visit_expression(condition)?;
            }
            if let Some(update) = node.final_expr() {
                this.visit_expression(update)?;
            }
            this.visit_statement(node.body())
        })
    }

    fn visit_while_loop(&mut self, node: &'ast WhileLoop) -> ControlFlow<()> {
        let hot = hot(Some(node.condition()), node.body());
        self.check_condition(node.condition(), hot);
        self.in_loop(hot, |this| node.visit_with(this))
    }

    fn visit_do_while_loop(&mut self, node: &'ast DoWhileLoop) -> ControlFlow<()> {
        let hot = hot(Some(node.cond()), node.body());
        self.check_condition(node.cond(), hot);
        self.in_loop(hot, |this| node.visit_with(this))
    }

    fn visit_identifier(&mut self, node: &'ast Identifier) -> ControlFlow<()> {
        if self.in_process > 0 && self.loop_id.is_some() {
            let name = self.name(node.sym());
            if GLOBALS.contains(&name.as_str()) && !self.locals.contains(&name) && self.first_in_loop(&name).is_some() {
                let example = match &self.member {
                    Some(member) => format!("const {member} = {name}.{member}"),
                    None if name == "sampleRate" => "const sr = sampleRate".to_owned(),
                    None => format!("const {name}_ = {name}"),
                };
                self.hint(
                    node.span().start(),
                    HintKind::GlobalInLoop,
                    format!(
                        "`{name}` is a global name, looked up on every iteration of this loop; \
                         read what the loop needs into a local before it (`{example}`)"
                    ),
                );
            }
        }
        ControlFlow::Continue(())
    }

    fn visit_simple_property_access(&mut self, node: &'ast SimplePropertyAccess) -> ControlFlow<()> {
        let callee = std::mem::take(&mut self.callee);
        if self.in_process > 0
            && self.loop_id.is_some()
            && !callee
            && matches!(node.target(), Expression::This(_))
            && let PropertyAccessField::Const(field) = node.field()
        {
            let name = self.name(field.sym());
            if self.first_in_loop(&format!("this.{name}")).is_some() {
                self.hint(
                    node.span().start(),
                    HintKind::ThisInLoop,
                    format!(
                        "`this.{name}` is a property lookup on every iteration of this loop; copy it into a \
                         local before the loop (and store it back after, if the loop changes it)"
                    ),
                );
            }
        }
        // The field is a property name, not a variable: only an expression field is walked.
        let member = match (node.target(), node.field()) {
            (Expression::Identifier(_), PropertyAccessField::Const(field)) => Some(self.name(field.sym())),
            _ => None,
        };
        let outer = std::mem::replace(&mut self.member, member);
        let flow = self.visit_expression(node.target());
        self.member = outer;
        flow?;
        match node.field() {
            PropertyAccessField::Expr(expression) => self.visit_expression(expression),
            PropertyAccessField::Const(_) => ControlFlow::Continue(()),
        }
    }

    fn visit_for_in_loop(&mut self, node: &'ast ForInLoop) -> ControlFlow<()> {
        self.in_loop(hot(None, node.body()), |this| node.visit_with(this))
    }

    fn visit_for_of_loop(&mut self, node: &'ast ForOfLoop) -> ControlFlow<()> {
        if self.in_process > 0 && self.lazy == 0 {
            let iterable = node.iterable();
            let text = format!(
                "`for (… of {})` runs the iterator protocol (an iterator, and a result object per \
                 step) on every call to process(); loop with an index instead",
                self.snippet(iterable.span())
            );
            self.hint(iterable.span().start(), HintKind::Allocation, text);
        }
        self.in_loop(hot(None, node.body()), |this| node.visit_with(this))
    }

    fn visit_binary(&mut self, node: &'ast Binary) -> ControlFlow<()> {
        match node.op() {
            BinaryOp::Logical(LogicalOp::Coalesce | LogicalOp::Or) => {
                self.visit_expression(node.lhs())?;
                self.lazily(|this| this.visit_expression(node.rhs()))
            }
            _ => node.visit_with(self),
        }
    }

    fn visit_assign(&mut self, node: &'ast Assign) -> ControlFlow<()> {
        match node.op() {
            AssignOp::Coalesce | AssignOp::BoolOr => self.lazily(|this| node.visit_with(this)),
            _ => node.visit_with(self),
        }
    }

    fn visit_if(&mut self, node: &'ast If) -> ControlFlow<()> {
        self.visit_expression(node.cond())?;
        self.in_branch(|this| {
            this.visit_statement(node.body())?;
            node.else_node().map_or(ControlFlow::Continue(()), |other| this.visit_statement(other))
        })
    }

    fn visit_conditional(&mut self, node: &'ast Conditional) -> ControlFlow<()> {
        self.visit_expression(node.condition())?;
        self.in_branch(|this| {
            this.visit_expression(node.if_true())?;
            this.visit_expression(node.if_false())
        })
    }

    fn visit_new(&mut self, node: &'ast New) -> ControlFlow<()> {
        self.allocation(node.span(), "allocates");
        node.visit_with(self)
    }

    fn visit_array_literal(&mut self, node: &'ast ArrayLiteral) -> ControlFlow<()> {
        self.allocation(node.span(), "allocates an array");
        node.visit_with(self)
    }

    fn visit_object_literal(&mut self, node: &'ast ObjectLiteral) -> ControlFlow<()> {
        self.allocation(node.span(), "allocates an object");
        node.visit_with(self)
    }

    fn visit_arrow_function(&mut self, node: &'ast ArrowFunction) -> ControlFlow<()> {
        self.allocation(node.span(), "creates a closure");
        node.visit_with(self)
    }

    fn visit_function_expression(&mut self, node: &'ast FunctionExpression) -> ControlFlow<()> {
        self.allocation(node.span(), "creates a closure");
        node.visit_with(self)
    }

    fn visit_array_pattern(&mut self, node: &'ast ArrayPattern) -> ControlFlow<()> {
        if self.in_process > 0
            && let Some(at) = self.pattern_start(node)
        {
            self.hint(
                at,
                HintKind::Allocation,
                "array destructuring runs the iterator protocol (an iterator object per pattern) on every \
                 call to process(); index instead (`const input = inputs[0]`)"
                    .to_owned(),
            );
        }
        node.visit_with(self)
    }

    fn visit_call(&mut self, node: &'ast Call) -> ControlFlow<()> {
        if let Expression::PropertyAccess(boa_engine::ast::expression::access::PropertyAccess::Simple(access)) =
            node.function()
            && let PropertyAccessField::Const(method) = access.field()
            && ALLOCATING_METHODS.contains(&self.name(method.sym()).as_str())
        {
            self.allocation(node.span(), "returns a new array or function");
        }
        // A method called on `this` is not a value to copy into a local.
        self.callee = true;
        let flow = self.visit_expression(node.function());
        self.callee = false;
        flow?;
        node.args().iter().try_for_each(|arg| self.visit_expression(arg))
    }
}

impl Finder<'_> {
    /// Where an array pattern starts: at its first bound name, less the brackets
    /// before it on that line (patterns carry no position of their own).
    fn pattern_start(&self, pattern: &ArrayPattern) -> Option<Position> {
        let mut first = FirstName::default();
        let _ = pattern.visit_with(&mut first);
        let at = first.at?;
        let line = self.lines.get(at.line_number() as usize - 1)?;
        let before: Vec<char> = line.chars().take(at.column_number() as usize - 1).collect();
        // Back over `[`s and the spaces between them, to the outermost `[`.
        let mut back = 0;
        for (count, c) in before.iter().rev().enumerate() {
            match c {
                '[' => back = count + 1,
                c if c.is_whitespace() => {}
                _ => break,
            }
        }
        Some(Position::new(at.line_number(), at.column_number() - back as u32))
    }
}

/// `.length` reads in an expression.
struct LengthReads<'a> {
    interner: &'a Interner,
    spans: Vec<Span>,
}

impl<'ast> Visitor<'ast> for LengthReads<'_> {
    type BreakTy = ();

    fn visit_simple_property_access(&mut self, node: &'ast SimplePropertyAccess) -> ControlFlow<()> {
        if let PropertyAccessField::Const(field) = node.field()
            && self.interner.resolve_expect(field.sym()).to_string() == "length"
        {
            self.spans.push(node.span());
        }
        node.visit_with(self)
    }
}

/// The names bound in a method (its parameters and declarations).
struct Bindings<'a> {
    interner: &'a Interner,
    names: HashSet<String>,
}

impl<'ast> Visitor<'ast> for Bindings<'_> {
    type BreakTy = ();

    fn visit_binding(&mut self, node: &'ast Binding) -> ControlFlow<()> {
        if let Binding::Identifier(id) = node {
            self.names.insert(self.interner.resolve_expect(id.sym()).to_string());
        }
        node.visit_with(self)
    }
}

/// Whether a loop is a sample loop, where each read costs 128 times per quantum:
/// it holds no loop of its own and its condition calls nothing (an event loop,
/// `while (events.next())`, runs once per event), or its condition has a bound
/// of at least 32 (`i < 128`, with loops over channels inside).
fn hot(condition: Option<&Expression>, body: &Statement) -> bool {
    let innermost = body.visit_with(&mut HasLoop).is_continue();
    let calls = condition.is_some_and(|c| c.visit_with(&mut HasCall).is_break());
    (innermost && !calls) || condition.is_some_and(|c| c.visit_with(&mut BigBound).is_break())
}

/// Breaks at the first call in a node.
struct HasCall;

impl<'ast> Visitor<'ast> for HasCall {
    type BreakTy = ();

    fn visit_call(&mut self, _: &'ast Call) -> ControlFlow<()> {
        ControlFlow::Break(())
    }
}

/// Breaks at a number literal of at least 32.
struct BigBound;

impl<'ast> Visitor<'ast> for BigBound {
    type BreakTy = ();

    fn visit_literal(&mut self, node: &'ast Literal) -> ControlFlow<()> {
        match node.kind() {
            LiteralKind::Int(n) if *n >= 32 => ControlFlow::Break(()),
            LiteralKind::Num(n) if *n >= 32.0 => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Breaks at the first loop in a node.
struct HasLoop;

impl<'ast> Visitor<'ast> for HasLoop {
    type BreakTy = ();

    fn visit_for_loop(&mut self, _: &'ast ForLoop) -> ControlFlow<()> {
        ControlFlow::Break(())
    }

    fn visit_while_loop(&mut self, _: &'ast WhileLoop) -> ControlFlow<()> {
        ControlFlow::Break(())
    }

    fn visit_do_while_loop(&mut self, _: &'ast DoWhileLoop) -> ControlFlow<()> {
        ControlFlow::Break(())
    }

    fn visit_for_in_loop(&mut self, _: &'ast ForInLoop) -> ControlFlow<()> {
        ControlFlow::Break(())
    }

    fn visit_for_of_loop(&mut self, _: &'ast ForOfLoop) -> ControlFlow<()> {
        ControlFlow::Break(())
    }
}

/// The position of the first identifier in a node.
#[derive(Default)]
struct FirstName {
    at: Option<Position>,
}

impl<'ast> Visitor<'ast> for FirstName {
    type BreakTy = ();

    fn visit_identifier(&mut self, node: &'ast Identifier) -> ControlFlow<()> {
        self.at = Some(node.span().start());
        ControlFlow::Break(())
    }
}
