//! Expressions: literals, operators, comparisons, subscripts, comprehensions, f-strings and
//! attribute access. Every evaluation spends a unit of the budget, and an operation that
//! refused to build an oversized value is reported as `too-complex` at its expression.

use std::collections::HashSet;

use super::builtins::{compare_consts, external_attr, path_attr, subscript};
use super::{ClassId, Const, FuncKind, Interp, MAX_EVAL_DEPTH, Value, ast};
use crate::argparse::value::{BinOp, Budget, MAX_ITEMS, Nested, format_spec, string};
use crate::parameter::Severity;
use crate::python::Ranged;

impl<'a> Interp<'a> {
    pub(super) fn eval(&mut self, expr: &'a ast::Expr) -> Value<'a> {
        if self.depth >= MAX_EVAL_DEPTH {
            self.report(
                Severity::Warning,
                "too-deep",
                expr.range(),
                "expression nested too deeply to evaluate".into(),
            );
            return Value::Unknown;
        }
        if self.budget.step(1).is_none() {
            return Value::Unknown;
        }
        self.depth += 1;
        let v = self.eval_inner(expr);
        self.depth -= 1;
        if self.budget.take_oversize() {
            self.report(
                Severity::Warning,
                "too-complex",
                expr.range(),
                format!(
                    "`{}` makes a value larger than the extractor evaluates; it is left unknown",
                    self.excerpt(expr.range())
                ),
            );
        }
        v
    }

    fn eval_inner(&mut self, expr: &'a ast::Expr) -> Value<'a> {
        use ast::Expr;
        match expr {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                match self.budget.value(text.len()) {
                    Some(()) => Value::str(text),
                    None => Value::Unknown,
                }
            }
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i
                    .as_i64()
                    .map_or(Value::Unknown, |i| Value::Const(Const::Int(i))),
                ast::Number::Float(f) => Value::Const(Const::Float(*f)),
                ast::Number::Complex { .. } => Value::Unknown,
            },
            Expr::BooleanLiteral(b) => Value::Const(Const::Bool(b.value)),
            Expr::NoneLiteral(_) => Value::Const(Const::None),
            Expr::FString(f) => self.eval_fstring(f),
            Expr::Name(n) => self.lookup(n.id.as_str()),
            Expr::Attribute(a) => {
                let owner = self.eval(&a.value);
                self.attribute(owner, a.attr.id.as_str())
            }
            Expr::List(l) => {
                let items = self.eval_elements(&l.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, false, &self.budget))
            }
            Expr::Tuple(t) => {
                let items = self.eval_elements(&t.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, true, &self.budget))
            }
            Expr::Set(s) => {
                // Set order is not defined in Python; keep the literal's order.
                let items = self.eval_elements(&s.elts);
                items.map_or(Value::Unknown, |i| Value::seq(i, false, &self.budget))
            }
            Expr::Dict(d) => {
                let mut entries = Vec::new();
                for item in &d.items {
                    let value = self.eval(&item.value);
                    match &item.key {
                        Some(k) => {
                            let key = self.eval(k);
                            entries.push((key, value));
                        }
                        None => match value.dict_entries(&self.budget) {
                            Some(more) => entries.extend(more),
                            None => return Value::Unknown,
                        },
                    }
                    if entries.len() > MAX_ITEMS && self.budget.items(entries.len()).is_none() {
                        return Value::Unknown;
                    }
                }
                Value::dict(entries, &self.budget)
            }
            Expr::BinOp(b) => {
                let l = self.eval(&b.left);
                let r = self.eval(&b.right);
                binary(b.op, &l, &r, &self.budget)
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                let Some(c) = v.to_const(&self.budget) else {
                    return Value::Unknown;
                };
                let r = match u.op {
                    ast::UnaryOp::Not => Some(Const::Bool(!c.truthy())),
                    ast::UnaryOp::USub => match c {
                        Const::Int(i) => i.checked_neg().map(Const::Int),
                        Const::Float(f) => Some(Const::Float(-f)),
                        Const::Bool(b) => Some(Const::Int(-i64::from(b))),
                        _ => None,
                    },
                    ast::UnaryOp::UAdd => matches!(c, Const::Int(_) | Const::Float(_)).then_some(c),
                    ast::UnaryOp::Invert => c.as_int().map(|i| Const::Int(!i)),
                };
                r.map_or(Value::Unknown, Value::Const)
            }
            Expr::BoolOp(b) => {
                let mut last = Value::Unknown;
                for value in &b.values {
                    last = self.eval(value);
                    match (b.op, last.truthy()) {
                        (_, None) => return Value::Unknown,
                        (ast::BoolOp::And, Some(false)) | (ast::BoolOp::Or, Some(true)) => {
                            return last;
                        }
                        _ => {}
                    }
                }
                last
            }
            Expr::Compare(c) => self.compare(c),
            Expr::If(i) => match self.eval(&i.test).truthy() {
                Some(true) => self.eval(&i.body),
                Some(false) => self.eval(&i.orelse),
                None => Value::Unknown,
            },
            Expr::Subscript(s) => {
                let container = self.eval(&s.value);
                if let Expr::Slice(slice) = &*s.slice {
                    return self.slice(&container, slice);
                }
                let key = self.eval(&s.slice);
                subscript(&container, &key, &self.budget).unwrap_or(Value::Unknown)
            }
            Expr::Call(call) => self.eval_call(call),
            Expr::Lambda(_) => Value::Lambda,
            Expr::Named(n) => {
                let v = self.eval(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::ListComp(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, false, &self.budget)),
            Expr::Generator(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, true, &self.budget)),
            Expr::SetComp(c) => self
                .comprehension(&c.elt, &c.generators)
                .map_or(Value::Unknown, |i| Value::seq(i, false, &self.budget)),
            Expr::DictComp(c) => {
                let Some(key) = c.key.as_deref() else {
                    return Value::Unknown;
                };
                let Some(keys) = self.comprehension(key, &c.generators) else {
                    return Value::Unknown;
                };
                let Some(values) = self.comprehension(&c.value, &c.generators) else {
                    return Value::Unknown;
                };
                let entries: Vec<_> = keys.into_iter().zip(values).collect();
                Value::dict(entries, &self.budget)
            }
            _ => Value::Unknown,
        }
    }

    fn eval_elements(&mut self, elts: &'a [ast::Expr]) -> Option<Vec<Value<'a>>> {
        let mut out = Vec::with_capacity(elts.len().min(MAX_ITEMS));
        for e in elts {
            if let ast::Expr::Starred(s) = e {
                out.extend(self.eval(&s.value).items(&self.budget)?);
            } else {
                out.push(self.eval(e));
            }
            if out.len() > MAX_ITEMS {
                return self.budget.items(out.len()).map(|()| out);
            }
        }
        Some(out)
    }

    fn eval_fstring(&mut self, f: &'a ast::ExprFString) -> Value<'a> {
        let mut out = String::new();
        for part in f.value.as_slice() {
            let piece = match part {
                ast::FStringPart::Literal(s) => Some(s.value.to_string()),
                ast::FStringPart::FString(fs) => self.interpolate(&fs.elements),
            };
            let Some(piece) = piece else {
                return Value::Unknown;
            };
            out.push_str(&piece);
            if self.budget.value(out.len()).is_none() {
                return Value::Unknown;
            }
        }
        Value::str(&out)
    }

    fn interpolate(&mut self, elements: &'a ast::InterpolatedStringElements) -> Option<String> {
        let mut out = String::new();
        for element in elements {
            match element {
                ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                ast::InterpolatedStringElement::Interpolation(i) => {
                    let value = self.eval(&i.expression).to_const(&self.budget)?;
                    let value = match i.conversion {
                        ast::ConversionFlag::Repr | ast::ConversionFlag::Ascii => {
                            string(value.repr(&self.budget)?, &self.budget)?
                        }
                        ast::ConversionFlag::Str => {
                            string(value.to_py_str(&self.budget)?, &self.budget)?
                        }
                        ast::ConversionFlag::None => value,
                    };
                    let spec = match &i.format_spec {
                        Some(spec) => self.interpolate(&spec.elements)?,
                        None => String::new(),
                    };
                    if let Some(debug) = &i.debug_text {
                        out.push_str(debug.leading());
                        out.push_str(&self.text(i.expression.range()));
                        out.push_str(debug.trailing());
                    }
                    out.push_str(&format_spec(&value, &spec, &self.budget)?);
                }
            }
            self.budget.value(out.len())?;
        }
        Some(out)
    }

    fn compare(&mut self, c: &'a ast::ExprCompare) -> Value<'a> {
        let mut left = self.eval(&c.left);
        for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
            let right = self.eval(right);
            let result = match op {
                ast::CmpOp::In | ast::CmpOp::NotIn => {
                    let found = self.contains(&right, &left);
                    found.map(|f| f == matches!(op, ast::CmpOp::In))
                }
                _ => {
                    let (Some(a), Some(b)) =
                        (left.to_const(&self.budget), right.to_const(&self.budget))
                    else {
                        return Value::Unknown;
                    };
                    // Comparing visits the values.
                    if self.budget.step(a.size().min(b.size())).is_none() {
                        return Value::Unknown;
                    }
                    let ord = compare_consts(&a, &b);
                    let equal = || a.py_eq(&b);
                    match op {
                        ast::CmpOp::Eq => Some(equal()),
                        ast::CmpOp::NotEq => Some(!equal()),
                        ast::CmpOp::Is => Some(a == b && matches!(a, Const::None | Const::Bool(_))),
                        ast::CmpOp::IsNot => {
                            Some(!(a == b && matches!(a, Const::None | Const::Bool(_))))
                        }
                        ast::CmpOp::Lt => ord.map(std::cmp::Ordering::is_lt),
                        ast::CmpOp::LtE => ord.map(std::cmp::Ordering::is_le),
                        ast::CmpOp::Gt => ord.map(std::cmp::Ordering::is_gt),
                        ast::CmpOp::GtE => ord.map(std::cmp::Ordering::is_ge),
                        _ => None,
                    }
                }
            };
            match result {
                Some(true) => left = right,
                Some(false) => return Value::Const(Const::Bool(false)),
                None => return Value::Unknown,
            }
        }
        Value::Const(Const::Bool(true))
    }

    /// `needle in container`.
    fn contains(&mut self, container: &Value<'a>, needle: &Value<'a>) -> Option<bool> {
        let needle = needle.to_const(&self.budget)?;
        match container {
            Value::Const(Const::Str(hay)) => {
                let needle = needle.as_str()?;
                self.budget.step(hay.len())?;
                Some(hay.contains(needle))
            }
            Value::Const(Const::Dict(d)) => Some(d.get(&needle).is_some()),
            other => {
                let items = other.items(&self.budget)?;
                Some(
                    items
                        .iter()
                        .any(|i| i.to_const(&self.budget).is_some_and(|c| c.py_eq(&needle))),
                )
            }
        }
    }

    fn slice(&mut self, container: &Value<'a>, slice: &'a ast::ExprSlice) -> Value<'a> {
        let mut bound = |e: &'a Option<Box<ast::Expr>>| -> Option<Option<i64>> {
            match e {
                None => Some(None),
                Some(e) => {
                    let v = self.eval(e);
                    v.to_const(&self.budget)?.as_int().map(Some)
                }
            }
        };
        let (Some(lo), Some(hi), Some(step)) =
            (bound(&slice.lower), bound(&slice.upper), bound(&slice.step))
        else {
            return Value::Unknown;
        };
        if step.is_some_and(|s| s != 1) {
            return Value::Unknown;
        }
        let clamp = |i: Option<i64>, len: usize, default: usize| -> usize {
            let len_i = i64::try_from(len).unwrap_or(i64::MAX);
            i.map_or(default, |i| {
                usize::try_from(if i < 0 {
                    len_i.saturating_add(i).max(0)
                } else {
                    i.min(len_i)
                })
                .unwrap_or(0)
            })
        };
        match container {
            Value::Const(Const::Str(s)) => {
                if self.budget.step(s.len()).is_none() {
                    return Value::Unknown;
                }
                let chars: Vec<char> = s.chars().collect();
                let (a, b) = (
                    clamp(lo, chars.len(), 0),
                    clamp(hi, chars.len(), chars.len()),
                );
                Value::str(&chars[a..b.max(a)].iter().collect::<String>())
            }
            other => match other.items(&self.budget) {
                Some(items) if !matches!(other, Value::Dict(_) | Value::Const(Const::Dict(_))) => {
                    let (a, b) = (
                        clamp(lo, items.len(), 0),
                        clamp(hi, items.len(), items.len()),
                    );
                    let tuple = matches!(other, Value::Tuple(_) | Value::Const(Const::Tuple(_)));
                    Value::seq(items[a..b.max(a)].to_vec(), tuple, &self.budget)
                }
                _ => Value::Unknown,
            },
        }
    }

    fn comprehension(
        &mut self,
        elt: &'a ast::Expr,
        generators: &'a [ast::Comprehension],
    ) -> Option<Vec<Value<'a>>> {
        // Comprehension variables live in their own scope; we bind them in the current one and
        // restore it afterwards.
        let saved: Vec<(String, Value<'a>)> = generators
            .iter()
            .flat_map(|g| target_names(&g.target))
            .map(|n| {
                let v = self.lookup(&n);
                (n, v)
            })
            .collect();
        let mut out = Vec::new();
        let ok = self.comprehension_level(elt, generators, &mut out);
        for (n, v) in saved {
            self.bind(&n, v);
        }
        ok.then_some(out)
    }

    fn comprehension_level(
        &mut self,
        elt: &'a ast::Expr,
        generators: &'a [ast::Comprehension],
        out: &mut Vec<Value<'a>>,
    ) -> bool {
        let Some((first, rest)) = generators.split_first() else {
            out.push(self.eval(elt));
            // Past the limit, `items` refuses and marks the expression too large.
            return out.len() <= MAX_ITEMS || self.budget.items(out.len()).is_some();
        };
        let iterable = self.eval(&first.iter);
        let Some(items) = iterable.items(&self.budget) else {
            return false;
        };
        for item in items {
            if self.stopped || self.budget.exhausted() {
                return false;
            }
            self.assign(&first.target, item);
            let mut keep = true;
            for cond in &first.ifs {
                match self.eval(cond).truthy() {
                    Some(t) => keep &= t,
                    None => return false,
                }
            }
            if keep && !self.comprehension_level(elt, rest, out) {
                return false;
            }
        }
        true
    }

    pub(super) fn attribute(&mut self, owner: Value<'a>, name: &str) -> Value<'a> {
        match owner {
            Value::Module(m) => self.module_attr(m, name),
            Value::External(dotted) => external_attr(&format!("{dotted}.{name}")),
            Value::Class(c) => match self.class_attr(c, name) {
                Some(Value::Function(f)) if matches!(f.kind, FuncKind::ClassMethod) => {
                    Value::Bound(Value::Class(c).into(), f)
                }
                Some(v) => v,
                None => Value::Unknown,
            },
            Value::Instance(i) => {
                if let Some(v) = self.instances[i].1.get(name) {
                    return v.clone();
                }
                let class = self.instances[i].0;
                match self.class_attr(class, name) {
                    Some(Value::Function(f)) => match f.kind {
                        FuncKind::Static => Value::Function(f),
                        FuncKind::ClassMethod => Value::Bound(Value::Class(class).into(), f),
                        FuncKind::Plain => Value::Bound(Value::Instance(i).into(), f),
                    },
                    Some(v) => v,
                    None => Value::Unknown,
                }
            }
            Value::Const(Const::Path(p))
                if matches!(name, "name" | "stem" | "suffix" | "parent") =>
            {
                path_attr(&p, name)
            }
            Value::Namespace(p) => self
                .model
                .default_of(p, name)
                .map_or(Value::Unknown, Value::Const),
            Value::Unknown => Value::Unknown,
            other => other.method(name),
        }
    }

    pub(super) fn class_attr(&self, class: ClassId, name: &str) -> Option<Value<'a>> {
        let mut pending = vec![class];
        let mut seen = HashSet::new();
        while let Some(c) = pending.pop() {
            if !seen.insert(c) {
                continue;
            }
            if let Some(v) = self.classes[c].attrs.get(name) {
                return Some(v.clone());
            }
            for base in self.classes[c].bases.iter().rev() {
                if let Value::Class(b) = base {
                    pending.push(*b);
                }
            }
        }
        None
    }
}

/// `left <op> right` where both sides are known.
pub(super) fn binary<'a>(
    op: ast::Operator,
    l: &Value<'a>,
    r: &Value<'a>,
    budget: &Budget,
) -> Value<'a> {
    let op = match op {
        ast::Operator::Add => BinOp::Add,
        ast::Operator::Sub => BinOp::Sub,
        ast::Operator::Mult => BinOp::Mul,
        ast::Operator::Div => BinOp::Div,
        ast::Operator::FloorDiv => BinOp::FloorDiv,
        ast::Operator::Mod => BinOp::Mod,
        ast::Operator::Pow => BinOp::Pow,
        ast::Operator::LShift
        | ast::Operator::RShift
        | ast::Operator::BitAnd
        | ast::Operator::BitOr
        | ast::Operator::BitXor => {
            let (Some(x), Some(y)) = (
                l.to_const(budget).and_then(|k| k.as_int()),
                r.to_const(budget).and_then(|k| k.as_int()),
            ) else {
                return Value::Unknown;
            };
            let shifted = match op {
                ast::Operator::LShift => u32::try_from(y)
                    .ok()
                    .and_then(|n| x.checked_mul(1i64.checked_shl(n)?)),
                ast::Operator::RShift => u32::try_from(y).ok().map(|n| x >> n.min(63)),
                ast::Operator::BitAnd => Some(x & y),
                ast::Operator::BitOr => Some(x | y),
                _ => Some(x ^ y),
            };
            return shifted.map_or(Value::Unknown, |n| Value::Const(Const::Int(n)));
        }
        ast::Operator::MatMult => return Value::Unknown,
    };
    // Lists that hold more than constants (parsers, functions) still concatenate.
    if let (BinOp::Add, Value::List(a), Value::List(b)) = (op, l, r) {
        return Value::seq([&a[..], &b[..]].concat(), false, budget);
    }
    if let (BinOp::Add, Value::List(a), Value::Const(Const::List(b)))
    | (BinOp::Add, Value::Const(Const::List(b)), Value::List(a)) = (op, l, r)
    {
        let b: Vec<Value<'a>> = b.iter().cloned().map(Value::Const).collect();
        let items = if matches!(l, Value::List(_)) {
            [&a[..], &b[..]].concat()
        } else {
            [&b[..], &a[..]].concat()
        };
        return Value::seq(items, false, budget);
    }
    match (l.to_const(budget), r.to_const(budget)) {
        (Some(a), Some(b)) => {
            Const::binary(op, &a, &b, budget).map_or(Value::Unknown, Value::Const)
        }
        _ => Value::Unknown,
    }
}

pub(super) fn target_names(target: &ast::Expr) -> Vec<String> {
    match target {
        ast::Expr::Name(n) => vec![n.id.to_string()],
        ast::Expr::Tuple(t) => t.elts.iter().flat_map(target_names).collect(),
        ast::Expr::List(l) => l.elts.iter().flat_map(target_names).collect(),
        _ => Vec::new(),
    }
}
