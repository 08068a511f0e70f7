//! A small abstract interpreter: runs a script's statements far enough to build its parsers,
//! knowing only constants, the repository's own modules and argparse.
//!
//! It stops where `CPython`'s argparse would hand control back to the program: at the first
//! `parse_args` (a `parse_known_args` pre-parser lets it continue). Anything it cannot know is
//! `Value::Unknown`, and what that hides from the parameters is reported as a diagnostic.
//!
//! The script is untrusted, so one extraction has a [`Budget`] of work and memory that every
//! statement, expression and value charges; when it is spent the extraction stops with a
//! `too-complex` diagnostic and keeps what it found. Modules the script imports from the
//! repository are evaluated on demand (see `modules`), one statement at a time as far as the
//! names the parsers need.

mod argparse_calls;
mod builtins;
mod calls;
mod expressions;
mod findings;
mod modules;
mod names;
mod plan;
mod statements;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use typed_arena::Arena;

use super::model::{GroupId, Model, ParserId};
use super::value::{Budget, Const, Dict, Key, Nested, Seq, seq};
use super::{Error, Extraction, Options};
use crate::parameter::{Diagnostic, Severity};
use crate::python::{TextRange, ast, with_stack_for};
use findings::{Findings, Taint};
use modules::{Loader, SourceModule};

/// Deeper expressions than this are not evaluated (`CPython` refuses far shallower ones).
const MAX_EVAL_DEPTH: usize = 400;
/// Nested calls into the script's own functions.
const MAX_CALL_DEPTH: usize = 40;

type ModId = usize;
type ClassId = usize;
type InstId = usize;

#[derive(Clone, Copy)]
enum FuncKind {
    Plain,
    Static,
    ClassMethod,
}

#[derive(Clone, Copy)]
struct Func<'a> {
    def: &'a ast::StmtFunctionDef,
    module: ModId,
    kind: FuncKind,
}

/// What a name can hold while the script runs. Containers share their items, so copying a
/// value is cheap whatever its size.
#[derive(Clone)]
enum Value<'a> {
    Const(Const),
    Unknown,
    /// Something outside the repository, by dotted name (`argparse.ArgumentParser`, `torch`).
    External(Rc<str>),
    Module(ModId),
    /// A name imported from a repository module, evaluated when it is first read (only ever
    /// held by a binding; reading a name gives its value).
    Import(ModId, Rc<str>),
    Function(Func<'a>),
    Lambda,
    Builtin(&'static str),
    Class(ClassId),
    Instance(InstId),
    /// A function bound to its first argument (`self` or `cls`).
    Bound(Rc<Value<'a>>, Func<'a>),
    List(Rc<Seq<Value<'a>>>),
    Tuple(Rc<Seq<Value<'a>>>),
    Dict(Rc<Seq<(Value<'a>, Value<'a>)>>),
    Parser(ParserId),
    Group(GroupId),
    Subparsers(ParserId, usize),
    /// What `parse_args` returns: with no command-line arguments, each dest holds its default.
    Namespace(ParserId),
    FileType,
    /// `receiver.name`, waiting to be called.
    Method(Rc<Value<'a>>, Rc<str>),
}

impl Nested for Value<'_> {
    fn depth(&self) -> u16 {
        match self {
            Value::Const(c) => c.depth(),
            Value::List(v) | Value::Tuple(v) => v.depth(),
            Value::Dict(v) => v.depth(),
            _ => 0,
        }
    }

    fn size(&self) -> usize {
        match self {
            Value::Const(c) => c.size(),
            Value::List(v) | Value::Tuple(v) => v.size(),
            Value::Dict(v) => v.size(),
            _ => 16,
        }
    }
}

impl Nested for (Value<'_>, Value<'_>) {
    fn depth(&self) -> u16 {
        self.0.depth().max(self.1.depth())
    }

    fn size(&self) -> usize {
        self.0.size().saturating_add(self.1.size())
    }
}

impl<'a> Value<'a> {
    fn str(text: &str) -> Self {
        Value::Const(Const::str(text))
    }

    fn to_const(&self, budget: &Budget) -> Option<Const> {
        match self {
            Value::Const(c) => Some(c.clone()),
            Value::List(v) | Value::Tuple(v) => {
                let items = v
                    .iter()
                    .map(|x| x.to_const(budget))
                    .collect::<Option<Vec<_>>>()?;
                if matches!(self, Value::List(_)) {
                    Const::list(items, budget)
                } else {
                    Const::tuple(items, budget)
                }
            }
            Value::Dict(v) => {
                let entries = v
                    .iter()
                    .map(|(k, x)| Some((k.to_const(budget)?, x.to_const(budget)?)))
                    .collect::<Option<Vec<_>>>()?;
                Dict::from_entries(entries, budget).map(|d| Const::Dict(Rc::new(d)))
            }
            _ => None,
        }
    }

    /// A list or tuple: a constant when all its items are; unknown past the budget.
    fn seq(items: Vec<Value<'a>>, tuple: bool, budget: &Budget) -> Self {
        if let Some(consts) = items
            .iter()
            .map(|v| match v {
                Value::Const(c) => Some(c.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
        {
            let c = if tuple {
                Const::tuple(consts, budget)
            } else {
                Const::list(consts, budget)
            };
            return c.map_or(Value::Unknown, Value::Const);
        }
        match seq(items, budget) {
            Some(s) if tuple => Value::Tuple(s),
            Some(s) => Value::List(s),
            None => Value::Unknown,
        }
    }

    /// A dict: a constant when its keys and values are; a repeated key keeps its first
    /// position and its last value, as in Python.
    fn dict(entries: Vec<(Value<'a>, Value<'a>)>, budget: &Budget) -> Self {
        let consts: Option<Vec<(Const, Const)>> = entries
            .iter()
            .map(|(k, v)| match (k, v) {
                (Value::Const(k), Value::Const(v)) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect();
        if let Some(consts) = consts {
            return Dict::from_entries(consts, budget)
                .map_or(Value::Unknown, |d| Value::Const(Const::Dict(Rc::new(d))));
        }
        // Not all constant: keys that are constants are still de-duplicated.
        let mut out: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(entries.len());
        let mut at: HashMap<Key, usize> = HashMap::new();
        for (k, v) in entries {
            let key = match &k {
                Value::Const(c) => Key::new(c.clone()),
                _ => None,
            };
            if let Some(&i) = key.as_ref().and_then(|key| at.get(key)) {
                out[i].1 = v;
            } else {
                if let Some(key) = key {
                    at.insert(key, out.len());
                }
                out.push((k, v));
            }
        }
        seq(out, budget).map_or(Value::Unknown, Value::Dict)
    }

    /// The items `for x in value` would see.
    fn items(&self, budget: &Budget) -> Option<Vec<Value<'a>>> {
        match self {
            Value::Const(c) => c
                .iter_items(budget)
                .map(|v| v.into_iter().map(Value::Const).collect()),
            Value::List(v) | Value::Tuple(v) => {
                budget.step(v.len())?;
                Some(v.to_vec())
            }
            Value::Dict(v) => {
                budget.step(v.len())?;
                Some(v.iter().map(|(k, _)| k.clone()).collect())
            }
            _ => None,
        }
    }

    fn dict_entries(&self, budget: &Budget) -> Option<Vec<(Value<'a>, Value<'a>)>> {
        match self {
            Value::Const(Const::Dict(d)) => {
                budget.step(d.len())?;
                Some(
                    d.iter()
                        .map(|(k, x)| (Value::Const(k.clone()), Value::Const(x.clone())))
                        .collect(),
                )
            }
            Value::Dict(v) => {
                budget.step(v.len())?;
                Some(v.to_vec())
            }
            _ => None,
        }
    }

    fn truthy(&self) -> Option<bool> {
        match self {
            Value::Const(c) => Some(c.truthy()),
            Value::List(v) | Value::Tuple(v) => Some(!v.is_empty()),
            Value::Dict(v) => Some(!v.is_empty()),
            Value::Unknown | Value::External(_) | Value::Namespace(_) | Value::Import(..) => None,
            _ => Some(true),
        }
    }

    fn holds_parser(&self) -> bool {
        match self {
            Value::Parser(_) | Value::Group(_) | Value::Subparsers(..) => true,
            Value::List(v) | Value::Tuple(v) => v.iter().any(Value::holds_parser),
            _ => false,
        }
    }
}

enum Flow<'a> {
    Normal,
    Return(Value<'a>),
    Break,
    Continue,
}

/// Names and what influenced them (see `findings`).
#[derive(Default)]
struct Names<'a> {
    values: HashMap<String, Value<'a>>,
    taints: HashMap<String, Taint>,
}

impl<'a> Names<'a> {
    fn get(&self, name: &str) -> Option<(&Value<'a>, Option<&Taint>)> {
        self.values.get(name).map(|v| (v, self.taints.get(name)))
    }

    fn set(&mut self, name: &str, value: Value<'a>, taint: &Taint) {
        self.values.insert(name.to_owned(), value);
        if taint.is_empty() {
            self.taints.remove(name);
        } else {
            self.taints.insert(name.to_owned(), taint.clone());
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

enum Scope<'a> {
    Module(ModId),
    Function { module: ModId, locals: Names<'a> },
    Class { module: ModId, class: ClassId },
}

impl Scope<'_> {
    fn module(&self) -> ModId {
        match self {
            Scope::Module(m)
            | Scope::Function { module: m, .. }
            | Scope::Class { module: m, .. } => *m,
        }
    }
}

struct ClassState<'a> {
    name: String,
    attrs: HashMap<String, Value<'a>>,
    bases: Vec<Value<'a>>,
}

struct Interp<'a> {
    modules: Loader<'a>,
    classes: Vec<ClassState<'a>>,
    instances: Vec<(ClassId, HashMap<String, Value<'a>>)>,
    model: Model,
    /// The parsers whose parse call the program reached, in order.
    parse_calls: Vec<ParserId>,
    /// Parsers the script's functions returned.
    returned_parsers: Vec<ParserId>,
    findings: Findings,
    frames: Vec<Scope<'a>>,
    called: HashSet<*const ast::StmtFunctionDef>,
    budget: Budget,
    /// The program handed control to argparse (or the budget is spent): stop evaluating.
    stopped: bool,
    /// Where the call being made is reported: `CPython`'s position for it.
    anchor: TextRange,
    depth: usize,
    call_depth: usize,
}

pub(crate) fn run(source: &str, options: &Options) -> Result<Extraction, Error> {
    crate::source::check_size(source.len() as u64, options.path.as_deref())?;
    with_stack_for(source.len(), || {
        let parsed = crate::source::parse(source, options.path.as_deref())?;
        let arena = Arena::new();
        let (extraction, read) = {
            let entry = arena.alloc(SourceModule::entry(source, parsed));
            let mut interp = Interp::new(&arena, options);
            let extraction = interp.run_entry(entry, options.verbose);
            (extraction, interp.modules.bytes_read())
        };
        // Syntax trees are dropped recursively, so the modules read need a stack of their own
        // size, which the script's may not be.
        with_stack_for(read, move || drop(arena));
        Ok(extraction)
    })
}

impl<'a> Interp<'a> {
    fn new(arena: &'a Arena<SourceModule>, options: &Options) -> Self {
        Self {
            modules: Loader::new(arena, options),
            classes: Vec::new(),
            instances: Vec::new(),
            model: Model::default(),
            parse_calls: Vec::new(),
            returned_parsers: Vec::new(),
            findings: Findings::default(),
            frames: Vec::new(),
            called: HashSet::new(),
            budget: Budget::default(),
            stopped: false,
            anchor: TextRange::default(),
            depth: 0,
            call_depth: 0,
        }
    }

    fn run_entry(&mut self, entry: &'a SourceModule, verbose: bool) -> Extraction {
        let id = self.modules.add_entry(entry);
        self.frames.push(Scope::Module(id));
        let _ = self.exec_block(entry.parsed.body());
        self.frames.pop();
        let chosen = self.choose_parser();
        let parameters = chosen.map(|p| self.model.parameters(p)).unwrap_or_default();
        let mut diagnostics = std::mem::take(&mut self.findings).into_diagnostics(verbose);
        for p in &parameters {
            if p.python_type.as_deref() == Some("bool") {
                diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "type-bool".into(),
                    message: format!(
                        "`{}` uses type=bool: any non-empty string (even `False`) is true; use action=\"store_true\" or argparse.BooleanOptionalAction",
                        p.name.as_deref().unwrap_or_default()
                    ),
                    line: p.line,
                    column: p.column,
                    file: None,
                });
            }
        }
        diagnostics.sort_by_key(|d| (d.file.is_some(), d.line, d.column));
        Extraction {
            parameters,
            diagnostics,
        }
    }

    /// The parser whose parse call the program reached last; without one, a parser some
    /// function returns, else the one with the most arguments.
    fn choose_parser(&mut self) -> Option<ParserId> {
        if let Some(&p) = self.parse_calls.last() {
            return Some(p);
        }
        // Nothing called parse_args at module level: try the functions nobody called, the way
        // a `get_parser()` meant for another entry point would be used.
        if !self.budget.exhausted() {
            self.stopped = false;
        }
        let entry = self.modules.entry();
        for stmt in entry.parsed.body() {
            if let ast::Stmt::FunctionDef(def) = stmt {
                if self.called.contains(&std::ptr::from_ref(def))
                    || !self.parse_calls.is_empty()
                    || self.budget.exhausted()
                {
                    continue;
                }
                let f = Func {
                    def,
                    module: 0,
                    kind: FuncKind::Plain,
                };
                self.call_function(f, Vec::new(), &[], None);
                self.stopped = self.budget.exhausted();
            }
        }
        let chosen = self
            .parse_calls
            .last()
            .or(self.returned_parsers.last())
            .copied()
            .or_else(|| {
                (0..self.model.parsers.len())
                    .filter(|&p| self.model.parsers[p].subcommand.is_none())
                    .max_by_key(|&p| self.model.parsers[p].actions.len())
            });
        match chosen {
            None => self.findings.add_at_start(
                Severity::Warning,
                "no-parser",
                "no argparse parser found in the script",
            ),
            // When the budget ran out, `too-complex` says why no parse call was reached.
            Some(_) if self.parse_calls.is_empty() && !self.budget.exhausted() => {
                self.findings.add_at_start(
                    Severity::Info,
                    "no-parse-call",
                    "the script never calls parse_args(); reporting the parser it builds",
                );
            }
            Some(_) => {}
        }
        chosen
    }

    // ---- positions and messages ----------------------------------------------------------

    fn module(&self) -> ModId {
        self.frames.last().map_or(0, Scope::module)
    }

    fn position(&self, module: ModId, range: TextRange) -> (usize, usize) {
        self.modules.position(module, range)
    }

    /// Source text for a message: long expressions are shortened, the full text stays in
    /// `default_expr`.
    fn excerpt(&self, range: TextRange) -> String {
        const MAX: usize = 80;
        let text = self.modules.text(self.module(), range);
        match text.char_indices().nth(MAX) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text.to_owned(),
        }
    }

    fn text(&self, range: TextRange) -> String {
        self.modules.text(self.module(), range).to_owned()
    }

    /// Reports a problem that matters whatever it influences.
    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        range: TextRange,
        message: String,
    ) {
        self.say(severity, code, range, message, false);
    }

    /// Reports something that matters only if it reaches a parameter (an environment
    /// variable's fallback, a helper that cannot be imported): it is kept when a value it
    /// influenced is written into the parser, and otherwise shown only when verbose.
    fn note(&mut self, severity: Severity, code: &'static str, range: TextRange, message: String) {
        self.say(severity, code, range, message, true);
    }

    fn say(
        &mut self,
        severity: Severity,
        code: &'static str,
        range: TextRange,
        message: String,
        context: bool,
    ) {
        let module = self.module();
        let (line, column) = self.position(module, range);
        let diagnostic = Diagnostic {
            severity,
            code: code.into(),
            message,
            line,
            column,
            file: self.modules.display(module),
        };
        self.findings
            .add((module, range.start().to_u32(), code), diagnostic, context);
    }

    /// Reports once that the budget ran out, and stops following the script.
    fn out_of_budget(&mut self, range: TextRange) {
        if !self.stopped {
            self.report(
                Severity::Warning,
                "too-complex",
                range,
                "stopped following the script: it needs too much work or memory to evaluate".into(),
            );
        }
        self.stopped = true;
    }
}

/// Arguments of a call, evaluated, with the expressions kept for source text and positions.
struct CallArgs<'a> {
    positional: Vec<(Value<'a>, Option<&'a ast::Expr>)>,
    keywords: Vec<(String, Value<'a>, Option<&'a ast::Expr>)>,
}

impl<'a> CallArgs<'a> {
    fn keyword(&self, name: &str) -> Option<&Value<'a>> {
        self.keywords
            .iter()
            .rev()
            .find(|(k, ..)| k == name)
            .map(|(_, v, _)| v)
    }

    /// The argument at `index`, or the keyword `name`.
    fn get(&self, index: usize, name: &str) -> Option<&Value<'a>> {
        self.keyword(name)
            .or_else(|| self.positional.get(index).map(|(v, _)| v))
    }

    fn any_parser(&self) -> bool {
        self.positional.iter().any(|(v, _)| v.holds_parser())
            || self.keywords.iter().any(|(_, v, _)| v.holds_parser())
    }
}
