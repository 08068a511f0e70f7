//! Inputs a user or an attacker can hand the extractor: it must answer (an error with a
//! position, or an extraction) on the default 2 MiB thread stack, without hanging.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use mlreef_core::argparse::{Error, Options, extract_file};
use mlreef_core::{Extraction, Parameter};
use serde_json::json;

/// The stack Rust gives test threads and spawned threads by default.
const DEFAULT_STACK: usize = 2 << 20;
/// Far beyond what any of these inputs needs, even in a debug build.
const DEADLINE: Duration = Duration::from_mins(1);

/// Runs `extract_file` on `contents` in a thread with the default stack, failing the test
/// instead of hanging when it takes longer than `deadline`.
fn extract_bytes(contents: Vec<u8>, deadline: Duration) -> (PathBuf, Result<Extraction, Error>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.py");
    std::fs::write(&path, contents).unwrap();
    let (send, receive) = mpsc::channel();
    let script = path.clone();
    thread::Builder::new()
        .stack_size(DEFAULT_STACK)
        .spawn(move || {
            let _ = send.send(extract_file(&script, &Options::default()));
        })
        .unwrap();
    let result = receive
        .recv_timeout(deadline)
        .unwrap_or_else(|e| panic!("no answer within {deadline:?} ({e}): hang or panic"));
    // The folder must outlive the extraction; the path is kept for assertions only.
    drop(dir);
    (path, result)
}

fn extract_source(source: &str) -> (PathBuf, Result<Extraction, Error>) {
    extract_bytes(source.as_bytes().to_vec(), DEADLINE)
}

fn parameter<'a>(extraction: &'a Extraction, name: &str) -> &'a Parameter {
    extraction
        .parameters
        .iter()
        .find(|p| p.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no parameter `{name}` in {:#?}", extraction.parameters))
}

fn names(extraction: &Extraction) -> Vec<&str> {
    extraction
        .parameters
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect()
}

fn assert_syntax_error(
    path: &Path,
    result: Result<Extraction, Error>,
    expected_line: usize,
    expected_column: usize,
    expected_message: &str,
) {
    let error = result.expect_err("a syntax error");
    let Error::Syntax {
        path: error_path,
        line,
        column,
        message,
    } = &error
    else {
        panic!("expected a syntax error, got {error:?}");
    };
    assert_eq!(
        (*line, *column),
        (expected_line, expected_column),
        "{error}"
    );
    assert!(message.contains(expected_message), "{error}");
    assert_eq!(error_path.as_deref(), Some(path));
    assert_eq!(error.position(), Some((expected_line, expected_column)));
    assert!(
        error.to_string().starts_with(&format!(
            "{}:{expected_line}:{expected_column}: ",
            path.display()
        )),
        "{error}"
    );
}

/// A parser whose `--n` default is `expression`, which the extractor must survive.
fn script_with_default(expression: &str) -> String {
    format!(
        "import argparse\n\
         parser = argparse.ArgumentParser()\n\
         parser.add_argument(\"--n\", type=int, default={expression})\n\
         parser.add_argument(\"--after\", default=\"still read\")\n\
         args = parser.parse_args()\n"
    )
}

/// The default is either evaluated or reported as dynamic with its source text, never guessed.
fn assert_default_evaluated_or_dynamic(extraction: &Extraction, value: &serde_json::Value) {
    let n = parameter(extraction, "n");
    assert_eq!((n.line, n.column), (3, 1));
    if n.default.is_null() {
        assert!(n.default_expr.is_some(), "{n:?}");
        assert!(
            extraction.diagnostics.iter().any(|d| d.line == 3),
            "an unevaluated default is reported: {:?}",
            extraction.diagnostics
        );
    } else {
        assert_eq!(&n.default, value);
    }
    assert_eq!(parameter(extraction, "after").default, json!("still read"));
}

#[test]
fn syntax_error_has_line_and_column() {
    let (path, result) = extract_source(
        "import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--x', default=)\n",
    );
    // CPython: `File "train.py", line 3` with the caret under `)`, offset 36.
    assert_syntax_error(&path, result, 3, 36, "");
}

#[test]
fn unexpected_end_of_file_is_a_syntax_error() {
    let (path, result) = extract_source("import argparse\nparser = argparse.ArgumentParser(\n");
    let error = result.expect_err("a syntax error");
    assert!(matches!(error, Error::Syntax { .. }), "{error:?}");
    assert_eq!(error.position().map(|(line, _)| line), Some(3), "{error}");
    assert!(error.to_string().starts_with(&path.display().to_string()));
}

#[test]
fn not_utf8_names_the_byte_and_its_position() {
    let (path, result) = extract_bytes(
        b"import argparse\nparser = argparse.ArgumentParser()\nlabel = 'caf\xe9'\n".to_vec(),
        DEADLINE,
    );
    let error = result.expect_err("not UTF-8");
    let Error::NotUtf8 {
        path: error_path,
        line,
        column,
        byte,
    } = &error
    else {
        panic!("expected NotUtf8, got {error:?}");
    };
    assert_eq!((*line, *column, *byte), (3, 13, 0xe9), "{error}");
    assert_eq!(error_path.as_deref(), Some(path.as_path()));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:3:13: ", path.display()))
    );
}

#[test]
fn not_utf8_column_counts_characters() {
    // Two-byte characters before the bad byte count as one column each.
    let (_path, result) = extract_bytes("s = 'éé".bytes().chain(*b"\xff'\n").collect(), DEADLINE);
    let error = result.expect_err("not UTF-8");
    assert!(
        matches!(error, Error::NotUtf8 { byte: 0xff, .. }),
        "{error:?}"
    );
    assert_eq!(error.position(), Some((1, 8)));
}

#[test]
fn binary_file_is_refused() {
    let mut elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00".to_vec();
    elf.extend(std::iter::repeat_n(0u8, 4096));
    let (path, result) = extract_bytes(elf, DEADLINE);
    let error = result.expect_err("binary");
    let Error::Binary { path: error_path } = &error else {
        panic!("expected Binary, got {error:?}");
    };
    assert_eq!(error_path.as_deref(), Some(path.as_path()));
    assert_eq!(error.position(), None);
}

#[test]
fn empty_file_has_no_parser() {
    let (_path, result) = extract_source("");
    let extraction = result.expect("an empty module is valid Python");
    assert!(extraction.parameters.is_empty());
    assert!(
        extraction.diagnostics.iter().any(|d| d.code == "no-parser"),
        "{:?}",
        extraction.diagnostics
    );
}

#[test]
fn bom_and_crlf_are_accepted() {
    let (_path, result) = extract_source(
        "\u{feff}import argparse\r\nparser = argparse.ArgumentParser()\r\n\
         parser.add_argument('--epochs', type=int, default=3)\r\nargs = parser.parse_args()\r\n",
    );
    let extraction = result.unwrap();
    let epochs = parameter(&extraction, "epochs");
    assert_eq!((epochs.line, epochs.column), (3, 1));
    assert_eq!(epochs.default, json!(3));
}

/// A realistic module around one parser: data loading, models, training loops and utilities.
fn realistic_script(target_bytes: usize) -> String {
    let mut source = String::from(
        "\"\"\"Train an image classifier.\"\"\"\n\
         import argparse\nimport json\nimport logging\nimport os\nimport random\n\n\
         import numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\
         from torch.utils.data import DataLoader, Dataset\n\n\
         logger = logging.getLogger(__name__)\n\n",
    );
    let mut i = 0usize;
    while source.len() < target_bytes {
        write!(
            source,
            r#"
class Block{i}(nn.Module):
    """Residual block {i}: two convolutions and a skip connection."""

    def __init__(self, channels={channels}, dropout={dropout}):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        residual = x
        x = F.relu(self.norm(self.conv1(x)))
        x = self.dropout(self.conv2(x))
        return F.relu(x + residual)


def load_split_{i}(root, split="train", limit=None):
    paths = sorted(os.path.join(root, split, name) for name in os.listdir(os.path.join(root, split)))
    if limit is not None:
        paths = paths[:limit]
    labels = {{path: int(os.path.basename(path).split("_")[0]) for path in paths}}
    logger.info("split %s: %d files (%s)", split, len(paths), "loader {i}")
    return paths, labels


def train_epoch_{i}(model, loader, optimizer, device="cpu", clip={clip}):
    model.train()
    total, correct, running = 0, 0, 0.0
    for step, (images, targets) in enumerate(loader):
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        running += loss.item() * images.size(0)
        correct += (logits.argmax(dim=1) == targets).sum().item()
        total += images.size(0)
        if step % {log_every} == 0:
            logger.debug("step %d loss %.4f", step, loss.item())
    return {{"loss": running / max(total, 1), "acc": correct / max(total, 1)}}

"#,
            channels = 16 << (i % 4),
            dropout = f64::from(u32::try_from(i % 5).unwrap()) / 10.0,
            clip = 1 + i % 3,
            log_every = 10 + i % 90,
        )
        .unwrap();
        i += 1;
    }
    source.push_str(
        r#"
def main():
    parser = argparse.ArgumentParser(description="Train an image classifier")
    parser.add_argument("--input-path", required=True, help="folder with train/ and val/")
    parser.add_argument("--output-path", default="output", help="where experiment.json goes")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    args = parser.parse_args()
    history = {}
    for epoch in range(args.epochs):
        history[str(epoch)] = {"acc": random.random(), "loss": random.random()}
    with open(os.path.join(args.output_path, "experiment.json"), "w") as out:
        json.dump(history, out)


if __name__ == "__main__":
    main()
"#,
    );
    source
}

#[test]
fn ten_megabyte_script_is_read_whole() {
    let source = realistic_script(10 << 20);
    assert!(source.len() >= 10 << 20);
    let input_line = 1 + source
        .lines()
        .position(|l| l.contains("\"--input-path\""))
        .unwrap();
    let (_path, result) = extract_bytes(source.into_bytes(), Duration::from_mins(5));
    let extraction = result.expect("a valid script");
    assert_eq!(
        names(&extraction),
        ["input-path", "output-path", "epochs", "lr"]
    );
    let input = parameter(&extraction, "input-path");
    assert!(input.required);
    // Positions are computed for the end of a large file, not approximated.
    assert_eq!(input.line, input_line, "{input:?}");
    assert_eq!(input.column, 5);
    assert_eq!(parameter(&extraction, "lr").default, json!(0.001));
}

#[test]
fn fifty_thousand_nested_parentheses_are_refused_like_cpython() {
    let (path, result) = extract_source(&format!(
        "import argparse\nx = {}1{}\n",
        "(".repeat(50_000),
        ")".repeat(50_000)
    ));
    // CPython: "too many nested parentheses" at the 201st bracket, line 2, offset 205.
    assert_syntax_error(&path, result, 2, 205, "too many nested parentheses");
}

#[test]
fn fifty_thousand_nested_lists_are_refused_like_cpython() {
    let (path, result) = extract_source(&format!(
        "import argparse\nparser = argparse.ArgumentParser()\n\
         parser.add_argument('--x', default={}1{})\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    ));
    // 1 bracket of the call, then `[` from column 36 onwards: the 201st bracket is at 235.
    assert_syntax_error(&path, result, 3, 235, "too many nested parentheses");
}

#[test]
fn nesting_below_the_limit_is_evaluated() {
    let (_path, result) = extract_source(&script_with_default(&format!(
        "{}7{}",
        "(".repeat(150),
        ")".repeat(150)
    )));
    let extraction = result.expect("150 brackets are within CPython's limit");
    assert_eq!(parameter(&extraction, "n").default, json!(7));
}

#[test]
fn hundred_thousand_term_sum_in_a_default() {
    let terms = vec!["1"; 100_000].join("+");
    let (_path, result) = extract_source(&script_with_default(&terms));
    let extraction = result.expect("a long sum is valid syntax");
    assert_default_evaluated_or_dynamic(&extraction, &json!(100_000));
}

#[test]
fn twenty_thousand_unary_minuses_in_a_default() {
    // An even number of minuses: the value is 1.
    let expression = format!("{}1", "-".repeat(20_000));
    let (_path, result) = extract_source(&script_with_default(&expression));
    let extraction = result.expect("chained unary operators are valid syntax");
    assert_default_evaluated_or_dynamic(&extraction, &json!(1));
}
