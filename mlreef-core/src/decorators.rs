//! The legacy convention: parameters declared with decorators instead of argparse.
//!
//! Before modules described their parameters with `argparse`, a module's script declared them on
//! its entry function. `@data_processor` describes the module, and each `@parameter` gives one
//! parameter's name, type, whether it is required, its default and a description, positionally
//! or by keyword:
//!
//! ```python
//! from mlreef import data_processor, parameter
//!
//! @data_processor(name="Resnet 2D", type="ALGORITHM", input_type="IMAGE", output_type="MODEL")
//! @parameter(name="epochs", type="int", required=True, defaultValue=5, description="passes")
//! @parameter("learning_rate", "float", False, 0.001, "step size")
//! def train(*args): ...
//! ```
//!
//! [`extract`] reads these declarations without running the script and maps each `@parameter` to
//! the same [`Parameter`] form that [`crate::argparse`] produces (a `--name` option with
//! `action: "store"`), so everything downstream treats both conventions alike. What it cannot
//! read statically it reports as a [`Diagnostic`] with a stable code, and never guesses.
//!
//! ```
//! use mlreef_core::decorators::extract;
//!
//! let source = r#"
//! @data_processor(name="Resnet 2D", type="ALGORITHM")
//! @parameter("epochs", "int", True, 5, "passes over the data")
//! def train(*args): ...
//! "#;
//! let extraction = extract(source)?;
//! assert_eq!(extraction.processor.unwrap().kind.as_deref(), Some("ALGORITHM"));
//! let epochs = &extraction.parameters[0];
//! assert_eq!(epochs.flags, ["--epochs"]);
//! assert_eq!(epochs.default, serde_json::json!(5));
//! # Ok::<(), mlreef_core::source::Error>(())
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value as Json;

use crate::parameter::{Action, Diagnostic, Parameter, ParameterType, Severity};
use crate::python::{LineIndex, Ranged, ast, with_stack_for};
use crate::source::Error;

/// What the `@data_processor` decorator says about the module (fields may be missing).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Processor {
    pub name: Option<String>,
    pub author: Option<String>,
    /// The `type=` keyword: `ALGORITHM`, `OPERATION` or `VISUALIZATION` when well formed.
    pub kind: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub input_type: Option<String>,
    pub output_type: Option<String>,
    /// The decorated function.
    pub function: String,
    /// 1-based position of the decorator call.
    pub line: usize,
    pub column: usize,
}

/// The module description and parameters declared with decorators.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecoratorExtraction {
    pub processor: Option<Processor>,
    pub parameters: Vec<Parameter>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Extracts the decorator declarations of the script `source`.
pub fn extract(source: &str) -> Result<DecoratorExtraction, Error> {
    extract_at(source, None)
}

/// Reads and extracts the script at `path`.
pub fn extract_file(path: &Path) -> Result<DecoratorExtraction, Error> {
    let source = crate::source::read(path)?;
    extract_at(&source, Some(path))
}

fn extract_at(source: &str, path: Option<&Path>) -> Result<DecoratorExtraction, Error> {
    crate::source::check_size(source.len() as u64, path)?;
    // The tree is built, walked and dropped on the big stack: all three recurse.
    with_stack_for(source.len(), || {
        let module = crate::source::parse(source, path)?;
        let mut walker = Walker {
            source,
            lines: module.lines(),
            bindings: import_bindings(module.body()),
            out: DecoratorExtraction::default(),
            declared: HashMap::new(),
        };
        for_each_stmt(module.body(), &mut |stmt| {
            if let ast::Stmt::FunctionDef(def) = stmt {
                walker.function(def);
            }
        });
        let mut out = walker.out;
        // Stable, so diagnostics at one position keep the order they were found in.
        out.diagnostics.sort_by_key(|d| (d.line, d.column));
        Ok(out)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Processor,
    Parameter,
}

fn kind_of_name(name: &str) -> Option<Kind> {
    match name {
        "data_processor" => Some(Kind::Processor),
        "parameter" => Some(Kind::Parameter),
        _ => None,
    }
}

/// Local names bound by imports anywhere in the file, and which decorator (if any) each is.
///
/// Only the imported name matters, not the module: the decorators have lived in `mlreef`,
/// `annotations.parameter_annotations` and others. The walk is flow-insensitive because scripts
/// import inside `try` blocks and functions as often as at the top.
fn import_bindings(body: &[ast::Stmt]) -> HashMap<String, Option<Kind>> {
    let mut bindings = HashMap::new();
    for_each_stmt(body, &mut |stmt| match stmt {
        ast::Stmt::ImportFrom(import) => {
            for alias in &import.names {
                let imported = alias.name.id.as_str();
                let local = alias.asname.as_ref().map_or(imported, |a| a.id.as_str());
                if imported != "*" {
                    bindings.insert(local.to_owned(), kind_of_name(imported));
                }
            }
        }
        ast::Stmt::Import(import) => {
            // `import a.b` binds `a`, which is then a module, not a decorator.
            for alias in &import.names {
                let local = alias.asname.as_ref().map_or_else(
                    || alias.name.id.as_str().split('.').next().unwrap_or_default(),
                    |a| a.id.as_str(),
                );
                bindings.insert(local.to_owned(), None);
            }
        }
        _ => {}
    });
    bindings
}

/// Calls `f` on every statement, nested ones included, in source order.
fn for_each_stmt<'a>(body: &'a [ast::Stmt], f: &mut impl FnMut(&'a ast::Stmt)) {
    for stmt in body {
        f(stmt);
        match stmt {
            ast::Stmt::FunctionDef(def) => for_each_stmt(&def.body, f),
            ast::Stmt::ClassDef(class) => for_each_stmt(&class.body, f),
            ast::Stmt::If(branch) => {
                for_each_stmt(&branch.body, f);
                for clause in &branch.elif_else_clauses {
                    for_each_stmt(&clause.body, f);
                }
            }
            ast::Stmt::For(each) => {
                for_each_stmt(&each.body, f);
                for_each_stmt(&each.orelse, f);
            }
            ast::Stmt::While(repeat) => {
                for_each_stmt(&repeat.body, f);
                for_each_stmt(&repeat.orelse, f);
            }
            ast::Stmt::With(with) => for_each_stmt(&with.body, f),
            ast::Stmt::Try(attempt) => {
                for_each_stmt(&attempt.body, f);
                for ast::ExceptHandler::ExceptHandler(handler) in &attempt.handlers {
                    for_each_stmt(&handler.body, f);
                }
                for_each_stmt(&attempt.orelse, f);
                for_each_stmt(&attempt.finalbody, f);
            }
            ast::Stmt::Match(switch) => {
                for case in &switch.cases {
                    for_each_stmt(&case.body, f);
                }
            }
            _ => {}
        }
    }
}

/// The `@parameter` fields in positional order.
const FIELDS: [&str; 5] = ["name", "type", "required", "defaultValue", "description"];

fn field_of_keyword(keyword: &str) -> Option<usize> {
    match keyword {
        "name" => Some(0),
        "type" | "datatype" => Some(1),
        "required" => Some(2),
        "defaultValue" | "default_value" => Some(3),
        "description" => Some(4),
        _ => None,
    }
}

struct Walker<'a> {
    source: &'a str,
    lines: &'a LineIndex,
    bindings: HashMap<String, Option<Kind>>,
    out: DecoratorExtraction,
    /// Parameter names already declared, with the line of their declaration.
    declared: HashMap<String, usize>,
}

impl Walker<'_> {
    fn position(&self, node: &impl Ranged) -> (usize, usize) {
        self.lines.position(self.source, node.start().to_usize())
    }

    fn text(&self, node: &impl Ranged) -> &str {
        self.source
            .get(node.range().to_std_range())
            .unwrap_or_default()
    }

    fn diagnose(&mut self, severity: Severity, code: &str, message: String, at: (usize, usize)) {
        self.out.diagnostics.push(Diagnostic {
            severity,
            code: code.to_owned(),
            message,
            line: at.0,
            column: at.1,
            file: None,
        });
    }

    fn kind(&self, callee: &ast::Expr) -> Option<Kind> {
        match callee {
            ast::Expr::Name(name) => {
                let id = name.id.as_str();
                // An unimported bare name counts: legacy examples often define or omit them.
                self.bindings
                    .get(id)
                    .copied()
                    .unwrap_or_else(|| kind_of_name(id))
            }
            ast::Expr::Attribute(attribute) if is_dotted(&attribute.value) => {
                kind_of_name(attribute.attr.id.as_str())
            }
            _ => None,
        }
    }

    fn function(&mut self, def: &ast::StmtFunctionDef) {
        let mut has_processor = false;
        let mut first_parameter = None;
        // Python applies decorators bottom-up, but authors write and read the parameter list
        // top-down, and the form shows it in that order: keep source order.
        for decorator in &def.decorator_list {
            let expression = &decorator.expression;
            let (callee, arguments) = match expression {
                ast::Expr::Call(call) => (&*call.func, Some(&call.arguments)),
                other => (other, None),
            };
            let at = self.position(expression);
            match self.kind(callee) {
                Some(Kind::Processor) => {
                    has_processor = true;
                    self.processor(def.name.id.as_str(), arguments, at);
                }
                Some(Kind::Parameter) => {
                    first_parameter.get_or_insert(at);
                    self.parameter(arguments, at);
                }
                None => {}
            }
        }
        if let Some(at) = first_parameter
            && !has_processor
        {
            self.diagnose(
                Severity::Warning,
                "no-processor",
                format!(
                    "`{}` has @parameter decorators but no @data_processor; \
                     its parameters are listed, but nothing describes the module",
                    def.name.id.as_str()
                ),
                at,
            );
        }
    }

    fn processor(
        &mut self,
        function: &str,
        arguments: Option<&ast::Arguments>,
        at: (usize, usize),
    ) {
        let mut processor = Processor {
            function: function.to_owned(),
            line: at.0,
            column: at.1,
            ..Processor::default()
        };
        if let Some(arguments) = arguments {
            if !arguments.args.is_empty() {
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    "@data_processor takes keyword arguments only; its positional arguments are \
                     ignored"
                        .to_owned(),
                    at,
                );
            }
            for keyword in &arguments.keywords {
                let Some(arg) = &keyword.arg else {
                    self.diagnose(
                        Severity::Warning,
                        "invalid-argument",
                        format!(
                            "`{}` cannot be read without running the script; it is ignored",
                            self.text(keyword)
                        ),
                        at,
                    );
                    continue;
                };
                let arg = arg.id.as_str();
                // `inputType`/`outputType` are the spellings of the earliest MLReef examples.
                let field = match arg {
                    "name" => &mut processor.name,
                    "author" => &mut processor.author,
                    "type" => &mut processor.kind,
                    "description" => &mut processor.description,
                    "visibility" => &mut processor.visibility,
                    "input_type" | "inputType" => &mut processor.input_type,
                    "output_type" | "outputType" => &mut processor.output_type,
                    _ => {
                        self.diagnose(
                            Severity::Warning,
                            "unknown-keyword",
                            format!("@data_processor has no keyword `{arg}`; it is ignored"),
                            at,
                        );
                        continue;
                    }
                };
                if let Some(text) = string_literal(&keyword.value) {
                    *field = Some(text);
                } else {
                    let written = self.text(&keyword.value).to_owned();
                    self.diagnose(
                        Severity::Warning,
                        "invalid-argument",
                        format!("@data_processor `{arg}` should be a string literal, not `{written}`; it is ignored"),
                        at,
                    );
                }
            }
        }
        if let Some(kept) = &self.out.processor {
            let message = format!(
                "a second @data_processor (on `{function}`) is ignored; the module is described \
                 by the one on `{}` at line {}",
                kept.function, kept.line
            );
            self.diagnose(Severity::Warning, "duplicate-processor", message, at);
        } else {
            self.out.processor = Some(processor);
        }
    }

    fn parameter(&mut self, arguments: Option<&ast::Arguments>, at: (usize, usize)) {
        let mut fields: [Option<&ast::Expr>; 5] = [None; 5];
        // After `*args` or `**kwargs` any field may have been given, so none is called missing.
        let opaque = arguments.is_some_and(|a| self.collect_fields(a, &mut fields, at));
        let [name, kind, required, default, description] = fields;

        let name = match name.map(|e| (e, string_literal(e))) {
            Some((_, Some(name))) if !name.is_empty() => name,
            Some((expression, _)) => {
                let written = self.text(expression).to_owned();
                self.diagnose(
                    Severity::Error,
                    "missing-name",
                    format!(
                        "@parameter name `{written}` is not a non-empty string literal; the \
                         parameter is skipped, since it cannot exist without a name"
                    ),
                    at,
                );
                return;
            }
            None => {
                let readable = if opaque { " that can be read" } else { "" };
                self.diagnose(
                    Severity::Error,
                    "missing-name",
                    format!(
                        "@parameter has no name{readable}; the parameter is skipped, since it \
                         cannot exist without one"
                    ),
                    at,
                );
                return;
            }
        };
        if let Some(first) = self.declared.get(&name) {
            let message = format!(
                "parameter `{name}` is declared again; this declaration is ignored and the first, \
                 at line {first}, is kept"
            );
            self.diagnose(Severity::Error, "duplicate-parameter", message, at);
            return;
        }
        self.declared.insert(name.clone(), at.0);

        let python_type = match kind {
            None => {
                if !opaque {
                    self.diagnose(
                        Severity::Warning,
                        "missing-type",
                        format!(
                            "parameter `{name}` has no type; its type comes from the default \
                             (STRING without one)"
                        ),
                        at,
                    );
                }
                None
            }
            Some(expression) => self.python_type(&name, expression, at),
        };

        let required = required.is_some_and(|e| self.required(&name, e, at));

        let (default, default_expr) = match default {
            None => {
                if !required && !opaque {
                    self.diagnose(
                        Severity::Info,
                        "missing-default",
                        format!(
                            "optional parameter `{name}` has no default; it is null unless given"
                        ),
                        at,
                    );
                }
                (Json::Null, None)
            }
            Some(expression) => {
                if let Some(value) = literal(expression) {
                    (value, None)
                } else {
                    let written = self.text(expression).to_owned();
                    self.diagnose(
                        Severity::Warning,
                        "dynamic-default",
                        format!(
                            "the default of `{name}`, `{written}`, is not a literal that can be \
                             read without running the script; it is left null"
                        ),
                        at,
                    );
                    (Json::Null, Some(written))
                }
            }
        };

        let help = description.and_then(|expression| {
            let text = string_literal(expression);
            if text.is_none() {
                let written = self.text(expression).to_owned();
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    format!("the description of `{name}`, `{written}`, is not a string literal; it is ignored"),
                    at,
                );
            }
            text
        });

        let mut parameter = Parameter {
            dest: Some(name.replace('-', "_")),
            flags: vec![format!("--{name}")],
            name: Some(name),
            action: Action::Store,
            python_type,
            schema_type: ParameterType::Undefined,
            default,
            default_expr,
            required,
            choices: None,
            nargs: None,
            constant: Json::Null,
            help,
            metavar: None,
            group: None,
            subcommand: None,
            line: at.0,
            column: at.1,
            file: None,
        };
        parameter.schema_type = parameter.inferred_type();
        self.out.parameters.push(parameter);
    }

    /// Places positional and keyword arguments into `fields` the way Python binds them.
    /// Returns whether a `*args` or `**kwargs` may have given fields that cannot be read.
    fn collect_fields<'e>(
        &mut self,
        arguments: &'e ast::Arguments,
        fields: &mut [Option<&'e ast::Expr>; 5],
        at: (usize, usize),
    ) -> bool {
        let mut opaque = false;
        for (index, argument) in arguments.args.iter().enumerate() {
            if let ast::Expr::Starred(_) = argument {
                let written = self.text(argument).to_owned();
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    format!(
                        "`{written}` cannot be read without running the script; it and the \
                         positional arguments after it are ignored"
                    ),
                    at,
                );
                opaque = true;
                break;
            }
            if let Some(field) = fields.get_mut(index) {
                *field = Some(argument);
            } else {
                let written = self.text(argument).to_owned();
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    format!(
                        "@parameter takes at most 5 positional arguments; `{written}` is ignored"
                    ),
                    at,
                );
            }
        }
        for keyword in &arguments.keywords {
            let Some(arg) = &keyword.arg else {
                let written = self.text(keyword).to_owned();
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    format!("`{written}` cannot be read without running the script; it is ignored"),
                    at,
                );
                opaque = true;
                continue;
            };
            let arg = arg.id.as_str();
            let Some(index) = field_of_keyword(arg) else {
                let hint = match arg {
                    "default" => " (did you mean `defaultValue`?)",
                    "help" => " (did you mean `description`?)",
                    _ => "",
                };
                self.diagnose(
                    Severity::Warning,
                    "unknown-keyword",
                    format!("@parameter has no keyword `{arg}`{hint}; it is ignored"),
                    at,
                );
                continue;
            };
            if fields[index].is_some() {
                // Python itself would refuse the call ("got multiple values for argument").
                self.diagnose(
                    Severity::Warning,
                    "invalid-argument",
                    format!(
                        "@parameter `{}` is given twice; `{arg}=` is ignored",
                        FIELDS[index]
                    ),
                    at,
                );
            } else {
                fields[index] = Some(&keyword.value);
            }
        }
        opaque
    }

    fn python_type(
        &mut self,
        name: &str,
        expression: &ast::Expr,
        at: (usize, usize),
    ) -> Option<String> {
        // The convention asks for a string, but `type=int` says the same thing.
        let written = match expression {
            ast::Expr::StringLiteral(text) => text.value.to_str().to_owned(),
            ast::Expr::Name(id) => id.id.as_str().to_owned(),
            other => {
                let text = self.text(other).to_owned();
                self.diagnose(
                    Severity::Warning,
                    "unknown-type",
                    format!("the type of `{name}`, `{text}`, is not a type name; its type comes from the default"),
                    at,
                );
                return None;
            }
        };
        if let Some(known) = python_type_name(&written) {
            return Some(known.to_owned());
        }
        self.diagnose(
            Severity::Warning,
            "unknown-type",
            format!(
                "the type of `{name}`, `{written}`, is not one of int, float, str, bool, list, \
                 dict, tuple, complex; its type comes from the default"
            ),
            at,
        );
        Some(written)
    }

    fn required(&mut self, name: &str, expression: &ast::Expr, at: (usize, usize)) -> bool {
        if let ast::Expr::BooleanLiteral(flag) = expression {
            return flag.value;
        }
        let written = self.text(expression).to_owned();
        // Python would take any non-empty string as true, but `"False"` plainly means false.
        let (value, reading) = match string_literal(expression)
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            Some("true") => (true, "read as True"),
            Some("false") => (false, "read as False"),
            _ => (false, "the parameter is treated as optional"),
        };
        self.diagnose(
            Severity::Warning,
            "invalid-argument",
            format!("`required` of `{name}` should be True or False, not `{written}`; {reading}"),
            at,
        );
        value
    }
}

/// The legacy type names, mapped to Python's (the names `converter_type` understands).
fn python_type_name(written: &str) -> Option<&'static str> {
    Some(match written.to_ascii_lowercase().as_str() {
        "int" | "integer" => "int",
        "float" => "float",
        "str" | "string" => "str",
        "bool" | "boolean" => "bool",
        "list" => "list",
        "dict" | "dictionary" => "dict",
        "tuple" => "tuple",
        "complex" => "complex",
        _ => return None,
    })
}

/// `a`, `a.b`, `a.b.c`: something an import can bind.
fn is_dotted(expression: &ast::Expr) -> bool {
    let mut current = expression;
    loop {
        match current {
            ast::Expr::Name(_) => return true,
            ast::Expr::Attribute(attribute) => current = &attribute.value,
            _ => return false,
        }
    }
}

fn string_literal(expression: &ast::Expr) -> Option<String> {
    match expression {
        ast::Expr::StringLiteral(text) => Some(text.value.to_str().to_owned()),
        _ => None,
    }
}

/// The value of a literal as JSON, the way `json.dumps` would write the Python value; `None`
/// when the expression is not a literal or has no JSON form (bytes, sets, `nan`, huge ints).
fn literal(expression: &ast::Expr) -> Option<Json> {
    match expression {
        ast::Expr::StringLiteral(text) => Some(Json::String(text.value.to_str().to_owned())),
        ast::Expr::BooleanLiteral(flag) => Some(Json::Bool(flag.value)),
        ast::Expr::NoneLiteral(_) => Some(Json::Null),
        ast::Expr::NumberLiteral(_) | ast::Expr::UnaryOp(_) => signed_number(expression),
        ast::Expr::List(ast::ExprList { elts, .. })
        | ast::Expr::Tuple(ast::ExprTuple { elts, .. }) => elts
            .iter()
            .map(literal)
            .collect::<Option<Vec<_>>>()
            .map(Json::Array),
        ast::Expr::Dict(dict) => {
            let mut object = serde_json::Map::new();
            for item in &dict.items {
                let key = match literal(item.key.as_ref()?)? {
                    Json::String(text) => text,
                    // json.dumps turns these keys into strings the same way.
                    Json::Number(n) if !n.is_f64() => n.to_string(),
                    Json::Bool(flag) => flag.to_string(),
                    Json::Null => "null".to_owned(),
                    _ => return None,
                };
                object.insert(key, literal(&item.value)?);
            }
            Some(Json::Object(object))
        }
        _ => None,
    }
}

/// A number under any run of unary `+`/`-`, unwound in a loop so that `------1` costs no stack.
fn signed_number(expression: &ast::Expr) -> Option<Json> {
    let mut negative = false;
    let mut current = expression;
    while let ast::Expr::UnaryOp(unary) = current {
        match unary.op {
            ast::UnaryOp::USub => negative = !negative,
            ast::UnaryOp::UAdd => {}
            _ => return None,
        }
        current = &unary.operand;
    }
    let ast::Expr::NumberLiteral(number) = current else {
        return None;
    };
    match &number.value {
        ast::Number::Int(int) => {
            let magnitude = int.as_u64()?;
            if !negative {
                return Some(Json::from(magnitude));
            }
            if magnitude == 1 << 63 {
                Some(Json::from(i64::MIN))
            } else {
                i64::try_from(magnitude).ok().map(|m| Json::from(-m))
            }
        }
        ast::Number::Float(value) => {
            serde_json::Number::from_f64(if negative { -value } else { *value }).map(Json::Number)
        }
        ast::Number::Complex { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_position() {
        let source = "@parameter('epochs', 'int')\ndef train(:\n    pass\n";
        match extract(source) {
            Err(Error::Syntax {
                path,
                line,
                column,
                message,
            }) => {
                assert_eq!(path, None);
                assert_eq!((line, column), (2, 11), "{message}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn no_decorators_is_empty() {
        let source = "import argparse\n\n@staticmethod\ndef main():\n    return 1\n";
        assert_eq!(extract(source).unwrap(), DecoratorExtraction::default());
        assert_eq!(extract("").unwrap(), DecoratorExtraction::default());
    }

    #[test]
    fn garbage_never_panics() {
        let deep_minus = format!(
            "@parameter('x', 'int', False, {}1)\ndef f(): ...\n",
            "-".repeat(50_000)
        );
        let deep_list = format!(
            "@parameter('x', 'int', False, {}{})\ndef f(): ...\n",
            "[".repeat(150),
            "]".repeat(150)
        );
        let inputs = [
            "\0\u{feff}\u{1F600}",
            "@",
            "@parameter(",
            "@parameter\ndef f(): ...",
            "@parameter()()\n@data_processor\nclass C: ...",
            "@parameter(*a, **k)\n@(lambda f: f)\ndef f(): ...",
            "@parameter(1, 2, 3, 4, 5, 6, 7, name=None, name2=[])\ndef f(): ...",
            "@parameter('a', default_value={1: 2, None: [(), {}], 3.5: 1})\ndef f(): ...",
            "@parameter('a', defaultValue=-9223372036854775808)\ndef f(): ...",
            "@parameter('b', defaultValue=-99999999999999999999999)\ndef f(): ...",
            "@parameter('c', defaultValue=1e999)\ndef f(): ...",
            "\r\r\n\t@parameter('x')\n",
            "def f(\n",
            &deep_minus,
            &deep_list,
        ];
        for input in inputs {
            let _ = extract(input);
        }
        let extraction = extract(&deep_minus).unwrap();
        assert_eq!(extraction.parameters[0].default, Json::from(1));
    }

    #[test]
    fn literal_edges() {
        let source = "@data_processor()\n\
            @parameter('a', 'int', False, -9223372036854775808)\n\
            @parameter('b', 'int', False, 18446744073709551615)\n\
            @parameter('c', 'int', False, -18446744073709551615)\n\
            @parameter('d', 'float', False, 1e999)\n\
            @parameter('e', 'dict', False, {1: True, 'k': None, True: 'x'})\n\
            def f(): ...\n";
        let extraction = extract(source).unwrap();
        let defaults: Vec<_> = extraction
            .parameters
            .iter()
            .map(|p| p.default.clone())
            .collect();
        assert_eq!(
            defaults,
            [
                Json::from(i64::MIN),
                Json::from(u64::MAX),
                Json::Null,
                Json::Null,
                serde_json::json!({"1": true, "k": null, "true": "x"}),
            ]
        );
        assert_eq!(
            extraction.parameters[2].default_expr.as_deref(),
            Some("-18446744073709551615")
        );
        assert_eq!(
            extraction.parameters[3].default_expr.as_deref(),
            Some("1e999")
        );
    }
}
