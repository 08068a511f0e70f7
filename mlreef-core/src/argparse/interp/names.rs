//! Scopes: looking names up, binding them, and assigning to targets (names, unpacking,
//! attributes, subscripts). A name remembers the taint of the statement that bound it (see
//! `findings`), and reading it passes that taint on.

use std::rc::Rc;

use super::builtins::{BUILTINS, set_item};
use super::{Interp, Scope, Value, ast};

impl<'a> Interp<'a> {
    pub(super) fn lookup(&mut self, name: &str) -> Value<'a> {
        match self.frames.last() {
            Some(Scope::Function { locals, .. }) => {
                if let Some((v, taint)) = locals.get(name) {
                    let v = v.clone();
                    if let Some(taint) = taint {
                        let taint = taint.clone();
                        self.findings.read(&taint);
                    }
                    return v;
                }
            }
            Some(Scope::Class { class, .. }) => {
                if let Some(v) = self.classes[*class].attrs.get(name) {
                    return v.clone();
                }
            }
            _ => {}
        }
        if let Some(v) = self.global(self.module(), name) {
            return v;
        }
        match name {
            "__file__" => Value::Unknown,
            _ => BUILTINS
                .iter()
                .find(|b| **b == name)
                .map_or(Value::Unknown, |b| Value::Builtin(b)),
        }
    }

    pub(super) fn bind(&mut self, name: &str, value: Value<'a>) {
        let module = self.module();
        let taint = self.findings.flow().clone();
        match self.frames.last_mut() {
            Some(Scope::Function { locals, .. }) => locals.set(name, value, &taint),
            Some(Scope::Class { class, .. }) => {
                let class = *class;
                self.classes[class].attrs.insert(name.to_owned(), value);
            }
            _ => self.modules.names_mut(module).set(name, value, &taint),
        }
    }

    /// Gives an existing name a new value where it is defined: mutating a global container
    /// from inside a function changes the global, as Python's objects would.
    pub(super) fn rebind(&mut self, name: &str, value: Value<'a>) {
        let module = self.module();
        let taint = self.findings.flow().clone();
        match self.frames.last_mut() {
            Some(Scope::Function { locals, .. }) if locals.contains(name) => {
                locals.set(name, value, &taint);
            }
            Some(Scope::Class { class, .. }) if self.classes[*class].attrs.contains_key(name) => {
                let class = *class;
                self.classes[class].attrs.insert(name.to_owned(), value);
            }
            _ if self.modules.names_mut(module).contains(name) => {
                self.modules.names_mut(module).set(name, value, &taint);
            }
            _ => self.bind(name, value),
        }
    }

    /// Changes the value of a name in place (`NAME.append(x)`, `NAME[k] = v`): the value is
    /// taken out of its binding while `change` runs, so a container no one else holds is
    /// changed without a copy. `change` gives `None` when it cannot model the change, and the
    /// name then holds an unknown value.
    pub(super) fn change(
        &mut self,
        name: &str,
        change: impl FnOnce(Value<'a>, &super::Budget) -> Option<Value<'a>>,
    ) {
        // Reading it first evaluates it (an import, a module's statements) and passes its
        // taint on.
        let _ = self.lookup(name);
        let module = self.module();
        let slot = match self.frames.last_mut() {
            Some(Scope::Function { locals, .. }) if locals.contains(name) => {
                locals.values.get_mut(name)
            }
            Some(Scope::Class { class, .. }) => self.classes[*class].attrs.get_mut(name),
            _ => None,
        };
        let current = match slot {
            Some(slot) => std::mem::replace(slot, Value::Unknown),
            None => self
                .modules
                .names_mut(module)
                .values
                .get_mut(name)
                .map_or(Value::Unknown, |slot| {
                    std::mem::replace(slot, Value::Unknown)
                }),
        };
        let updated = change(current, &self.budget).unwrap_or(Value::Unknown);
        self.rebind(name, updated);
    }

    pub(super) fn assign(&mut self, target: &'a ast::Expr, value: Value<'a>) {
        match target {
            ast::Expr::Name(n) => self.bind(n.id.as_str(), value),
            ast::Expr::Tuple(ast::ExprTuple { elts, .. })
            | ast::Expr::List(ast::ExprList { elts, .. }) => {
                match value
                    .items(&self.budget)
                    .filter(|items| items.len() == elts.len())
                {
                    Some(items) => {
                        for (t, v) in elts.iter().zip(items) {
                            self.assign(t, v);
                        }
                    }
                    None => {
                        for t in elts {
                            self.assign(t, Value::Unknown);
                        }
                    }
                }
            }
            ast::Expr::Starred(s) => self.assign(&s.value, Value::Unknown),
            ast::Expr::Attribute(attr) => {
                let owner = self.eval(&attr.value);
                let name = attr.attr.id.to_string();
                match owner {
                    Value::Instance(i) => {
                        self.instances[i].1.insert(name, value);
                    }
                    Value::Class(c) => {
                        self.classes[c].attrs.insert(name, value);
                    }
                    Value::Module(m) => {
                        let taint = self.findings.flow().clone();
                        self.modules.names_mut(m).set(&name, value, &taint);
                    }
                    _ => {}
                }
            }
            ast::Expr::Subscript(sub) => {
                // `CONFIG["lr"] = 0.1` changes what later reads of CONFIG see.
                if let ast::Expr::Name(n) = &*sub.value {
                    let key = self.eval(&sub.slice);
                    self.change(n.id.as_str(), |container, budget| {
                        set_item(container, key, value, budget)
                    });
                }
            }
            _ => {}
        }
    }
}

impl<'a> Value<'a> {
    /// A method waiting to be called on this value.
    pub(super) fn method(self, name: &str) -> Value<'a> {
        Value::Method(Rc::new(self), name.into())
    }
}
