//! Statements: blocks, assignments, definitions, `if`, `for`, `while`, `with`, `try`.

use std::collections::HashMap;

use super::expressions::binary;
use super::{ClassState, Const, Flow, Func, FuncKind, Interp, Scope, Severity, Value, ast};
use crate::python::Ranged;

impl<'a> Interp<'a> {
    // ---- statements ------------------------------------------------------------------------

    pub(super) fn exec_block(&mut self, body: &'a [ast::Stmt]) -> Flow<'a> {
        for stmt in body {
            if self.stopped {
                return Flow::Normal;
            }
            if self.budget.step(1).is_none() {
                self.out_of_budget(stmt.range());
                return Flow::Normal;
            }
            self.findings.start_statement();
            let flow = self.exec(stmt);
            if self.budget.exhausted() {
                self.out_of_budget(stmt.range());
                return Flow::Normal;
            }
            if !matches!(flow, Flow::Normal) {
                return flow;
            }
        }
        Flow::Normal
    }

    pub(super) fn exec(&mut self, stmt: &'a ast::Stmt) -> Flow<'a> {
        use ast::Stmt;
        match stmt {
            Stmt::Expr(e) => {
                self.eval(&e.value);
            }
            Stmt::Assign(a) => {
                let v = self.eval(&a.value);
                for t in &a.targets {
                    self.assign(t, v.clone());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    let v = self.eval(value);
                    self.assign(&a.target, v);
                }
            }
            Stmt::AugAssign(a) => {
                let current = self.eval(&a.target);
                let rhs = self.eval(&a.value);
                let v = binary(a.op, &current, &rhs, &self.budget);
                self.assign(&a.target, v);
            }
            Stmt::FunctionDef(def) => {
                let kind =
                    def.decorator_list
                        .iter()
                        .fold(FuncKind::Plain, |k, d| match &d.expression {
                            ast::Expr::Name(n) if n.id.as_str() == "staticmethod" => {
                                FuncKind::Static
                            }
                            ast::Expr::Name(n) if n.id.as_str() == "classmethod" => {
                                FuncKind::ClassMethod
                            }
                            _ => k,
                        });
                let f = Func {
                    def,
                    module: self.module(),
                    kind,
                };
                self.bind(def.name.id.as_str(), Value::Function(f));
            }
            Stmt::ClassDef(def) => self.exec_class(def),
            Stmt::Return(r) => {
                let v = r
                    .value
                    .as_ref()
                    .map_or(Value::Const(Const::None), |e| self.eval(e));
                return Flow::Return(v);
            }
            Stmt::If(s) => return self.exec_if(s),
            Stmt::For(f) => return self.exec_for(f),
            Stmt::While(w) => {
                if self.eval(&w.test).truthy() != Some(false)
                    && let flow @ Flow::Return(_) = self.exec_block(&w.body)
                {
                    return flow;
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    self.eval(&item.context_expr);
                    if let Some(t) = &item.optional_vars {
                        self.assign(t, Value::Unknown);
                    }
                }
                return self.exec_block(&w.body);
            }
            Stmt::Try(t) => {
                let flow = self.exec_block(&t.body);
                if !matches!(flow, Flow::Normal) {
                    return flow;
                }
                let flow = self.exec_block(&t.orelse);
                if !matches!(flow, Flow::Normal) {
                    return flow;
                }
                return self.exec_block(&t.finalbody);
            }
            Stmt::Import(i) => self.exec_import(i),
            Stmt::ImportFrom(i) => self.exec_import_from(i),
            Stmt::Break(_) => return Flow::Break,
            Stmt::Continue(_) => return Flow::Continue,
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let ast::Expr::Name(n) = t {
                        self.bind(n.id.as_str(), Value::Unknown);
                    }
                }
            }
            _ => {}
        }
        Flow::Normal
    }

    pub(super) fn exec_if(&mut self, s: &'a ast::StmtIf) -> Flow<'a> {
        let mut branches: Vec<(Option<&'a ast::Expr>, &'a [ast::Stmt])> =
            vec![(Some(&*s.test), &s.body)];
        for clause in &s.elif_else_clauses {
            branches.push((clause.test.as_ref(), &clause.body));
        }
        let mut unknown = false;
        for (test, body) in branches {
            let truth = match test {
                Some(t) => self.eval(t).truthy(),
                None => Some(true),
            };
            // What decided the condition decides which arguments exist.
            let condition = self.findings.flow().clone();
            match truth {
                Some(true) if !unknown => {
                    self.findings.push_control(condition);
                    let flow = self.exec_block(body);
                    self.findings.pop_control();
                    return flow;
                }
                Some(false) => {
                    if !condition.is_empty() && self.declares_arguments(body) {
                        self.findings.use_flow();
                    }
                }
                // A condition we cannot decide: the arguments of every branch are possible,
                // so we follow them all.
                _ => {
                    unknown = true;
                    let before = self.model.actions.len();
                    self.findings.push_control(condition);
                    let flow = self.exec_block(body);
                    self.findings.pop_control();
                    if self.model.actions.len() > before {
                        self.report(
                            Severity::Info,
                            "conditional-argument",
                            s.test.range(),
                            format!(
                                "arguments are added under a condition that cannot be decided without running the script (`{}`); they are listed as if it held",
                                self.excerpt(test.map_or(s.test.range(), Ranged::range))
                            ),
                        );
                    }
                    if let Flow::Return(_) = flow {
                        return flow;
                    }
                }
            }
        }
        Flow::Normal
    }

    /// Whether skipping `body` may leave parameters out: it mentions argparse's calls.
    fn declares_arguments(&self, body: &[ast::Stmt]) -> bool {
        let (Some(first), Some(last)) = (body.first(), body.last()) else {
            return false;
        };
        let text = self
            .modules
            .text(self.module(), first.range().cover(last.range()));
        [
            "add_argument",
            "add_parser",
            "set_defaults",
            "ArgumentParser",
        ]
        .iter()
        .any(|call| text.contains(call))
    }

    pub(super) fn exec_for(&mut self, f: &'a ast::StmtFor) -> Flow<'a> {
        let iterable = self.eval(&f.iter);
        let items = iterable.items(&self.budget);
        // What the loop runs over decides which arguments its body adds.
        let over = self.findings.flow().clone();
        self.findings.push_control(over);
        let flow = if let Some(items) = items {
            self.exec_loop(f, items)
        } else {
            // Unknown iterable: one pass with an unknown loop variable, so that arguments
            // added in the body are still reported (as dynamic).
            self.assign(&f.target, Value::Unknown);
            let before = self.model.actions.len();
            let flow = match self.exec_block(&f.body) {
                flow @ Flow::Return(_) => flow,
                _ => Flow::Normal,
            };
            if self.model.actions.len() > before {
                self.report(
                    Severity::Info,
                    "dynamic-loop",
                    f.iter.range(),
                    format!(
                        "cannot evaluate the loop over `{}`; the arguments it adds are listed once",
                        self.excerpt(f.iter.range())
                    ),
                );
            }
            flow
        };
        self.findings.pop_control();
        flow
    }

    fn exec_loop(&mut self, f: &'a ast::StmtFor, items: Vec<Value<'a>>) -> Flow<'a> {
        let over = self.findings.flow().clone();
        for item in items {
            // Each pass binds the loop variable with what the iterable depended on.
            let _ = self.findings.replace_flow(over.clone());
            self.assign(&f.target, item);
            match self.exec_block(&f.body) {
                Flow::Break => return Flow::Normal,
                flow @ Flow::Return(_) => return flow,
                _ => {}
            }
            if self.stopped {
                return Flow::Normal;
            }
        }
        self.exec_block(&f.orelse)
    }

    pub(super) fn exec_class(&mut self, def: &'a ast::StmtClassDef) {
        let bases: Vec<Value<'a>> = def
            .arguments
            .as_ref()
            .map(|a| a.args.iter().map(|b| self.eval(b)).collect())
            .unwrap_or_default();
        let id = self.classes.len();
        self.classes.push(ClassState {
            name: def.name.id.to_string(),
            attrs: HashMap::new(),
            bases,
        });
        let module = self.module();
        self.frames.push(Scope::Class { module, class: id });
        let _ = self.exec_block(&def.body);
        self.frames.pop();
        self.bind(def.name.id.as_str(), Value::Class(id));
    }
}
