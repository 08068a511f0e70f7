//! The parameter table of `mlreef params`: aligned plain-text columns, one row per parameter.

use std::io::{self, Write};

use mlreef_core::Parameter;
use serde_json::Value as Json;

/// Help is cut here so that a row stays readable in an ordinary terminal.
const HELP_WIDTH: usize = 60;
/// Defaults such as long lists or dictionaries are cut here; `--json` has them whole.
const DEFAULT_WIDTH: usize = 30;
const GAP: &str = "  ";

/// Writes `parameters` as a table. Sub-command and group columns appear only when some
/// parameter has one.
pub fn write(out: &mut impl Write, parameters: &[Parameter]) -> io::Result<()> {
    if parameters.is_empty() {
        return writeln!(out, "no parameters");
    }
    let with_subcommand = parameters.iter().any(|p| p.subcommand.is_some());
    let with_group = parameters.iter().any(|p| p.group.is_some());

    let mut header = vec!["NAME", "FLAGS", "TYPE", "DEFAULT", "REQUIRED"];
    if with_subcommand {
        header.push("SUBCOMMAND");
    }
    if with_group {
        header.push("GROUP");
    }
    header.push("HELP");

    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for parameter in parameters {
        let mut row = vec![
            name(parameter),
            flags(parameter),
            parameter.schema_type.to_string(),
            default(parameter),
            if parameter.required { "yes" } else { "no" }.to_owned(),
        ];
        if with_subcommand {
            row.push(parameter.subcommand.clone().unwrap_or_default());
        }
        if with_group {
            row.push(parameter.group.as_deref().map(one_line).unwrap_or_default());
        }
        row.push(truncate(
            &parameter.help.as_deref().map(one_line).unwrap_or_default(),
            HELP_WIDTH,
        ));
        rows.push(row);
    }
    write_rows(out, &rows)
}

/// Writes rows (the first is the header) as aligned columns separated by two spaces.
pub fn write_rows(out: &mut impl Write, rows: &[Vec<String>]) -> io::Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let columns = first.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str(GAP);
            }
            line.push_str(cell);
            if c + 1 < columns {
                let pad = widths[c] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn name(parameter: &Parameter) -> String {
    parameter
        .name
        .as_deref()
        .or(parameter.dest.as_deref())
        .unwrap_or("-")
        .to_owned()
}

fn flags(parameter: &Parameter) -> String {
    if parameter.flags.is_empty() {
        "(positional)".to_owned()
    } else {
        parameter.flags.join(", ")
    }
}

/// The default in its JSON form (so `"1"` and `1` differ), or the source text of a default the
/// extractor could not evaluate, in angle brackets.
fn default(parameter: &Parameter) -> String {
    match (&parameter.default, &parameter.default_expr) {
        (Json::Null, Some(expr)) => format!("<{}>", truncate(&one_line(expr), DEFAULT_WIDTH - 2)),
        (value, _) => truncate(&value.to_string(), DEFAULT_WIDTH),
    }
}

/// Collapses runs of whitespace, newlines included, so that a cell stays on its row.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(3)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_short_text_and_marks_cuts() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 6), "abc...");
        assert_eq!(truncate("ab  cdefgh", 7), "ab...");
        assert_eq!(truncate("ééééééé", 5).chars().count(), 5);
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line("a\n   b\tc "), "a b c");
    }
}
