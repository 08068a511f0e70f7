//! The example modules (`examples/modules/`) end to end, as a user runs them: published with
//! `mlreef publish` on the Debian base to a real registry, copied back by skopeo, unpacked by
//! umoci and run under `chroot` through the run template of their `mlreef.yml`, with command
//! lines `mlreef run-args` renders for two parameter sets; their outputs are checked, and the
//! module `mlreef inspect` reads from the registry is the one of the repository.
//!
//! Needs root (chroot), the test command's base root file system and registry, and the package index for
//! the dependency layers (uv's cache makes later runs quick).

use std::fs;
use std::path::{Path, PathBuf};

use mlreef_testing::{chroot, image_process, path_str, registry, rootfs, skopeo, unpack};
use serde_json::Value;

mod common;
use common::{mlreef_with_env, text};

/// One run of a module: its parameter values (`NAME=VALUE`, as for `run-args --set`) and a
/// check of what it wrote to its output folder.
struct Run {
    set: &'static [&'static str],
    check: fn(&Path),
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/modules")
        .join(name)
}

/// Runs `mlreef ARGS` with a cache of the test's own, and checks it succeeded.
fn mlreef_ok(args: &[&str], cache: &Path) -> String {
    let output = mlreef_with_env(args, &[("MLREEF_CACHE", path_str(cache))]);
    assert!(
        output.status.success(),
        "mlreef {args:?}:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// A PNG's width and height, from its header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

/// `experiment.json` as DESIGN.md says a model writes it: an object keyed by epoch, each with
/// an accuracy and a loss.
fn check_experiment(out: &Path, epochs: usize) {
    let experiment: Value =
        serde_json::from_slice(&fs::read(out.join("experiment.json")).unwrap()).unwrap();
    let epochs_written = experiment.as_object().unwrap();
    assert_eq!(epochs_written.len(), epochs, "{experiment}");
    for epoch in 0..epochs {
        let metrics = &experiment[epoch.to_string()];
        let accuracy = metrics["acc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&accuracy), "{experiment}");
        assert!(metrics["loss"].as_f64().unwrap() >= 0.0, "{experiment}");
    }
    assert!(fs::metadata(out.join("model.joblib")).unwrap().len() > 0);
}

/// Publishes the example `name`, brings it back with skopeo, and runs it for each of `runs`.
fn publish_and_run(name: &str, runs: &[Run]) {
    let repo = example(name);
    let repo = repo.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let registry = registry();
    let reference = format!(
        "{}/examples/{name}-{}:1",
        registry.address,
        std::process::id()
    );
    let base = format!("rootfs:{}", rootfs().display());
    let published: Value = serde_json::from_str(&mlreef_ok(
        &[
            "publish", repo, "--base", &base, "--push", &reference, "--json",
        ],
        &cache,
    ))
    .unwrap();

    // The registry is a catalogue: the module it describes is the repository's.
    let from_registry = mlreef_ok(
        &["inspect", &format!("docker://{reference}"), "--json"],
        &cache,
    );
    let from_repository = mlreef_ok(&["inspect", repo, "--json"], &cache);
    assert_eq!(from_registry, from_repository);

    // Copied back by another tool, with the digest the publish printed.
    let layout = work.path().join("layout");
    let _ = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{reference}"),
        &format!("oci:{}:back", path_str(&layout)),
    ]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci:{}:back", path_str(&layout)),
    ]);
    assert_eq!(
        mlreef_core::oci::digest_bytes(raw.as_bytes()).to_string(),
        published["digest"].as_str().unwrap()
    );
    let bundle = unpack(&layout, "back");
    let bundle = bundle.path().join("bundle");
    let root = bundle.join("rootfs");
    let (image_env, cwd) = image_process(&bundle);

    // The run template as a CI job runs it: the data paths as job variables, every other
    // value in MLREEF_ARGS as `run-args --shell` prints it.
    let template = run_template(Path::new(repo));
    for (i, run) in runs.iter().enumerate() {
        let output = format!("/tmp/out-{i}");
        let mut args = vec![
            "run-args",
            repo,
            "--shell",
            "--set",
            "input-path=/workdir/data",
        ];
        let output_set = format!("output-path={output}");
        args.extend(["--set", &output_set]);
        for value in run.set {
            args.extend(["--set", value]);
        }
        let line = mlreef_ok(&args, &cache);
        let mut env: Vec<(&str, &str)> = image_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("INPUT_PATH", "/workdir/data"));
        env.push(("OUTPUT_PATH", &output));
        env.push(("MLREEF_ARGS", line.trim_end()));
        let ran = chroot(&root, &cwd, &env, &["/bin/sh", "-c", &template]);
        assert!(
            ran.status.success(),
            "{name} with {:?}:\n{}{}",
            run.set,
            text(&ran.stdout),
            text(&ran.stderr)
        );
        (run.check)(&root.join(output.trim_start_matches('/')));
    }
}

/// The script line of the `.mlreef-run` template of the repository's `mlreef.yml`.
fn run_template(repo: &Path) -> String {
    let yaml = fs::read_to_string(repo.join("mlreef.yml")).unwrap();
    let file = mlreef_core::pipeline::read(&yaml, None).unwrap();
    let script = &file.document[mlreef_core::pipeline::RUN_TEMPLATE]["script"];
    script[0].as_str().unwrap().to_owned()
}

#[test]
fn the_classifier_trains_and_writes_its_model_and_experiment() {
    publish_and_run(
        "classifier",
        &[
            Run {
                set: &[
                    "algorithm=forest",
                    "epochs=3",
                    "features=petal_length",
                    "features=petal_width",
                    "standardize=true",
                ],
                check: |out| check_experiment(out, 3),
            },
            Run {
                set: &["epochs=5", "test-size=0.3", "seed=7"],
                check: |out| check_experiment(out, 5),
            },
        ],
    );
}

#[test]
fn the_image_operation_transforms_every_image() {
    publish_and_run(
        "image-ops",
        &[
            Run {
                set: &[
                    "operation=resize",
                    "width=64",
                    "height=48",
                    "keep-aspect=false",
                    "format=png",
                ],
                check: |out| {
                    let files = files_under(out);
                    assert_eq!(
                        files,
                        ["gradient.png", "landscape.png", "shapes/shapes.png"]
                    );
                    for file in files {
                        assert_eq!(png_size(&out.join(file)), (64, 48));
                    }
                },
            },
            Run {
                set: &["operation=grayscale", "extensions=png"],
                check: |out| {
                    assert_eq!(files_under(out), ["gradient.png", "shapes/shapes.png"]);
                    assert_eq!(png_size(&out.join("gradient.png")), (96, 64));
                },
            },
        ],
    );
}

#[test]
fn the_visualization_draws_its_png() {
    publish_and_run(
        "plot",
        &[
            Run {
                set: &["group=species"],
                check: |out| assert_eq!(png_size(&out.join("plot.png")), (640, 480)),
            },
            Run {
                set: &[
                    "kind=histogram",
                    "columns=petal_length",
                    "columns=sepal_length",
                    "bins=15",
                    "dpi=50",
                    "grid=false",
                    "name=hist.png",
                ],
                check: |out| {
                    assert_eq!(files_under(out), ["hist.png"]);
                    assert_eq!(png_size(&out.join("hist.png")), (320, 240));
                },
            },
        ],
    );
}
