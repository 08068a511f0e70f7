//! The layers of `mlreef-core/src` point one way.
//!
//! Every `.rs` file under `src` belongs to a top-level module (`src/foo.rs` and everything in
//! `src/foo/` belong to `foo`). Each `crate::...` path in code (not in comments or strings) is
//! an import of the module it names; a name `lib.rs` re-exports at the root (`crate::Parameter`)
//! counts as an import of the module it comes from. The test fails when a module imports one
//! that imports it back, directly or through others, and when a module imports one that is not
//! above it in [`LAYERS`] (a new module must be given its place there).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The order of the layers: each module may use only those before it. `repo`, `progress`,
/// `parameter` and `yaml` are small shared pieces with homes of their own below their users;
/// `error` names every domain's error, so it comes after them, and `publish`, the flow that chains
/// them all and returns that error, comes last.
const LAYERS: &[&str] = &[
    "repo",
    "progress",
    "platform",
    "parameter",
    "python",
    "source",
    "yaml",
    "argparse",
    "decorators",
    "requirements",
    "module",
    "pipeline",
    "oci",
    "deps",
    "error",
    "publish",
];

/// One import: which module, from which file and line.
#[derive(Debug, Clone)]
struct Import {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to; `None` for `lib.rs`.
fn owner(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    if relative.components().count() > 1 {
        return Some(first.into_owned());
    }
    let stem = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (stem != "lib").then_some(stem)
}

/// The source with comments, string literals and character literals blanked out (newlines
/// kept, so line numbers stay right).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && starts_token(&chars, i) {
            // A raw string: r"..." or r#"..."# (br"..." too: the `b` went out as code).
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let mut end = chars.len();
            for k in j + 1..chars.len() {
                if chars[k] == '"' && (0..hashes).all(|h| chars.get(k + 1 + h) == Some(&'#')) {
                    end = k + 1 + hashes;
                    break;
                }
            }
            for &ch in &chars[i..end] {
                out.push(blank(ch));
            }
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), or a lifetime ('a), left as it is.
            let literal_end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&ch| ch == '\'')
                    .map(|at| i + 2 + at + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            if let Some(end) = literal_end {
                for &ch in &chars[i..end] {
                    out.push(blank(ch));
                }
                i = end;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `at` starts a token (a raw string's prefix, alone or after `b`), rather
/// than ending an identifier such as `for` or `ptr`.
fn starts_token(chars: &[char], at: usize) -> bool {
    let word = |i: usize| {
        chars
            .get(i)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    };
    match at {
        0 => true,
        _ if !word(at - 1) => true,
        _ => chars[at - 1] == 'b' && (at < 2 || !word(at - 2)),
    }
}

fn identifier_at(text: &str) -> Option<&str> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// The first segment of every item of a `{...}` group (`{a, b::c, d::{e, f}}` gives a, b, d).
fn group_heads(group: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = 0;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.extend(identifier_at(group[item_start..at].trim_start()));
                item_start = at + 1;
            }
            _ => {}
        }
    }
    heads.extend(identifier_at(group[item_start..].trim_start()));
    heads
}

/// Every name after `crate::` in `code`, with its line.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut rest = code;
    let mut offset = 0;
    while let Some(at) = rest.find("crate::") {
        let start = offset + at;
        let preceded = code[..start]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        let after = &code[start + "crate::".len()..];
        let line = code[..start].matches('\n').count() + 1;
        if !preceded {
            let after_trimmed = after.trim_start();
            if let Some(group) = after_trimmed.strip_prefix('{') {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(group.len(), |(i, _)| i);
                out.extend(
                    group_heads(&group[..end])
                        .into_iter()
                        .map(|h| (h.to_owned(), line)),
                );
            } else if let Some(name) = identifier_at(after_trimmed) {
                out.push((name.to_owned(), line));
            }
        }
        offset = start + "crate::".len();
        rest = &code[offset..];
    }
    out
}

/// The names `lib.rs` re-exports at the root (`pub use module::Module`), and where from.
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let code = code_only(lib);
    let mut out = BTreeMap::new();
    for statement in code.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let path = path
            .trim()
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        if !modules.contains(module) {
            continue;
        }
        let rest = rest.trim();
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group.trim_end_matches('}').split(',').collect(),
            None => vec![rest],
        };
        for name in names {
            // `a::b::Name`, `Name as Alias`: the name the root exposes.
            let name = name.trim();
            let exposed = name.rsplit_once(" as ").map_or_else(
                || name.rsplit("::").next().unwrap_or(name),
                |(_, alias)| alias,
            );
            if !exposed.is_empty() {
                out.insert(exposed.trim().to_owned(), module.to_owned());
            }
        }
    }
    out
}

fn imports() -> (BTreeSet<String>, Vec<Import>) {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let modules: BTreeSet<String> = files.iter().filter_map(|f| owner(f)).collect();
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let reexports = root_reexports(&lib, &modules);
    let mut out = Vec::new();
    for file in &files {
        let Some(from) = owner(file) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for (name, line) in crate_paths(&code) {
            let to = if modules.contains(&name) {
                name
            } else if let Some(module) = reexports.get(&name) {
                module.clone()
            } else {
                // Something `lib.rs` itself defines, or a macro: not a module.
                continue;
            };
            if to != from {
                out.push(Import {
                    from: from.clone(),
                    to,
                    file: file.strip_prefix(src()).unwrap().to_owned(),
                    line,
                });
            }
        }
    }
    (modules, out)
}

/// A cycle in `edges` (module -> modules it imports), if there is one, as the modules on it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

fn where_(imports: &[Import], from: &str, to: &str) -> String {
    imports
        .iter()
        .find(|i| i.from == from && i.to == to)
        .map(|i| format!("{}:{}", i.file.display(), i.line))
        .unwrap_or_default()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let (modules, imports) = imports();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for import in &imports {
        edges
            .entry(import.from.clone())
            .or_default()
            .insert(import.to.clone());
    }
    // The scan sees what is certainly there, so a pass is not a scan that found nothing.
    assert!(modules.contains("pipeline") && modules.contains("module"));
    assert!(edges["pipeline"].contains("module"), "{edges:?}");
    assert!(
        edges["module"].contains("parameter"),
        "`crate::Parameter` maps to `parameter`"
    );
    if let Some(cycle) = find_cycle(&edges) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} -> {} ({})", w[0], w[1], where_(&imports, &w[0], &w[1])))
            .collect();
        panic!("the layers form a cycle:\n  {}", steps.join("\n  "));
    }
}

#[test]
fn each_module_uses_only_the_layers_above_it() {
    let (modules, imports) = imports();
    let unplaced: Vec<&String> = modules
        .iter()
        .filter(|m| !LAYERS.contains(&m.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "give {unplaced:?} a place in LAYERS (tests/layers.rs): below every module it uses"
    );
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m).unwrap();
    let upward: Vec<String> = imports
        .iter()
        .filter(|i| rank(&i.to) > rank(&i.from))
        .map(|i| {
            format!(
                "{}:{}: `{}` uses `{}`, a layer below it",
                i.file.display(),
                i.line,
                i.from,
                i.to
            )
        })
        .collect();
    assert!(upward.is_empty(), "{}", upward.join("\n"));
}

#[test]
fn the_scanner_reads_paths_not_comments_or_strings() {
    let code = code_only(
        "use crate::{a, b::{c, d}, e::f};\n// crate::comment\nlet s = \"crate::string\";\nlet r = r#\"crate::raw\"#;\nlet c = '\"'; x(crate::g::h, 'a');\n/* crate::block */ fn f<'a>() {}\n",
    );
    let names: Vec<(String, usize)> = crate_paths(&code);
    assert_eq!(
        names,
        [
            ("a".to_owned(), 1),
            ("b".to_owned(), 1),
            ("e".to_owned(), 1),
            ("g".to_owned(), 5)
        ]
    );
    let modules: BTreeSet<String> = ["module", "parameter"].map(String::from).into();
    let reexports = root_reexports(
        "pub mod module;\npub use module::Module;\npub use parameter::{Diagnostic, Nargs as N};\n",
        &modules,
    );
    assert_eq!(reexports["Module"], "module");
    assert_eq!(reexports["N"], "parameter");
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
