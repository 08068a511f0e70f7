//! Python's built-in functions and the methods of constants (strings, lists, dicts) that
//! scripts use to build flags, defaults and help texts.

use super::{BUILTINS, BinOp, CallArgs, Const, MAX_ITEMS, SUPPRESS, Value, ast, format_spec};

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
        _ => return Value::Const(Const::Path(parent.to_owned())),
    };
    Value::Const(Const::Str(text.to_owned()))
}

/// Python keeps the last value of a repeated dict key, at the first key's position.
pub(super) fn dedup_keys<'a>(entries: &mut Vec<(Value<'a>, Value<'a>)>) {
    let mut out: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(entries.len());
    for (k, v) in entries.drain(..) {
        let kc = k.to_const();
        match out
            .iter_mut()
            .find(|(x, _)| kc.is_some() && x.to_const() == kc)
        {
            Some(entry) => entry.1 = v,
            None => out.push((k, v)),
        }
    }
    *entries = out;
}

pub(super) fn target_names(target: &ast::Expr) -> Vec<String> {
    match target {
        ast::Expr::Name(n) => vec![n.id.to_string()],
        ast::Expr::Tuple(t) => t.elts.iter().flat_map(target_names).collect(),
        ast::Expr::List(l) => l.elts.iter().flat_map(target_names).collect(),
        _ => Vec::new(),
    }
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

pub(super) fn subscript<'a>(container: &Value<'a>, key: &Value<'a>) -> Option<Value<'a>> {
    let key = key.to_const()?;
    if let Some(entries) = container.dict_entries() {
        return entries
            .into_iter()
            .find(|(k, _)| k.to_const().as_ref() == Some(&key))
            .map(|(_, v)| v);
    }
    let index = key.as_int()?;
    let items: Vec<Value<'a>> = match container {
        Value::Const(Const::Str(s)) => s
            .chars()
            .map(|c| Value::Const(Const::Str(c.to_string())))
            .collect(),
        other => other.items()?,
    };
    let len = i64::try_from(items.len()).ok()?;
    let i = if index < 0 { len + index } else { index };
    usize::try_from(i).ok().and_then(|i| items.get(i).cloned())
}

/// `FLAGS.append(x)` and friends on a named container: the container's new value.
pub(super) fn mutate<'a>(recv: &Value<'a>, method: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
    let values = args.values();
    match method {
        "append" | "extend" | "insert" => {
            let tuple = matches!(
                recv,
                Value::Tuple(_) | Value::Const(Const::Tuple(_) | Const::Str(_))
            );
            if tuple || matches!(recv, Value::Dict(_) | Value::Const(Const::Dict(_))) {
                return None;
            }
            let mut items = recv.items()?;
            match method {
                "append" => items.push(values.first()?.clone()),
                "extend" => items.extend(values.first()?.items()?),
                _ => {
                    let at = usize::try_from(values.first()?.to_const()?.as_int()?.max(0))
                        .ok()?
                        .min(items.len());
                    items.insert(at, values.get(1)?.clone());
                }
            }
            Some(Value::seq(items, false))
        }
        "update" => {
            let mut entries = recv.dict_entries()?;
            if let Some(more) = values.first() {
                entries.extend(more.dict_entries()?);
            }
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::Const(Const::Str(k.clone())), v.clone())),
            );
            dedup_keys(&mut entries);
            Some(Value::dict(entries))
        }
        _ => None,
    }
}

/// Methods of constants and containers that scripts use to build flags and help texts.
pub(super) fn const_method<'a>(
    recv: &Value<'a>,
    name: &str,
    args: &CallArgs<'a>,
) -> Option<Value<'a>> {
    let arg_str = |i: usize| {
        args.positional
            .get(i)
            .and_then(|(v, _)| v.to_const())
            .and_then(|c| c.as_str().map(str::to_owned))
    };
    let str_v = |s: String| Some(Value::Const(Const::Str(s)));
    if let Some(entries) = recv.dict_entries() {
        return match name {
            "keys" => Some(Value::seq(
                entries.into_iter().map(|(k, _)| k).collect(),
                false,
            )),
            "values" => Some(Value::seq(
                entries.into_iter().map(|(_, v)| v).collect(),
                false,
            )),
            "items" => Some(Value::seq(
                entries
                    .into_iter()
                    .map(|(k, v)| Value::seq(vec![k, v], true))
                    .collect(),
                false,
            )),
            "get" => {
                let key = args.positional.first()?.0.to_const()?;
                Some(
                    entries
                        .into_iter()
                        .find(|(k, _)| k.to_const().as_ref() == Some(&key))
                        .map_or_else(
                            || {
                                args.positional
                                    .get(1)
                                    .map_or(Value::Const(Const::None), |(v, _)| v.clone())
                            },
                            |(_, v)| v,
                        ),
                )
            }
            "copy" => Some(recv.clone()),
            _ => None,
        };
    }
    if let Value::Const(Const::Str(s)) = recv {
        return match name {
            "join" => {
                let items = args.positional.first()?.0.items()?;
                let parts: Option<Vec<String>> = items
                    .iter()
                    .map(|i| i.to_const()?.as_str().map(str::to_owned))
                    .collect();
                str_v(parts?.join(s))
            }
            "format" => str_format(s, args).and_then(str_v),
            "upper" => str_v(s.to_uppercase()),
            "lower" => str_v(s.to_lowercase()),
            "title" => str_v(title_case(s)),
            "capitalize" => {
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
            "replace" => str_v(s.replace(&arg_str(0)?, &arg_str(1)?)),
            "split" => {
                let parts: Vec<Value<'a>> = match arg_str(0) {
                    Some(sep) if !sep.is_empty() => s
                        .split(sep.as_str())
                        .map(|p| Value::Const(Const::Str(p.to_owned())))
                        .collect(),
                    Some(_) => return None,
                    None => s
                        .split_whitespace()
                        .map(|p| Value::Const(Const::Str(p.to_owned())))
                        .collect(),
                };
                Some(Value::seq(parts, false))
            }
            "startswith" => Some(Value::Const(Const::Bool(s.starts_with(&arg_str(0)?)))),
            "endswith" => Some(Value::Const(Const::Bool(s.ends_with(&arg_str(0)?)))),
            _ => None,
        };
    }
    match name {
        "copy" => Some(recv.clone()),
        "index" => {
            let needle = args.positional.first()?.0.to_const()?;
            let pos = recv
                .items()?
                .iter()
                .position(|i| i.to_const().as_ref() == Some(&needle))?;
            Some(Value::Const(Const::Int(i64::try_from(pos).ok()?)))
        }
        _ => None,
    }
}

pub(super) fn title_case(s: &str) -> String {
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
pub(super) fn str_format(fmt: &str, args: &CallArgs<'_>) -> Option<String> {
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
                    args.positional.get(auto - 1)?.0.to_const()?
                } else if let Ok(i) = name.parse::<usize>() {
                    args.positional.get(i)?.0.to_const()?
                } else {
                    args.keyword(name)?.to_const()?
                };
                let value = if conversion == Some("r") {
                    Const::Str(value.repr())
                } else {
                    value
                };
                out.push_str(&format_spec(&value, spec)?);
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

/// Built-in functions over constants.
pub(super) fn builtin<'a>(name: &str, args: &CallArgs<'a>) -> Option<Value<'a>> {
    let first = args.positional.first().map(|(v, _)| v);
    let c = |v: Const| Some(Value::Const(v));
    let int_arg = |i: usize| {
        args.positional
            .get(i)
            .and_then(|(v, _)| v.to_const())
            .and_then(|c| c.as_int())
    };
    match name {
        "str" => match first {
            None => c(Const::Str(String::new())),
            Some(v) => c(Const::Str(v.to_const()?.to_py_str())),
        },
        "int" => match first {
            None => c(Const::Int(0)),
            Some(v) => c(v.to_const()?.to_int()?),
        },
        "float" => match first {
            None => c(Const::Float(0.0)),
            Some(v) => c(v.to_const()?.to_float()?),
        },
        "bool" => match first {
            None => c(Const::Bool(false)),
            Some(v) => c(Const::Bool(v.truthy()?)),
        },
        "len" => {
            let v = first?;
            let n = match v.to_const() {
                Some(Const::Str(s)) => s.chars().count(),
                _ => v.items()?.len(),
            };
            c(Const::Int(i64::try_from(n).ok()?))
        }
        "range" => {
            let (start, end, step) = match args.positional.len() {
                1 => (0, int_arg(0)?, 1),
                2 => (int_arg(0)?, int_arg(1)?, 1),
                3 => (int_arg(0)?, int_arg(1)?, int_arg(2)?),
                _ => return None,
            };
            if step == 0 {
                return None;
            }
            let count = if step > 0 {
                (end - start).max(0) / step
            } else {
                (start - end).max(0) / -step
            };
            if count > i64::try_from(MAX_ITEMS).ok()? {
                return None;
            }
            let mut items = Vec::new();
            let mut i = start;
            while (step > 0 && i < end) || (step < 0 && i > end) {
                items.push(Const::Int(i));
                i += step;
            }
            c(Const::List(items))
        }
        "list" | "tuple" | "set" | "frozenset" | "sorted" | "reversed" => {
            let mut items = match first {
                None => Vec::new(),
                Some(v) => v.items()?,
            };
            if name == "sorted" {
                let mut consts: Vec<Const> =
                    items.iter().map(Value::to_const).collect::<Option<_>>()?;
                consts.sort_by(|a, b| compare_consts(a, b).unwrap_or(std::cmp::Ordering::Equal));
                if args.keyword("reverse").and_then(Value::truthy) == Some(true) {
                    consts.reverse();
                }
                items = consts.into_iter().map(Value::Const).collect();
            }
            if name == "reversed" {
                items.reverse();
            }
            Some(Value::seq(items, name == "tuple"))
        }
        "dict" => {
            let mut entries = match first {
                Some(v) => v.dict_entries().or_else(|| {
                    v.items()?
                        .into_iter()
                        .map(|pair| {
                            let kv = pair.items()?;
                            (kv.len() == 2).then(|| (kv[0].clone(), kv[1].clone()))
                        })
                        .collect()
                })?,
                None => Vec::new(),
            };
            entries.extend(
                args.keywords
                    .iter()
                    .map(|(k, v, _)| (Value::Const(Const::Str(k.clone())), v.clone())),
            );
            dedup_keys(&mut entries);
            Some(Value::dict(entries))
        }
        "zip" => {
            let lists: Vec<Vec<Value<'a>>> = args
                .positional
                .iter()
                .map(|(v, _)| v.items())
                .collect::<Option<_>>()?;
            let n = lists.iter().map(Vec::len).min().unwrap_or(0);
            Some(Value::seq(
                (0..n)
                    .map(|i| Value::seq(lists.iter().map(|l| l[i].clone()).collect(), true))
                    .collect(),
                false,
            ))
        }
        "enumerate" => {
            let start = args
                .get(1, "start")
                .and_then(Value::to_const)
                .and_then(|c| c.as_int())
                .unwrap_or(0);
            let items = first?.items()?;
            Some(Value::seq(
                items
                    .into_iter()
                    .zip(start..)
                    .map(|(v, i)| Value::seq(vec![Value::Const(Const::Int(i)), v], true))
                    .collect(),
                false,
            ))
        }
        "min" | "max" | "sum" => {
            let items: Vec<Const> = if args.positional.len() == 1 {
                first?
                    .items()?
                    .iter()
                    .map(Value::to_const)
                    .collect::<Option<_>>()?
            } else {
                args.positional
                    .iter()
                    .map(|(v, _)| v.to_const())
                    .collect::<Option<_>>()?
            };
            if name == "sum" {
                return items
                    .iter()
                    .try_fold(Const::Int(0), |acc, x| Const::binary(BinOp::Add, &acc, x))
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
            c(pick)
        }
        "abs" => match first?.to_const()? {
            Const::Int(i) => c(Const::Int(i.checked_abs()?)),
            Const::Float(f) => c(Const::Float(f.abs())),
            _ => None,
        },
        "round" => {
            let v = first?.to_const()?.to_float()?;
            let Const::Float(f) = v else { return None };
            match int_arg(1) {
                None => {
                    // Python rounds half to even; 0.5 is exact in binary, so `==` is right here.
                    let r = f.round();
                    #[allow(clippy::float_cmp)]
                    let r = if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                        r - f.signum()
                    } else {
                        r
                    };
                    #[allow(clippy::cast_possible_truncation)]
                    c(Const::Int(r as i64))
                }
                Some(d) => {
                    let scale = 10f64.powi(i32::try_from(d).ok()?);
                    c(Const::Float((f * scale).round() / scale))
                }
            }
        }
        "type" => {
            let v = first?.to_const()?;
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
    let c = |s: &str| Value::Const(Const::Str(s.to_owned()));
    match dotted {
        "argparse.SUPPRESS" => c(SUPPRESS),
        "argparse.OPTIONAL" => c("?"),
        "argparse.ZERO_OR_MORE" => c("*"),
        "argparse.ONE_OR_MORE" => c("+"),
        "argparse.REMAINDER" => c("..."),
        "argparse.PARSER" => c("A..."),
        "os.sep" | "os.path.sep" => c("/"),
        "os.linesep" => c("\n"),
        "math.pi" => Value::Const(Const::Float(std::f64::consts::PI)),
        "math.e" => Value::Const(Const::Float(std::f64::consts::E)),
        "math.inf" => Value::Const(Const::Float(f64::INFINITY)),
        "sys.maxsize" => Value::Const(Const::Int(i64::MAX)),
        _ => Value::External(dotted.to_owned()),
    }
}
