//! A small abstract interpreter: runs a script's statements far enough to build its parsers,
//! knowing only constants, the repository's own modules and argparse.
//!
//! It stops where `CPython`'s argparse would hand control back to the program: at the first
//! `parse_args` (a `parse_known_args` pre-parser lets it continue). Anything it cannot know is
//! `Value::Unknown`, and what that hides from the parameters is reported as a diagnostic.

mod argparse_calls;
mod builtins;
mod calls;
mod expressions;
mod modules;
mod names;
mod statements;

use argparse_calls::call_anchor;
use builtins::{
    builtin, compare_consts, const_method, dedent, dedup_keys, external_attr, mutate, path_attr,
    subscript, target_names,
};
use expressions::binary;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use typed_arena::Arena;

use super::model::{ArgSpec, GroupId, Model, ParserConfig, ParserId, SUPPRESS, Slot};
use super::value::{BinOp, Const, MAX_ITEMS, format_spec, path_join};
use super::{Error, Extraction, Options};
use crate::parameter::{Diagnostic, Severity};
use crate::python::{ParsedModule, Ranged, TextRange, ast, parse_module, with_stack_for};

/// Deeper expressions than this are not evaluated (`CPython` refuses far shallower ones).
const MAX_EVAL_DEPTH: usize = 400;
/// Nested calls into the script's own functions.
const MAX_CALL_DEPTH: usize = 40;
/// Iterations of one loop, and statements executed in all, before we give up on a script.
const MAX_LOOP_ITERATIONS: usize = 10_000;
const MAX_STEPS: usize = 2_000_000;
/// Helper modules larger than this are not read.
const MAX_MODULE_BYTES: u64 = 4 << 20;

type ModId = usize;
type ClassId = usize;
type InstId = usize;

/// The names `from argparse import *` binds.
const ARGPARSE_NAMES: &[&str] = &[
    "ArgumentParser",
    "Action",
    "BooleanOptionalAction",
    "FileType",
    "Namespace",
    "SUPPRESS",
    "OPTIONAL",
    "ZERO_OR_MORE",
    "ONE_OR_MORE",
    "REMAINDER",
    "PARSER",
    "HelpFormatter",
    "RawDescriptionHelpFormatter",
    "RawTextHelpFormatter",
    "ArgumentDefaultsHelpFormatter",
    "MetavarTypeHelpFormatter",
    "ArgumentError",
    "ArgumentTypeError",
];

const BUILTINS: &[&str] = &[
    "int",
    "float",
    "str",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "len",
    "range",
    "sorted",
    "min",
    "max",
    "abs",
    "round",
    "type",
    "zip",
    "enumerate",
    "reversed",
    "open",
    "complex",
    "print",
    "isinstance",
    "getattr",
    "hasattr",
    "super",
    "frozenset",
    "sum",
    "any",
    "all",
];

struct SourceModule {
    /// Shown in diagnostics about helper modules (relative to the repository).
    display: Option<String>,
    path: Option<PathBuf>,
    text: String,
    parsed: ParsedModule,
    /// The dotted name (`__main__` for the script itself) and the package it is in.
    name: String,
    package: Vec<String>,
}

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

#[derive(Clone)]
enum Value<'a> {
    Const(Const),
    Unknown,
    /// Something outside the repository, by dotted name (`argparse.ArgumentParser`, `torch`).
    External(String),
    Module(ModId),
    Function(Func<'a>),
    Lambda,
    Builtin(&'static str),
    Class(ClassId),
    Instance(InstId),
    /// A function bound to its first argument (`self` or `cls`).
    Bound(Box<Value<'a>>, Func<'a>),
    List(Vec<Value<'a>>),
    Tuple(Vec<Value<'a>>),
    Dict(Vec<(Value<'a>, Value<'a>)>),
    Parser(ParserId),
    Group(GroupId),
    Subparsers(ParserId, usize),
    /// What `parse_args` returns: with no command-line arguments, each dest holds its default.
    Namespace(ParserId),
    FileType,
    /// `receiver.name`, waiting to be called.
    Method(Box<Value<'a>>, String),
}

impl<'a> Value<'a> {
    fn to_const(&self) -> Option<Const> {
        match self {
            Value::Const(c) => Some(c.clone()),
            Value::List(v) => v
                .iter()
                .map(Value::to_const)
                .collect::<Option<_>>()
                .map(Const::List),
            Value::Tuple(v) => v
                .iter()
                .map(Value::to_const)
                .collect::<Option<_>>()
                .map(Const::Tuple),
            Value::Dict(v) => v
                .iter()
                .map(|(k, x)| Some((k.to_const()?, x.to_const()?)))
                .collect::<Option<_>>()
                .map(Const::Dict),
            _ => None,
        }
    }

    fn from_const(c: Const) -> Self {
        Value::Const(c)
    }

    /// A list or tuple literal: a constant when all its items are.
    fn seq(items: Vec<Value<'a>>, tuple: bool) -> Self {
        let v = if tuple {
            Value::Tuple(items)
        } else {
            Value::List(items)
        };
        v.to_const().map_or(v, Value::Const)
    }

    fn dict(items: Vec<(Value<'a>, Value<'a>)>) -> Self {
        let v = Value::Dict(items);
        v.to_const().map_or(v, Value::Const)
    }

    /// The items `for x in value` would see.
    fn items(&self) -> Option<Vec<Value<'a>>> {
        match self {
            Value::Const(c) => c
                .iter_items()
                .map(|v| v.into_iter().map(Value::Const).collect()),
            Value::List(v) | Value::Tuple(v) => Some(v.clone()),
            Value::Dict(v) => Some(v.iter().map(|(k, _)| k.clone()).collect()),
            _ => None,
        }
    }

    fn dict_entries(&self) -> Option<Vec<(Value<'a>, Value<'a>)>> {
        match self {
            Value::Const(Const::Dict(v)) => Some(
                v.iter()
                    .map(|(k, x)| (Value::Const(k.clone()), Value::Const(x.clone())))
                    .collect(),
            ),
            Value::Dict(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn truthy(&self) -> Option<bool> {
        match self {
            Value::Const(c) => Some(c.truthy()),
            Value::List(v) | Value::Tuple(v) => Some(!v.is_empty()),
            Value::Dict(v) => Some(!v.is_empty()),
            Value::Unknown | Value::External(_) | Value::Namespace(_) => None,
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

enum Scope<'a> {
    Module(ModId),
    Function {
        module: ModId,
        locals: HashMap<String, Value<'a>>,
    },
    Class {
        module: ModId,
        class: ClassId,
    },
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

struct ModState<'a> {
    src: &'a SourceModule,
    globals: HashMap<String, Value<'a>>,
}

struct Interp<'a> {
    arena: &'a Arena<SourceModule>,
    modules: Vec<ModState<'a>>,
    by_path: HashMap<PathBuf, Option<ModId>>,
    repo: Option<PathBuf>,
    canonical_repo: Option<PathBuf>,
    roots: Vec<PathBuf>,
    classes: Vec<ClassState<'a>>,
    instances: Vec<(ClassId, HashMap<String, Value<'a>>)>,
    model: Model,
    parse_calls: Vec<ParserId>,
    returned_parsers: Vec<ParserId>,
    diagnostics: Vec<Diagnostic>,
    reported: HashSet<(ModId, u32, &'static str)>,
    called: HashSet<*const ast::StmtFunctionDef>,
    frames: Vec<Scope<'a>>,
    stopped: bool,
    /// Where the call being made is reported: `CPython`'s position for it.
    anchor: TextRange,
    depth: usize,
    call_depth: usize,
    steps: usize,
}

pub(crate) fn run(source: &str, options: &Options) -> Result<Extraction, Error> {
    with_stack_for(source.len(), || {
        let parsed = crate::source::parse(source, options.path.as_deref())?;
        let arena = Arena::new();
        let entry = arena.alloc(SourceModule {
            display: None,
            path: options.path.clone(),
            text: source.to_owned(),
            parsed,
            name: "__main__".into(),
            package: Vec::new(),
        });
        let mut interp = Interp::new(&arena, options);
        Ok(interp.run_entry(entry))
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl<'a> Interp<'a> {
    fn new(arena: &'a Arena<SourceModule>, options: &Options) -> Self {
        // Absolute but not canonical: resolving symlinks costs a system call per path
        // component, so it waits until an import really finds a file (see `canonical_repo`).
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let script_dir = options.path.as_deref().and_then(Path::parent).map(|p| {
            absolute(if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            })
        });
        let repo = options
            .repo
            .as_deref()
            .map(absolute)
            .or_else(|| script_dir.clone());
        // Python puts the script's folder first on sys.path; the repository root comes next
        // so that `from utils.args import ...` works for scripts in subfolders.
        let mut roots: Vec<PathBuf> = script_dir.into_iter().chain(repo.clone()).collect();
        roots.dedup();
        Self {
            arena,
            modules: Vec::new(),
            by_path: HashMap::new(),
            repo,
            canonical_repo: None,
            roots,
            classes: Vec::new(),
            instances: Vec::new(),
            model: Model::default(),
            parse_calls: Vec::new(),
            returned_parsers: Vec::new(),
            diagnostics: Vec::new(),
            reported: HashSet::new(),
            called: HashSet::new(),
            frames: Vec::new(),
            stopped: false,
            anchor: TextRange::default(),
            depth: 0,
            call_depth: 0,
            steps: 0,
        }
    }

    fn run_entry(&mut self, entry: &'a SourceModule) -> Extraction {
        let id = self.add_module(entry);
        self.exec_module(id);
        let chosen = self.choose_parser();
        let parameters = chosen.map(|p| self.model.parameters(p)).unwrap_or_default();
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
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
        self.stopped = false;
        let entry = self.modules[0].src;
        for stmt in entry.parsed.body() {
            if let ast::Stmt::FunctionDef(def) = stmt {
                if self.called.contains(&std::ptr::from_ref(def)) || !self.parse_calls.is_empty() {
                    continue;
                }
                let f = Func {
                    def,
                    module: 0,
                    kind: FuncKind::Plain,
                };
                self.call_function(f, Vec::new(), &[], None);
                self.stopped = false;
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
        let (line, column) = (1, 1);
        match chosen {
            None => self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: "no-parser".into(),
                message: "no argparse parser found in the script".into(),
                line,
                column,
                file: None,
            }),
            Some(_) if self.parse_calls.is_empty() => self.diagnostics.push(Diagnostic {
                severity: Severity::Info,
                code: "no-parse-call".into(),
                message: "the script never calls parse_args(); reporting the parser it builds"
                    .into(),
                line,
                column,
                file: None,
            }),
            Some(_) => {}
        }
        chosen
    }

    fn add_module(&mut self, src: &'a SourceModule) -> ModId {
        let mut globals = HashMap::new();
        globals.insert(
            "__name__".to_owned(),
            Value::Const(Const::Str(src.name.clone())),
        );
        self.modules.push(ModState { src, globals });
        self.modules.len() - 1
    }

    fn exec_module(&mut self, id: ModId) {
        self.frames.push(Scope::Module(id));
        let body = self.modules[id].src.parsed.body();
        let _ = self.exec_block(body);
        self.frames.pop();
    }

    // ---- diagnostics -------------------------------------------------------------------

    fn module(&self) -> ModId {
        self.frames.last().map_or(0, Scope::module)
    }

    fn position(&self, module: ModId, range: TextRange) -> (usize, usize) {
        let src = self.modules[module].src;
        src.parsed
            .lines()
            .position(&src.text, range.start().to_usize())
    }

    /// Source text for a message: long expressions are shortened, the full text stays in
    /// `default_expr`.
    fn excerpt(&self, range: TextRange) -> String {
        const MAX: usize = 80;
        let text = self.text(range);
        match text.char_indices().nth(MAX) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    }

    fn text(&self, range: TextRange) -> String {
        let src = self.modules[self.module()].src;
        src.text
            .get(range.start().to_usize()..range.end().to_usize())
            .unwrap_or("")
            .to_owned()
    }

    fn report(
        &mut self,
        severity: Severity,
        code: &'static str,
        range: TextRange,
        message: String,
    ) {
        let module = self.module();
        // Loops and repeated calls reach the same code many times; say it once.
        if !self.reported.insert((module, range.start().to_u32(), code)) {
            return;
        }
        let (line, column) = self.position(module, range);
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.into(),
            message,
            line,
            column,
            file: self.modules[module].src.display.clone(),
        });
    }
}

/// Arguments of a call, evaluated, with the expressions kept for source text and positions.
struct CallArgs<'a> {
    positional: Vec<(Value<'a>, Option<&'a ast::Expr>)>,
    keywords: Vec<(String, Value<'a>, Option<&'a ast::Expr>)>,
}

impl<'a> CallArgs<'a> {
    fn values(&self) -> Vec<Value<'a>> {
        self.positional.iter().map(|(v, _)| v.clone()).collect()
    }

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
