//! Which top-level statements of a module a name depends on, read from the syntax alone: the
//! index that lets an imported module run only as far as the names the script needs.
//!
//! A statement *touches* a name when it binds it (assignments, definitions, imports, loop and
//! `with` targets, at any depth outside function bodies), or may change it: the name is the
//! receiver or an argument of a call in the statement (`PARSER.add_argument(...)`,
//! `register(CONFIG)`), or the root of a subscript or attribute it assigns, or a global that a
//! function of the module called by the statement may change the same ways (transitively).
//! Running a module up to the last statement that touches a name gives the name the value it
//! has after the whole module ran, unless something changes it in a way this cannot see
//! (`globals()`, `setattr` on the module object).

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};

use crate::python::ast;

pub(super) struct Plan {
    /// For each name, the last top-level statement that touches it.
    last: HashMap<String, usize>,
    /// Top-level `from m import *` statements.
    stars: Vec<usize>,
}

impl Plan {
    pub(super) fn new(body: &[ast::Stmt]) -> Plan {
        // What each function of the module may change when called.
        let mut effects: HashMap<&str, Touched> = HashMap::new();
        for stmt in body {
            if let ast::Stmt::FunctionDef(def) = stmt {
                let mut touched = Touched::default();
                for s in &def.body {
                    touched.visit_stmt(s);
                }
                // Inside a function, plain assignments bind locals.
                touched.bound.clear();
                effects.insert(def.name.id.as_str(), touched);
            }
        }
        let mut last = HashMap::new();
        let mut stars = Vec::new();
        for (i, stmt) in body.iter().enumerate() {
            if let ast::Stmt::ImportFrom(import) = stmt
                && import.names.iter().any(|a| a.name.id.as_str() == "*")
            {
                stars.push(i);
            }
            let mut touched = Touched::default();
            touched.visit_stmt(stmt);
            let mut names: HashSet<String> = touched.bound.into_iter().collect();
            names.extend(touched.changed.iter().cloned());
            // Functions the statement calls, and those they call.
            let mut pending: Vec<String> = touched.changed.into_iter().collect();
            let mut seen = HashSet::new();
            while let Some(called) = pending.pop() {
                if !seen.insert(called.clone()) {
                    continue;
                }
                if let Some(effect) = effects.get(called.as_str()) {
                    for name in &effect.changed {
                        names.insert(name.clone());
                        pending.push(name.clone());
                    }
                }
            }
            for name in names {
                last.insert(name, i);
            }
        }
        Plan { last, stars }
    }

    pub(super) fn last(&self, name: &str) -> Option<&usize> {
        self.last.get(name)
    }

    pub(super) fn stars(&self) -> &[usize] {
        &self.stars
    }
}

/// The names one statement binds and may change (a function's body is not followed: it runs
/// when called).
#[derive(Default)]
struct Touched {
    bound: Vec<String>,
    changed: HashSet<String>,
}

/// The name at the root of `a.b[c].d`, if it is a name.
fn root(expr: &ast::Expr) -> Option<&str> {
    match expr {
        ast::Expr::Name(n) => Some(n.id.as_str()),
        ast::Expr::Attribute(a) => root(&a.value),
        ast::Expr::Subscript(s) => root(&s.value),
        ast::Expr::Call(c) => root(&c.func),
        ast::Expr::Starred(s) => root(&s.value),
        _ => None,
    }
}

impl Touched {
    fn bind_target(&mut self, target: &ast::Expr) {
        match target {
            ast::Expr::Name(n) => self.bound.push(n.id.to_string()),
            ast::Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_target(e)),
            ast::Expr::List(l) => l.elts.iter().for_each(|e| self.bind_target(e)),
            ast::Expr::Starred(s) => self.bind_target(&s.value),
            // `CONFIG["lr"] = ...`, `args.x = ...` change what the root names.
            other => {
                if let Some(name) = root(other) {
                    self.changed.insert(name.to_owned());
                }
            }
        }
    }
}

impl<'a> Visitor<'a> for Touched {
    fn visit_stmt(&mut self, stmt: &'a ast::Stmt) {
        match stmt {
            ast::Stmt::FunctionDef(def) => {
                self.bound.push(def.name.id.to_string());
                // Decorators and defaults run now; the body runs when called.
                for decorator in &def.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                for p in def.parameters.iter_non_variadic_params() {
                    if let Some(default) = &p.default {
                        self.visit_expr(default);
                    }
                }
            }
            ast::Stmt::ClassDef(def) => {
                self.bound.push(def.name.id.to_string());
                visitor::walk_stmt(self, stmt);
            }
            ast::Stmt::Assign(a) => {
                for t in &a.targets {
                    self.bind_target(t);
                }
                self.visit_expr(&a.value);
            }
            ast::Stmt::AnnAssign(a) => {
                self.bind_target(&a.target);
                if let Some(v) = &a.value {
                    self.visit_expr(v);
                }
            }
            ast::Stmt::AugAssign(a) => {
                self.bind_target(&a.target);
                if let Some(name) = root(&a.target) {
                    self.changed.insert(name.to_owned());
                }
                self.visit_expr(&a.value);
            }
            ast::Stmt::For(f) => {
                self.bind_target(&f.target);
                visitor::walk_stmt(self, stmt);
            }
            ast::Stmt::With(w) => {
                for item in &w.items {
                    if let Some(t) = &item.optional_vars {
                        self.bind_target(t);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            ast::Stmt::Delete(d) => {
                for t in &d.targets {
                    self.bind_target(t);
                }
            }
            ast::Stmt::Global(g) => {
                for name in &g.names {
                    self.changed.insert(name.id.to_string());
                }
            }
            ast::Stmt::Import(i) => {
                for alias in &i.names {
                    let name = alias.asname.as_ref().map_or_else(
                        || alias.name.id.split('.').next().unwrap_or_default(),
                        |a| a.id.as_str(),
                    );
                    self.bound.push(name.to_owned());
                }
            }
            ast::Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    let name = alias.asname.as_ref().unwrap_or(&alias.name).id.as_str();
                    if name != "*" {
                        self.bound.push(name.to_owned());
                    }
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a ast::Expr) {
        match expr {
            ast::Expr::Call(call) => {
                if let Some(name) = root(&call.func) {
                    self.changed.insert(name.to_owned());
                }
                for arg in &call.arguments.args {
                    if let Some(name) = root(arg) {
                        self.changed.insert(name.to_owned());
                    }
                }
                for keyword in &call.arguments.keywords {
                    if let Some(name) = root(&keyword.value) {
                        self.changed.insert(name.to_owned());
                    }
                }
                visitor::walk_expr(self, expr);
            }
            ast::Expr::Named(n) => {
                self.bind_target(&n.target);
                self.visit_expr(&n.value);
            }
            // A lambda's body runs when called.
            ast::Expr::Lambda(_) => {}
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::parse_module;

    fn last(source: &str, name: &str) -> Option<usize> {
        let parsed = parse_module(source).unwrap();
        Plan::new(parsed.body()).last(name).copied()
    }

    #[test]
    fn bindings_and_changes_are_touches() {
        let source = "\
import argparse
PARSER = argparse.ArgumentParser()
DEFAULTS = {}
PARSER.add_argument('--lr')
DEFAULTS['lr'] = 0.1
def add_common():
    PARSER.add_argument('--seed')
add_common()
X = 1
print(X)
def unrelated():
    return X
";
        assert_eq!(last(source, "argparse"), Some(1));
        // Changed directly at 3, and through `add_common()` at 6.
        assert_eq!(last(source, "PARSER"), Some(6));
        assert_eq!(last(source, "DEFAULTS"), Some(4));
        // Passed to a call at 8 (it might change it).
        assert_eq!(last(source, "X"), Some(8));
        assert_eq!(last(source, "unrelated"), Some(9));
        assert_eq!(last(source, "missing"), None);
    }

    #[test]
    fn nested_bindings_and_star_imports() {
        let source = "\
from .layers import *
try:
    import torch
except ImportError:
    torch = None
if True:
    for NAME in ['a']:
        pass
";
        let parsed = parse_module(source).unwrap();
        let plan = Plan::new(parsed.body());
        assert_eq!(plan.stars(), &[0]);
        assert_eq!(plan.last("torch"), Some(&1));
        assert_eq!(plan.last("NAME"), Some(&2));
    }
}
