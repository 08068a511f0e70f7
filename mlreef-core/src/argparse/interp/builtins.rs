//! Python's built-in functions and the methods of constants (strings, lists, dicts) that
//! scripts use to build flags, defaults and help texts. Each checks the size of its result
//! against the budget before building it.

use std::rc::Rc;

use super::{CallArgs, Const, Value};
use crate::argparse::model::SUPPRESS;
use crate::argparse::value::{BinOp, Budget, MAX_ITEMS, format_spec, string};

/// The names `from argparse import *` binds.
pub(super) const ARGPARSE_NAMES: &[&str] = &[
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

/// The built-in functions a name can refer to.
pub(super) const BUILTINS: &[&str] = &[
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

/// `PurePosixPath` attributes of a constant path.
pub(super) fn path_attr<'a>(path: &str, name: &str) -> Value<'a> {
    let trimmed = path.trim_end_matches('/');
    let (parent, file) = match trimmed.rfind('/') {
        Some(0) => ("/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    let dot = file.rfind('.').filter(|&i| i > 0);
    let text = match name {
        "name" => file,
        "stem" => dot.map_or(file, |i| &file[..i]),
        "suffix" => dot.map_or("", |i| &file[i..]),
        _ => return Value::Const(Const::Path(parent.into())),
    };
    Value::str(text)
}

pub(super) fn compare_consts(a: &Const, b: &Const) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Const::Str(x), Const::Str(y)) => Some(x.cmp(y)),
        (Const::Float(_), _) | (_, Const::Float(_)) => {
            let (x, y) = (a.to_float()?, b.to_float()?);
            match (x, y) {
                (Const::Float(x), Const::Float(y))
                    if !matches!(a, Const::Str(_)) && !matches!(b, Const::Str(_)) =>
                {
                    x.partial_cmp(&y)
                }
                _ => None,
            }
        }
        _ => Some(a.as_int()?.cmp(&b.as_int()?)),
    }
}

/// `container[key]`.
pub(super) fn subscript<'a>(
    container: &Value<'a>,
    key: &Value<'a>,
    budget: &Budget,
) -> Option<Value<'a>> {
    let key = key.to_const(budget)?;
    match container {
        Value::Const(Const::Dict(d)) => return d.get(&key).cloned().map(Value::Const),
        Value::Dict(entries) => {
            budget.step(entries.len())?;
            return entries
                .iter()
                .rev()
                .find(|(k, _)| k.to_const(budget).is_some_and(|k| k.py_eq(&key)))
                .map(|(_, v)| v.clone());
        }
        _ => {}
    }
    let index = key.as_int()?;
    let at = |len: usize| {
        let len = i64::try_from(len).ok()?;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        usize::try_from(i)
            .ok()
            .filter(|&i| i64::try_from(i).is_ok_and(|i| i < len))
    };
    match container {
        Value::Const(Const::Str(s)) => {
            budget.step(s.len())?;
            let i = at(s.chars().count())?;
            s.chars()
                .nth(i)
                .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
        }
        Value::Const(Const::List(v) | Const::Tuple(v)) => {
            v.get(at(v.len())?).cloned().map(Value::Const)
        }
        Value::List(v) | Value::Tuple(v) => v.get(at(v.len())?).cloned(),
        _ => None,
    }
}

/// `container[key] = value` on a name's value (see `Interp::change`).
pub(super) fn set_item<'a>(
    container: Value<'a>,
    key: Value<'a>,
    value: Value<'a>,
    budget: &Budget,
) -> Option<Value<'a>> {
    match (container, key, value) {
        (Value::Const(Const::Dict(mut d)), Value::Const(k), Value::Const(v)) => {
            Rc::make_mut(&mut d).insert(k, v, budget)?;
            Some(Value::Const(Const::Dict(d)))
        }
        (container, key, value) => {
            let mut entries = container.dict_entries(budget)?;
            entries.push((key, value));
            Some(Value::dict(entries, budget))
        }
    }
}

/// Whether `recv.method(...)` changes `recv` in place (`append`, `extend`, `insert` on a
/// list, `update` on a dict).
pub(super) fn is_mutation(recv: &Value<'_>, method: &str) -> bool {
    let list = matches!(recv, Value::List(_) | Value::Const(Const::List(_)));
    let dict = matches!(recv, Value::Dict(_) | Value::Const(Const::Dict(_)));
    match method {
        "append" | "extend" | "insert" => list,
        "update" => dict,
        _ => false,
    }
}

/// The new value of `recv` after `recv.method(args)` (see [`is_mutation`]).
pub(super) fn apply_mutation<'a>(
    recv: Value<'a>,
    method: &str,
    args: &CallArgs<'a>,
    budget: &Budget,
) -> Option<Value<'a>> {
    let first = args.positional.first().map(|(v, _)| v);
    match method {
        "update" => {
            if let (Value::Const(Const::Dict(mut d)), None | Some(Value::Const(Const::Dict(_)))) =
                (recv.clone(), first)
                && args
                    .keywords
                    .iter()
                    .all(|(_, v, _)| matches!(v, Value::Const(_)))
            {
                let dict = Rc::make_mut(&mut d);
                if let Some(Value::Const(Const::Dict(more))) = first {
                    budget.step(more.len())?;
                    for (k, v) in more.iter() {
                        dict.insert(k.clone(), v.clone(), budget)?;
                    }
                }
                for (k, v, _) in &args.keywords {
                    if let Value::Const(v) = v {
                        dict.insert(Const::str(k), v.clone(), budget)?;
                    }
                }
                return Some(Value::Const(Const::Dict(d)));
            }
            let mut entries = recv.dict_entries(budget)?;
            if let Some(more) = first {
                entries.extend(more.dict_entries(budget)?);
            }
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::str(k), v.clone())),
            );
            Some(Value::dict(entries, budget))
        }
        "append" | "extend" => {
            let more = match method {
                "append" => vec![first?.clone()],
                _ => first?.items(budget)?,
            };
            match recv {
                // In place: a list nobody else holds grows without a copy.
                Value::Const(Const::List(mut list))
                    if more.iter().all(|v| matches!(v, Value::Const(_))) =>
                {
                    let seq = Rc::make_mut(&mut list);
                    for item in more {
                        if let Value::Const(c) = item {
                            seq.push(c, budget)?;
                        }
                    }
                    Some(Value::Const(Const::List(list)))
                }
                Value::List(mut list) => {
                    let seq = Rc::make_mut(&mut list);
                    for item in more {
                        seq.push(item, budget)?;
                    }
                    Some(Value::List(list))
                }
                Value::Const(Const::List(list)) => {
                    let mut items: Vec<Value<'a>> =
                        list.iter().cloned().map(Value::Const).collect();
                    items.extend(more);
                    if items.len() > MAX_ITEMS {
                        return None;
                    }
                    Some(Value::seq(items, false, budget))
                }
                _ => None,
            }
        }
        _ => {
            let mut items: Vec<Value<'a>> = match recv {
                Value::Const(Const::List(v)) => {
                    budget.step(v.len())?;
                    v.into_vec().into_iter().map(Value::Const).collect()
                }
                Value::List(v) => v.into_vec(),
                _ => return None,
            };
            let at = usize::try_from(first?.to_const(budget)?.as_int()?.max(0))
                .ok()?
                .min(items.len());
            items.insert(at, args.positional.get(1)?.0.clone());
            if items.len() > MAX_ITEMS {
                return None;
            }
            Some(Value::seq(items, false, budget))
        }
    }
}

/// Methods of constants and containers that scripts use to build flags and help texts.
pub(super) fn const_method<'a>(
    recv: &Value<'a>,
    name: &str,
    args: &CallArgs<'a>,
    budget: &Budget,
) -> Option<Value<'a>> {
    let arg_str = |i: usize| match args.positional.get(i).map(|(v, _)| v) {
        Some(Value::Const(Const::Str(s))) => Some(s.clone()),
        _ => None,
    };
    let str_v = |s: String| string(s, budget).map(Value::Const);
    if let Some(entries) = match recv {
        Value::Const(Const::Dict(_)) | Value::Dict(_) => recv.dict_entries(budget),
        _ => None,
    } {
        return match name {
            "keys" => Some(Value::seq(
                entries.into_iter().map(|(k, _)| k).collect(),
                false,
                budget,
            )),
            "values" => Some(Value::seq(
                entries.into_iter().map(|(_, v)| v).collect(),
                false,
                budget,
            )),
            "items" => Some(Value::seq(
                entries
                    .into_iter()
                    .map(|(k, v)| Value::seq(vec![k, v], true, budget))
                    .collect(),
                false,
                budget,
            )),
            "get" => {
                let key = &args.positional.first()?.0;
                subscript(recv, key, budget).or_else(|| {
                    Some(
                        args.positional
                            .get(1)
                            .map_or(Value::Const(Const::None), |(v, _)| v.clone()),
                    )
                })
            }
            "copy" => Some(recv.clone()),
            _ => None,
        };
    }
    if let Value::Const(Const::Str(s)) = recv {
        // Every string method below visits the string once.
        budget.step(s.len())?;
        return match name {
            "join" => {
                let items = args.positional.first()?.0.items(budget)?;
                let parts: Option<Vec<Rc<str>>> = items
                    .iter()
                    .map(|i| match i {
                        Value::Const(Const::Str(p)) => Some(p.clone()),
                        _ => None,
                    })
                    .collect();
                let parts = parts?;
                let len = parts
                    .iter()
                    .map(|p| p.len())
                    .sum::<usize>()
                    .saturating_add(s.len().saturating_mul(parts.len()));
                budget.value(len)?;
                str_v(parts.iter().map(|p| &**p).collect::<Vec<_>>().join(s))
            }
            "format" => str_format(s, args, budget).and_then(str_v),
            // Case mappings can grow a character to three.
            "upper" => {
                budget.value(s.len().saturating_mul(3))?;
                str_v(s.to_uppercase())
            }
            "lower" => {
                budget.value(s.len().saturating_mul(3))?;
                str_v(s.to_lowercase())
            }
            "title" => {
                budget.value(s.len().saturating_mul(3))?;
                str_v(title_case(s))
            }
            "capitalize" => {
                budget.value(s.len().saturating_mul(3))?;
                let mut c = s.chars();
                str_v(c.next().map_or(String::new(), |f| {
                    f.to_uppercase()
                        .chain(c.flat_map(char::to_lowercase))
                        .collect()
                }))
            }
            "strip" => str_v(s.trim().to_owned()),
            "lstrip" => str_v(arg_str(0).map_or_else(
                || s.trim_start().to_owned(),
                |c| s.trim_start_matches(|x| c.contains(x)).to_owned(),
            )),
            "rstrip" => str_v(arg_str(0).map_or_else(
                || s.trim_end().to_owned(),
                |c| s.trim_end_matches(|x| c.contains(x)).to_owned(),
            )),
            "replace" => {
                let (from, to) = (arg_str(0)?, arg_str(1)?);
                // An empty pattern matches between every character, as in Python.
                let count = if from.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(&*from).count()
                };
                budget.value(s.len().saturating_add(count.saturating_mul(to.len())))?;
                str_v(s.replace(&*from, &to))
            }
            "split" => {
                let parts: Vec<Value<'a>> = match arg_str(0) {
                    Some(sep) if !sep.is_empty() => {
                        budget.items(s.matches(&*sep).count() + 1)?;
                        s.split(&*sep).map(Value::str).collect()
                    }
                    Some(_) => return None,
                    None => {
                        budget.items(s.split_whitespace().count())?;
                        s.split_whitespace().map(Value::str).collect()
                    }
                };
                Some(Value::seq(parts, false, budget))
            }
            "startswith" => Some(Value::Const(Const::Bool(s.starts_with(&*arg_str(0)?)))),
            "endswith" => Some(Value::Const(Const::Bool(s.ends_with(&*arg_str(0)?)))),
            _ => None,
        };
    }
    match name {
        "copy" => Some(recv.clone()),
        "index" => {
            let needle = args.positional.first()?.0.to_const(budget)?;
            let pos = recv
                .items(budget)?
                .iter()
                .position(|i| i.to_const(budget).is_some_and(|c| c.py_eq(&needle)))?;
            Some(Value::Const(Const::Int(i64::try_from(pos).ok()?)))
        }
        _ => None,
    }
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if prev_alpha {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_alpha = c.is_alphabetic();
    }
    out
}

/// `"...".format(...)` with `{}`, `{0}`, `{name}` and format specs.
fn str_format(fmt: &str, args: &CallArgs<'_>, budget: &Budget) -> Option<String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut auto = 0;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        ch => field.push(ch),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let (name, conversion) = name
                    .split_once('!')
                    .map_or((name, None), |(n, c)| (n, Some(c)));
                let value = if name.is_empty() {
                    auto += 1;
                    args.positional.get(auto - 1)?.0.to_const(budget)?
                } else if let Ok(i) = name.parse::<usize>() {
                    args.positional.get(i)?.0.to_const(budget)?
                } else {
                    args.keyword(name)?.to_const(budget)?
                };
                let value = if conversion == Some("r") {
                    string(value.repr(budget)?, budget)?
                } else {
                    value
                };
                let piece = format_spec(&value, spec, budget)?;
                budget.value(out.len().saturating_add(piece.len()))?;
                out.push_str(&piece);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

pub(super) fn dedent(text: &str) -> String {
    let margin = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split('\n')
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[margin.min(l.len())..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `range(start, stop, step)` as a list, counted (with checked arithmetic) before it is built.
fn range(start: i64, end: i64, step: i64, budget: &Budget) -> Option<Const> {
    if step == 0 {
        return None;
    }
    let (span, by) = if step > 0 {
        (i128::from(end) - i128::from(start), i128::from(step))
    } else {
        (i128::from(start) - i128::from(end), -i128::from(step))
    };
    let count = if span <= 0 { 0 } else { (span + by - 1) / by };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    budget.items(count)?;
    let items = (0..count)
        .map(|k| {
            let k = i128::try_from(k).ok()?;
            let value = i128::from(start) + k * i128::from(step);
            i64::try_from(value).ok().map(Const::Int)
        })
        .collect::<Option<Vec<_>>>()?;
    Const::list(items, budget)
}

/// Built-in functions over constants.
pub(super) fn builtin<'a>(name: &str, args: &CallArgs<'a>, budget: &Budget) -> Option<Value<'a>> {
    let first = args.positional.first().map(|(v, _)| v);
    let known = |v: Const| Some(Value::Const(v));
    let int_arg = |i: usize| {
        args.positional
            .get(i)
            .and_then(|(v, _)| v.to_const(budget))
            .and_then(|c| c.as_int())
    };
    match name {
        "str" => match first {
            None => known(Const::str("")),
            Some(v) => known(string(v.to_const(budget)?.to_py_str(budget)?, budget)?),
        },
        "int" => match first {
            None => known(Const::Int(0)),
            Some(v) => known(v.to_const(budget)?.to_int()?),
        },
        "float" => match first {
            None => known(Const::Float(0.0)),
            Some(v) => known(v.to_const(budget)?.to_float()?),
        },
        "bool" => match first {
            None => known(Const::Bool(false)),
            Some(v) => known(Const::Bool(v.truthy()?)),
        },
        "len" => {
            let v = first?;
            let n = match v {
                Value::Const(Const::Str(s)) => {
                    budget.step(s.len())?;
                    s.chars().count()
                }
                Value::Const(Const::List(v) | Const::Tuple(v)) => v.len(),
                Value::Const(Const::Dict(d)) => d.len(),
                Value::List(v) | Value::Tuple(v) => v.len(),
                Value::Dict(v) => v.len(),
                _ => return None,
            };
            known(Const::Int(i64::try_from(n).ok()?))
        }
        "range" => {
            let (start, end, step) = match args.positional.len() {
                1 => (0, int_arg(0)?, 1),
                2 => (int_arg(0)?, int_arg(1)?, 1),
                3 => (int_arg(0)?, int_arg(1)?, int_arg(2)?),
                _ => return None,
            };
            known(range(start, end, step, budget)?)
        }
        "list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" => {
            let mut items = match first {
                None => Vec::new(),
                Some(v) => v.items(budget)?,
            };
            if name == "sorted" {
                let mut consts: Vec<Const> = items
                    .iter()
                    .map(|v| v.to_const(budget))
                    .collect::<Option<_>>()?;
                // n log n comparisons.
                budget.step(consts.len().saturating_mul(usize::BITS as usize))?;
                consts.sort_by(|a, b| compare_consts(a, b).unwrap_or(std::cmp::Ordering::Equal));
                if args.keyword("reverse").and_then(Value::truthy) == Some(true) {
                    consts.reverse();
                }
                items = consts.into_iter().map(Value::Const).collect();
            }
            if name == "reversed" {
                items.reverse();
            }
            Some(Value::seq(items, name == "tuple", budget))
        }
        "dict" => {
            let mut entries = match first {
                Some(v) => v.dict_entries(budget).or_else(|| {
                    v.items(budget)?
                        .into_iter()
                        .map(|pair| {
                            let kv = pair.items(budget)?;
                            (kv.len() == 2).then(|| (kv[0].clone(), kv[1].clone()))
                        })
                        .collect()
                })?,
                None => Vec::new(),
            };
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::str(k), v.clone())),
            );
            Some(Value::dict(entries, budget))
        }
        "zip" => {
            let lists: Vec<Vec<Value<'a>>> = args
                .positional
                .iter()
                .map(|(v, _)| v.items(budget))
                .collect::<Option<_>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            budget.items(n)?;
            Some(Value::seq(
                (0..n)
                    .map(|i| Value::seq(lists.iter().map(|l| l[i].clone()).collect(), true, budget))
                    .collect(),
                false,
                budget,
            ))
        }
        "enumerate" => {
            let start = args
                .get(1, "start")
                .and_then(|v| v.to_const(budget))
                .and_then(|c| c.as_int())
                .unwrap_or(0);
            let items = first?.items(budget)?;
            let pairs = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let i = start.checked_add(i64::try_from(i).ok()?)?;
                    Some(Value::seq(
                        vec![Value::Const(Const::Int(i)), v],
                        true,
                        budget,
                    ))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Value::seq(pairs, false, budget))
        }
        "min" | "max" | "sum" => {
            let items: Vec<Const> = if args.positional.len() == 1 {
                first?
                    .items(budget)?
                    .iter()
                    .map(|v| v.to_const(budget))
                    .collect::<Option<_>>()?
            } else {
                args.positional
                    .iter()
                    .map(|(v, _)| v.to_const(budget))
                    .collect::<Option<_>>()?
            };
            if name == "sum" {
                return items
                    .iter()
                    .try_fold(Const::Int(0), |acc, x| {
                        Const::binary(BinOp::Add, &acc, x, budget)
                    })
                    .map(Value::Const);
            }
            let pick = items.into_iter().reduce(|a, b| {
                let ord = compare_consts(&b, &a).unwrap_or(std::cmp::Ordering::Equal);
                if (name == "min" && ord.is_lt()) || (name == "max" && ord.is_gt()) {
                    b
                } else {
                    a
                }
            })?;
            known(pick)
        }
        "abs" => match first?.to_const(budget)? {
            Const::Int(i) => known(Const::Int(i.checked_abs()?)),
            Const::Float(f) => known(Const::Float(f.abs())),
            _ => None,
        },
        "round" => {
            let v = first?.to_const(budget)?.to_float()?;
            let Const::Float(f) = v else { return None };
            match int_arg(1) {
                None => {
                    if !f.is_finite() || f.abs() >= 9.2e18 {
                        return None;
                    }
                    // Python rounds half to even; 0.5 is exact in binary, so `==` is right here.
                    let r = f.round();
                    #[allow(clippy::float_cmp)]
                    let r = if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                        r - f.signum()
                    } else {
                        r
                    };
                    #[allow(clippy::cast_possible_truncation)]
                    known(Const::Int(r as i64))
                }
                Some(d) => {
                    let scale = 10f64.powi(i32::try_from(d).ok()?);
                    let r = (f * scale).round() / scale;
                    r.is_finite().then_some(Value::Const(Const::Float(r)))
                }
            }
        }
        "type" => {
            let v = first?.to_const(budget)?;
            BUILTINS
                .iter()
                .find(|b| **b == v.type_name())
                .map(|b| Value::Builtin(b))
        }
        _ => None,
    }
}

/// Attributes of outside modules that matter to argparse.
pub(super) fn external_attr<'a>(dotted: &str) -> Value<'a> {
    match dotted {
        "argparse.SUPPRESS" => Value::str(SUPPRESS),
        "argparse.OPTIONAL" => Value::str("?"),
        "argparse.ZERO_OR_MORE" => Value::str("*"),
        "argparse.ONE_OR_MORE" => Value::str("+"),
        "argparse.REMAINDER" => Value::str("..."),
        "argparse.PARSER" => Value::str("A..."),
        "os.sep" | "os.path.sep" => Value::str("/"),
        "os.linesep" => Value::str("\n"),
        "math.pi" => Value::Const(Const::Float(std::f64::consts::PI)),
        "math.e" => Value::Const(Const::Float(std::f64::consts::E)),
        "math.inf" => Value::Const(Const::Float(f64::INFINITY)),
        "sys.maxsize" => Value::Const(Const::Int(i64::MAX)),
        _ => Value::External(dotted.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(name: &str, args: Vec<Value<'a>>, budget: &Budget) -> Option<Value<'a>> {
        let args = CallArgs {
            positional: args.into_iter().map(|v| (v, None)).collect(),
            keywords: Vec::new(),
        };
        builtin(name, &args, budget)
    }

    fn int<'a>(i: i64) -> Value<'a> {
        Value::Const(Const::Int(i))
    }

    fn konst(v: Option<Value<'_>>) -> Option<Const> {
        match v? {
            Value::Const(c) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn range_counts_with_checked_arithmetic() {
        let b = Budget::default();
        let r = konst(call("range", vec![int(1), int(10), int(3)], &b)).unwrap();
        assert_eq!(r.short_repr(80), "[1, 4, 7]");
        let r = konst(call("range", vec![int(5), int(0), int(-2)], &b)).unwrap();
        assert_eq!(r.short_repr(80), "[5, 3, 1]");
        // The span overflows i64: counted in i128 and refused by size, never wrapped.
        assert!(call("range", vec![int(i64::MIN), int(i64::MAX)], &b).is_none());
        assert!(b.take_oversize());
        assert!(
            call(
                "range",
                vec![int(-9_223_372_036_854_775_807), int(i64::MAX), int(2)],
                &b
            )
            .is_none()
        );
        assert!(call("range", vec![int(0), int(10), int(0)], &b).is_none());
        let r = konst(call("range", vec![int(i64::MAX - 2), int(i64::MAX)], &b)).unwrap();
        assert_eq!(
            r.short_repr(80),
            format!("[{}, {}]", i64::MAX - 2, i64::MAX - 1)
        );
    }

    #[test]
    fn string_methods_check_their_result_size() {
        let b = Budget::default();
        let big = Value::Const(Const::str(&"a".repeat(1 << 20)));
        let args = CallArgs {
            positional: vec![(Value::str(""), None), (Value::str(&"x".repeat(32)), None)],
            keywords: Vec::new(),
        };
        assert!(const_method(&big, "replace", &args, &b).is_none());
        assert!(b.take_oversize());
        let small = Value::str("a-b");
        let args = CallArgs {
            positional: vec![(Value::str("-"), None), (Value::str("_"), None)],
            keywords: Vec::new(),
        };
        let r = konst(const_method(&small, "replace", &args, &b)).unwrap();
        assert_eq!(r, Const::str("a_b"));
    }

    #[test]
    fn builtins_compute_like_python() {
        let b = Budget::default();
        let list = Value::seq(vec![int(3), int(1), int(2)], false, &b);
        assert_eq!(
            konst(call("sorted", vec![list.clone()], &b))
                .unwrap()
                .short_repr(80),
            "[1, 2, 3]"
        );
        assert_eq!(
            konst(call("sum", vec![list.clone()], &b)),
            Some(Const::Int(6))
        );
        assert_eq!(
            konst(call("max", vec![list.clone()], &b)),
            Some(Const::Int(3))
        );
        assert_eq!(konst(call("len", vec![list], &b)), Some(Const::Int(3)));
        assert_eq!(
            konst(call("round", vec![Value::Const(Const::Float(2.5))], &b)),
            Some(Const::Int(2))
        );
        assert_eq!(
            konst(call("round", vec![Value::Const(Const::Float(1e300))], &b)),
            None
        );
        assert_eq!(konst(call("abs", vec![int(i64::MIN)], &b)), None);
        assert_eq!(
            konst(call("int", vec![Value::str(" 1_000 ")], &b)),
            Some(Const::Int(1000))
        );
        assert_eq!(
            konst(call("str", vec![Value::Const(Const::Float(1e-5))], &b)),
            Some(Const::str("1e-05"))
        );
    }

    #[test]
    fn subscripts_index_like_python() {
        let b = Budget::default();
        let list = Value::seq(vec![int(1), int(2), int(3)], false, &b);
        assert_eq!(konst(subscript(&list, &int(-1), &b)), Some(Const::Int(3)));
        assert_eq!(konst(subscript(&list, &int(3), &b)), None);
        assert_eq!(konst(subscript(&list, &int(i64::MIN), &b)), None);
        let s = Value::str("héllo");
        assert_eq!(konst(subscript(&s, &int(1), &b)), Some(Const::str("é")));
    }
}
