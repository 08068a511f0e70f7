//! The `mlreef` binary as a user runs it: output forms, exit codes, error messages.

use std::fs;
use std::path::{Path, PathBuf};

use mlreef_core::argparse::{self, Options};

mod common;
use common::{mlreef, path_str, text};

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mlreef-core/tests/fixtures/argparse")
        .join(relative)
}

/// A script in a fresh temporary folder (which is then the script's repository).
fn temp_script(contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.py");
    fs::write(&path, contents).unwrap();
    (dir, path)
}

#[test]
fn json_is_the_library_extraction() {
    for relative in [
        "import_plain.py",
        "mutex_in_group.py",
        "subparsers_basic.py",
        "helper_cross_module/main.py",
    ] {
        let path = fixture(relative);
        let expected = argparse::extract_file(&path, &Options::default())
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
            .to_json();
        let output = mlreef(&["params", "--json", path_str(&path)]);
        assert!(output.status.success(), "{relative}: {output:?}");
        assert_eq!(text(&output.stdout), format!("{expected}\n"), "{relative}");
        assert_eq!(
            text(&output.stderr),
            "",
            "{relative}: diagnostics belong in the JSON"
        );
    }
}

#[test]
fn json_has_the_contract_fields() {
    let path = fixture("import_plain.py");
    let output = mlreef(&["params", "--json", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let epochs = json["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "epochs")
        .expect("an `epochs` parameter");
    assert_eq!(epochs["flags"], serde_json::json!(["--epochs"]));
    assert_eq!(epochs["type"], "INTEGER");
    assert_eq!(epochs["default"], 10);
    assert!(json["diagnostics"].is_array());
}

#[test]
fn table_lists_parameters_aligned() {
    let path = fixture("import_plain.py");
    let output = mlreef(&["params", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{stdout}");
    for column in ["FLAGS", "TYPE", "DEFAULT", "REQUIRED", "HELP"] {
        assert!(lines[0].contains(column), "{stdout}");
    }
    let epochs = lines
        .iter()
        .find(|l| l.starts_with("epochs "))
        .expect("an epochs row");
    let cells: Vec<&str> = epochs.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        ["epochs", "--epochs", "INTEGER", "10", "no"],
        "{stdout}"
    );
    let positional = lines
        .iter()
        .find(|l| l.starts_with("data_file "))
        .expect("a data_file row");
    assert!(
        positional.contains("(positional)") && positional.contains(" yes "),
        "{stdout}"
    );
    // Aligned: every row's FLAGS cell starts in the header's FLAGS column.
    let flags_column = lines[0].find("FLAGS").unwrap();
    for line in &lines[1..] {
        assert_eq!(line.as_bytes()[flags_column - 1], b' ', "{stdout}");
        assert_ne!(line.as_bytes()[flags_column], b' ', "{stdout}");
    }
}

#[test]
fn table_shows_subcommands_and_groups_when_present() {
    let (_dir, path) = temp_script(
        br#"import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
sub = parser.add_subparsers(dest="command")
train = sub.add_parser("train")
optim = train.add_argument_group("optimizer")
optim.add_argument("--lr", type=float, default=0.1, help="learning rate " * 20)
args = parser.parse_args()
"#,
    );
    let output = mlreef(&["params", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout);
    let header = stdout.lines().next().unwrap();
    assert!(
        header.contains("SUBCOMMAND") && header.contains("GROUP"),
        "{stdout}"
    );
    let lr = stdout
        .lines()
        .find(|l| l.starts_with("lr "))
        .expect("an lr row");
    assert!(
        lr.contains(" train ") && lr.contains(" optimizer "),
        "{stdout}"
    );
    // Long help is cut to keep rows readable.
    assert!(lr.ends_with("..."), "{stdout}");
}

#[test]
fn table_mode_prints_diagnostics_on_stderr() {
    let (_dir, path) = temp_script(
        br#"import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=os.cpu_count())
args = parser.parse_args()
"#,
    );
    let extraction = argparse::extract_file(&path, &Options::default()).unwrap();
    assert!(!extraction.diagnostics.is_empty(), "{extraction:?}");
    let output = mlreef(&["params", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), extraction.diagnostics.len(), "{stderr}");
    for (line, diagnostic) in lines.iter().zip(&extraction.diagnostics) {
        let file = diagnostic
            .file
            .clone()
            .unwrap_or_else(|| path_str(&path).to_owned());
        let prefix = format!("{file}:{}:{}: ", diagnostic.line, diagnostic.column);
        assert!(line.starts_with(&prefix), "{line}");
        assert!(line.contains(&format!("[{}]: ", diagnostic.code)), "{line}");
        assert!(line.ends_with(&diagnostic.message), "{line}");
    }
    assert!(
        !text(&output.stdout).contains("warning["),
        "diagnostics stay off stdout"
    );
}

#[test]
fn syntax_error_exits_1_with_position() {
    let (_dir, path) = temp_script(
        b"import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--x', default=)\n",
    );
    let error = argparse::extract_file(&path, &Options::default()).unwrap_err();
    let (line, column) = error.position().expect("a positioned error");
    assert_eq!(line, 3);
    let output = mlreef(&["params", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("{}:{line}:{column}: ", path.display())),
        "{stderr}"
    );
    assert_eq!(stderr, format!("{error}\n"));
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn not_utf8_exits_1_with_position() {
    let (_dir, path) = temp_script(b"import argparse\nname = 'caf\xe9'\n");
    let output = mlreef(&["params", "--json", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2:12: ", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("UTF-8"), "{stderr}");
}

#[test]
fn binary_file_exits_1() {
    let (_dir, path) = temp_script(b"\x7fELF\x02\x01\x01\x00\x00\x00");
    let output = mlreef(&["params", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("{}: ", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("binary"), "{stderr}");
}

#[test]
fn missing_file_exits_1_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_such_script.py");
    let output = mlreef(&["params", path_str(&path)]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot read `{}`: ", path.display())),
        "{stderr}"
    );
    // The OS cause follows the message, not just the path.
    assert!(stderr.trim_end().len() > format!("error: cannot read `{}`: ", path.display()).len());
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        mlreef(&["params", "--no-such-flag", "x.py"]).status.code(),
        Some(2)
    );
    assert_eq!(mlreef(&["params"]).status.code(), Some(2));
    assert_eq!(mlreef(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn help_has_an_example() {
    let output = mlreef(&["params", "--help"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("mlreef params train.py"), "{stdout}");
    assert!(
        stdout.contains("--repo <DIR>") && stdout.contains("--json"),
        "{stdout}"
    );
}

/// `scripts/train.py` imports `common.args` from the repository root, as it would when run
/// with the root on `sys.path`.
fn repo_with_helper() -> (tempfile::TempDir, PathBuf) {
    let repo = tempfile::tempdir().unwrap();
    let root = repo.path();
    fs::create_dir_all(root.join("common")).unwrap();
    fs::create_dir_all(root.join("scripts")).unwrap();
    fs::write(root.join("common/__init__.py"), "").unwrap();
    fs::write(
        root.join("common/args.py"),
        "def add_data_args(parser):\n    parser.add_argument('--input-path', required=True)\n",
    )
    .unwrap();
    let script = root.join("scripts/train.py");
    fs::write(
        &script,
        "import argparse\nfrom common.args import add_data_args\n\n\
         parser = argparse.ArgumentParser()\nadd_data_args(parser)\n\
         parser.add_argument('--epochs', type=int, default=3)\nargs = parser.parse_args()\n",
    )
    .unwrap();
    (repo, script)
}

fn parameter_names(json: &[u8]) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(json).unwrap();
    json["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn repo_option_lets_helpers_be_followed() {
    let (repo, script) = repo_with_helper();
    let output = mlreef(&[
        "params",
        "--json",
        "--repo",
        path_str(repo.path()),
        path_str(&script),
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(parameter_names(&output.stdout), ["input-path", "epochs"]);
    let options = Options {
        repo: Some(repo.path().to_path_buf()),
        ..Options::default()
    };
    let expected = argparse::extract_file(&script, &options).unwrap().to_json();
    assert_eq!(text(&output.stdout), format!("{expected}\n"));
}

#[test]
fn repo_option_bounds_what_is_read() {
    let (_repo, script) = repo_with_helper();
    let elsewhere = tempfile::tempdir().unwrap();
    let output = mlreef(&[
        "params",
        "--json",
        "--repo",
        path_str(elsewhere.path()),
        path_str(&script),
    ]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(parameter_names(&output.stdout), ["epochs"]);
}

#[test]
fn legacy_decorators_are_used_when_there_is_no_parser() {
    let (_dir, path) = temp_script(
        br#"from mlreef import data_processor, parameter


@data_processor(
    name="Rotate images",
    author="MLReef",
    type="ALGORITHM",
    description="Rotates every image by a fixed angle",
    visibility="PUBLIC",
    input_type="IMAGE",
    output_type="IMAGE",
)
@parameter(name="angle", type="Integer", required=True, defaultValue=90)
@parameter(name="crop", type="Boolean", required=False, defaultValue=False)
def rotate(params):
    return params
"#,
    );
    let legacy = mlreef_core::decorators::extract_file(&path).unwrap();
    assert!(!legacy.parameters.is_empty(), "{legacy:?}");
    let output = mlreef(&["params", "--json", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        json["parameters"],
        serde_json::to_value(&legacy.parameters).unwrap()
    );
    assert_eq!(parameter_names(&output.stdout), ["angle", "crop"]);
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.contains(&"no-parser"), "{codes:?}");
}

#[test]
fn no_parameters_is_not_an_error() {
    let (_dir, path) = temp_script(b"print('hello')\n");
    let output = mlreef(&["params", path_str(&path)]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout), "no parameters\n");
    assert!(text(&output.stderr).contains("[no-parser]"), "{output:?}");
}

#[test]
fn verbose_adds_what_touches_no_parameter() {
    let (dir, path) = temp_script(
        b"import argparse, os\nLEVEL = os.getenv('LOG_LEVEL', 'INFO')\n\
          p = argparse.ArgumentParser()\n\
          p.add_argument('--input-path', default=os.getenv('DATA', '/data'))\n\
          p.add_argument('--output-path')\np.parse_args()\n",
    );
    let quiet = mlreef(&["params", path_str(&path)]);
    assert!(quiet.status.success(), "{quiet:?}");
    let quiet = text(&quiet.stderr);
    assert!(
        quiet.contains("`DATA`") && !quiet.contains("`LOG_LEVEL`"),
        "{quiet}"
    );
    for args in [
        vec!["params", "--verbose", path_str(&path)],
        vec!["inspect", "-v", path_str(dir.path())],
    ] {
        let loud = mlreef(&args);
        assert!(loud.status.success(), "{args:?}: {loud:?}");
        let loud = text(&loud.stderr);
        assert!(
            loud.contains("`DATA`") && loud.contains("`LOG_LEVEL`"),
            "{args:?}: {loud}"
        );
    }
    let inspect = mlreef(&["inspect", path_str(dir.path())]);
    assert!(!text(&inspect.stderr).contains("`LOG_LEVEL`"));
}
