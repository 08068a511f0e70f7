//! Inputs for the benches: the realistic argparse fixtures and a large synthetic script, and
//! for the requirements parser the shared corpus, its realistic fixtures and a generated
//! pip-compile file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The argparse fixtures folder of `mlreef-core`.
#[must_use]
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mlreef-core/tests/fixtures/argparse")
}

/// The entry points the benches measure: the `realistic_*` fixtures (a file `realistic_*.py`
/// or a folder `realistic_*/` with a `main.py`), or every fixture when there are none.
///
/// `benches/peer_params.sh` selects the same files, so both compare like with like.
#[must_use]
pub fn fixture_scripts() -> Vec<PathBuf> {
    let realistic = entry_points(&fixtures_dir(), |name| name.starts_with("realistic_"));
    if realistic.is_empty() {
        entry_points(&fixtures_dir(), |_| true)
    } else {
        realistic
    }
}

fn entry_points(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut scripts: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(&keep)
        })
        .filter_map(|path| {
            if path.is_dir() {
                Some(path.join("main.py")).filter(|main| main.is_file())
            } else {
                Some(path).filter(|p| p.extension().is_some_and(|e| e == "py"))
            }
        })
        .collect();
    scripts.sort();
    scripts
}

/// A training script of at least `min_bytes`: whole training programs (data, model, loops,
/// metrics) wrapped in functions, each contributing its options through a helper, and one
/// parser in `main` that gathers them all. This is the shape of a research repository's
/// `train.py` that has grown by copy and paste.
#[must_use]
pub fn synthetic_script(min_bytes: usize) -> String {
    let mut source = String::from(HEADER);
    let mut programs = 0;
    while source.len() < min_bytes {
        let template = TEMPLATES[programs % TEMPLATES.len()];
        source.push_str(&template.replace("{N}", &programs.to_string()));
        programs += 1;
    }
    source.push_str(
        "\ndef main():\n    parser = argparse.ArgumentParser(description=\"All experiments\")\n    \
         parser.add_argument(\"--input-path\", required=True)\n    \
         parser.add_argument(\"--output-path\", default=\"output\")\n",
    );
    for n in 0..programs {
        writeln!(source, "    add_args_{n}(parser)").unwrap();
    }
    source.push_str(
        "    args = parser.parse_args()\n    run_0(args)\n\n\nif __name__ == \"__main__\":\n    main()\n",
    );
    source
}

const HEADER: &str = r#""""Experiments for the image, text and tabular models, one entry point."""
import argparse
import json
import logging
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

logger = logging.getLogger(__name__)
DEFAULT_SEED = 42
OPTIMIZERS = ["adam", "adamw", "sgd"]

"#;

const TEMPLATES: [&str; 3] = [
    r#"
def add_args_{N}(parser):
    group = parser.add_argument_group("image model {N}")
    group.add_argument("--m{N}-epochs", type=int, default=10, help="passes over the training set")
    group.add_argument("--m{N}-batch-size", type=int, default=32, help="images per batch")
    group.add_argument("--m{N}-lr", type=float, default=1e-3, help="initial learning rate (%(default)s)")
    group.add_argument("--m{N}-optimizer", choices=OPTIMIZERS, default="adam")
    group.add_argument("--m{N}-augment", action="store_true", help="random flips and crops")
    group.add_argument("--m{N}-image-size", type=int, nargs=2, default=[224, 224], metavar=("H", "W"))


def run_{N}(args):
    class ImageFolder(Dataset):
        def __init__(self, root, size, augment=False):
            self.files = sorted(Path(root).glob("**/*.jpg"))
            self.classes = sorted({f.parent.name for f in self.files})
            self.index = {name: i for i, name in enumerate(self.classes)}
            self.size = size
            self.augment = augment

        def __len__(self):
            return len(self.files)

        def __getitem__(self, i):
            path = self.files[i]
            image = torch.rand(3, *self.size)
            if self.augment and random.random() < 0.5:
                image = torch.flip(image, dims=[2])
            return image, self.index[path.parent.name]

    class Net(nn.Module):
        def __init__(self, classes, width=64):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(width, width * 2, 3, padding=1), nn.BatchNorm2d(width * 2), nn.ReLU(),
                nn.AdaptiveAvgPool2d(1),
            )
            self.head = nn.Linear(width * 2, classes)

        def forward(self, x):
            return self.head(torch.flatten(self.features(x), 1))

    torch.manual_seed(DEFAULT_SEED + {N})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train = ImageFolder(os.path.join(args.input_path, "train"), args.m{N}_image_size, args.m{N}_augment)
    val = ImageFolder(os.path.join(args.input_path, "val"), args.m{N}_image_size)
    loaders = {
        "train": DataLoader(train, batch_size=args.m{N}_batch_size, shuffle=True, num_workers=4),
        "val": DataLoader(val, batch_size=args.m{N}_batch_size * 2),
    }
    model = Net(len(train.classes)).to(device)
    if args.m{N}_optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=args.m{N}_lr, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.m{N}_lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.m{N}_epochs)
    history = {}
    for epoch in range(args.m{N}_epochs):
        started = time.time()
        model.train()
        for images, labels in loaders["train"]:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in loaders["val"]:
                predicted = model(images.to(device)).argmax(dim=1).cpu()
                correct += (predicted == labels).sum().item()
                total += labels.numel()
        history[str(epoch)] = {"acc": correct / max(total, 1), "loss": float(loss)}
        logger.info("epoch %d: %s (%.1fs)", epoch, history[str(epoch)], time.time() - started)
        os.makedirs(args.output_path, exist_ok=True)
        with open(os.path.join(args.output_path, "experiment.json"), "w") as out:
            json.dump(history, out)
    torch.save(model.state_dict(), os.path.join(args.output_path, "model_{N}.pt"))
    return history

"#,
    r#"
def add_args_{N}(parser):
    text = parser.add_argument_group("text model {N}", "fine-tuning a pretrained encoder")
    text.add_argument("--m{N}-model-name", default="bert-base-uncased", help="a Hugging Face model id")
    text.add_argument("--m{N}-max-length", type=int, default=128)
    text.add_argument("--m{N}-warmup-ratio", type=float, default=0.06)
    text.add_argument("--m{N}-weight-decay", type=float, default=0.01)
    text.add_argument("--m{N}-fp16", action="store_true")
    text.add_argument("--m{N}-labels", nargs="+", default=["negative", "positive"])
    text.add_argument("--m{N}-gradient-accumulation", type=int, default=1, dest="m{N}_accumulate")


def run_{N}(args):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    tokenizer = AutoTokenizer.from_pretrained(args.m{N}_model_name)
    frame = pd.read_csv(os.path.join(args.input_path, "train.csv"))
    frame = frame.dropna(subset=["text", "label"]).sample(frac=1.0, random_state=DEFAULT_SEED)
    split = int(len(frame) * 0.9)
    train_frame, val_frame = frame.iloc[:split], frame.iloc[split:]

    def encode(rows):
        batch = tokenizer(
            list(rows["text"]),
            truncation=True,
            padding="max_length",
            max_length=args.m{N}_max_length,
            return_tensors="pt",
        )
        batch["labels"] = torch.tensor([args.m{N}_labels.index(label) for label in rows["label"]])
        return batch

    model = AutoModelForSequenceClassification.from_pretrained(
        args.m{N}_model_name, num_labels=len(args.m{N}_labels)
    )
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": args.m{N}_weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=2e-5)
    steps = math.ceil(len(train_frame) / 16) * 3 // args.m{N}_accumulate
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * args.m{N}_warmup_ratio), steps)
    scaler = torch.cuda.amp.GradScaler(enabled=args.m{N}_fp16)
    history = {}
    for epoch in range(3):
        model.train()
        for start in range(0, len(train_frame), 16):
            batch = encode(train_frame.iloc[start:start + 16])
            with torch.autocast("cuda", enabled=args.m{N}_fp16):
                loss = model(**batch).loss / args.m{N}_accumulate
            scaler.scale(loss).backward()
            if (start // 16 + 1) % args.m{N}_accumulate == 0:
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad()
                scheduler.step()
        model.eval()
        with torch.no_grad():
            batch = encode(val_frame)
            predictions = model(**batch).logits.argmax(dim=-1)
            accuracy = (predictions == batch["labels"]).float().mean().item()
        history[str(epoch)] = {"acc": accuracy, "loss": loss.item()}
        print(f"epoch {epoch}: accuracy {accuracy:.3f}")
    Path(args.output_path).mkdir(parents=True, exist_ok=True)
    Path(args.output_path, "experiment.json").write_text(json.dumps(history))
    model.save_pretrained(os.path.join(args.output_path, "model_{N}"))
    return history

"#,
    r#"
def add_args_{N}(parser):
    tabular = parser.add_argument_group("tabular model {N}")
    tabular.add_argument("--m{N}-target", default="label", help="the column to predict")
    tabular.add_argument("--m{N}-n-estimators", type=int, default=300)
    tabular.add_argument("--m{N}-max-depth", type=int, default=None, help="unlimited when omitted")
    tabular.add_argument("--m{N}-test-size", type=float, default=0.2)
    tabular.add_argument("--m{N}-drop", action="append", default=[], help="a column to ignore (repeatable)")
    tabular.add_argument("--m{N}-no-scale", dest="m{N}_scale", action="store_false")
    tabular.add_argument("--m{N}-metric", choices=("accuracy", "f1", "roc_auc"), default="f1")


def run_{N}(args):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(os.path.join(args.input_path, "data.csv"))
    frame = frame.drop(columns=[c for c in args.m{N}_drop if c in frame.columns])
    labels = frame.pop(args.m{N}_target)
    numeric = frame.select_dtypes(include=[np.number]).fillna(0.0)
    categorical = pd.get_dummies(frame.select_dtypes(exclude=[np.number]).fillna("missing"))
    features = pd.concat([numeric, categorical], axis=1)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=args.m{N}_test_size, random_state=DEFAULT_SEED, stratify=labels
    )
    if args.m{N}_scale:
        scaler = StandardScaler().fit(x_train[numeric.columns])
        x_train.loc[:, numeric.columns] = scaler.transform(x_train[numeric.columns])
        x_test.loc[:, numeric.columns] = scaler.transform(x_test[numeric.columns])
    metrics = {
        "accuracy": lambda y, p, s: accuracy_score(y, p),
        "f1": lambda y, p, s: f1_score(y, p, average="macro"),
        "roc_auc": lambda y, p, s: roc_auc_score(y, s[:, 1]) if s.shape[1] == 2 else float("nan"),
    }
    history = {}
    for epoch, estimators in enumerate(range(50, args.m{N}_n_estimators + 1, 50)):
        model = RandomForestClassifier(
            n_estimators=estimators, max_depth=args.m{N}_max_depth, n_jobs=-1, random_state=DEFAULT_SEED
        )
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        scores = model.predict_proba(x_test)
        value = metrics[args.m{N}_metric](y_test, predicted, scores)
        history[str(epoch)] = {args.m{N}_metric: value, "estimators": estimators}
        logger.info("%d trees: %s = %.4f", estimators, args.m{N}_metric, value)
    importances = sorted(zip(features.columns, model.feature_importances_), key=lambda kv: -kv[1])
    os.makedirs(args.output_path, exist_ok=True)
    with open(os.path.join(args.output_path, "experiment.json"), "w") as out:
        json.dump(history, out, indent=2)
    with open(os.path.join(args.output_path, "importances_{N}.json"), "w") as out:
        json.dump(dict(importances[:20]), out, indent=2)
    return history

"#,
];

/// The shared requirements corpus (files from other parsers' test suites, some of them files pip
/// refuses), kept outside this repository next to it.
#[must_use]
pub fn requirements_corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/requirements")
}

/// Every `.txt` file under the corpus, subfolders included, sorted.
///
/// `benches/peer_requirements.sh` selects the same files, so both compare like with like.
#[must_use]
pub fn requirements_corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect_txt(&requirements_corpus_dir(), &mut files);
    files.sort();
    files
}

fn collect_txt(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if path.is_dir() {
            collect_txt(&path, files);
        } else if path.extension().is_some_and(|e| e == "txt") {
            files.push(path);
        }
    }
}

/// The requirements fixtures folder of `mlreef-core`.
#[must_use]
pub fn requirements_fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mlreef-core/tests/fixtures/requirements")
}

/// The `realistic_*.txt` requirements fixtures, sorted.
#[must_use]
pub fn requirements_fixtures() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(requirements_fixtures_dir()) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "txt")
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("realistic_"))
        })
        .collect();
    files.sort();
    files
}

/// A `pip-compile --generate-hashes` output of at least `lines` lines: a four-line header, then
/// one four-line block per package (the pin with a `\` continuation, two `--hash=sha256:`
/// lines, a `# via` comment naming `-r requirements.in` or another package). Every tenth pin
/// carries a marker, as pip-compile writes for backports. Hashes are pseudo-random but fixed,
/// so every run parses the same text; pip 26.3 accepts the file.
#[must_use]
pub fn pip_compile_requirements(lines: usize) -> String {
    let mut text = String::from(
        "# This file is autogenerated by pip-compile with Python 3.11\n\
         # by the following command:\n#\n\
         #    pip-compile --generate-hashes --output-file=requirements.txt requirements.in\n",
    );
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        // splitmix64: enough to make hashes look like hashes, and no dependency.
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut written = 4;
    let mut package = 0;
    while written < lines {
        let marker = if package % 10 == 9 {
            " ; python_version < \"3.11\""
        } else {
            ""
        };
        writeln!(
            text,
            "package-{package:05}=={}.{}.{}{marker} \\",
            package % 7,
            package % 13,
            package % 5
        )
        .unwrap();
        for last in [false, true] {
            let hash = [next(), next(), next(), next()];
            write!(
                text,
                "    --hash=sha256:{:016x}{:016x}{:016x}{:016x}",
                hash[0], hash[1], hash[2], hash[3]
            )
            .unwrap();
            text.push_str(if last { "\n" } else { " \\\n" });
        }
        if package % 2 == 0 {
            text.push_str("    # via -r requirements.in\n");
        } else {
            writeln!(text, "    # via package-{:05}", package - 1).unwrap();
        }
        written += 4;
        package += 1;
    }
    text
}

/// Writes into `root` a repository shaped like a model zoo (pytorch-image-models): a package
/// `zoo` of `modules` model modules of about 16 KB each (configuration tables built by calls,
/// classes, registered constructor functions), star-imported by the package's `__init__.py`,
/// and a `train.py` whose parser gets its options from one small helper module and a
/// constant, while the models are only used after `parse_args`. Returns the script's path.
///
/// # Panics
/// When the files cannot be written.
#[must_use]
pub fn synthetic_model_zoo(root: &Path, modules: usize) -> PathBuf {
    let write = |relative: &str, text: &str| {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a folder"))
            .expect("the folder can be made");
        std::fs::write(&path, text).expect("the file can be written");
    };
    std::fs::create_dir_all(root.join(".git")).expect("the folder can be made");
    let mut init = String::from("\"\"\"Models, layers and the factory.\"\"\"\n");
    for m in 0..modules {
        writeln!(init, "from .model_{m} import *").unwrap();
    }
    init.push_str(
        "from ._factory import create_model, list_models\nfrom ._registry import register_model\n",
    );
    write("zoo/__init__.py", &init);
    write("zoo/_registry.py", ZOO_REGISTRY);
    write("zoo/_factory.py", ZOO_FACTORY);
    write("zoo/layers.py", ZOO_LAYERS);
    write("zoo/args.py", ZOO_ARGS);
    for m in 0..modules {
        let mut text = String::from(ZOO_MODEL_HEADER);
        let mut variant = 0;
        while text.len() < 16_000 {
            text.push_str(
                &ZOO_MODEL_VARIANT
                    .replace("{M}", &m.to_string())
                    .replace("{V}", &variant.to_string()),
            );
            variant += 1;
        }
        write(&format!("zoo/model_{m}.py"), &text);
    }
    write("train.py", ZOO_TRAIN);
    root.join("train.py")
}

const ZOO_REGISTRY: &str = r#"import os
import logging

_logger = logging.getLogger(__name__)
_model_entrypoints = {}
_model_default_cfgs = {}
_DEBUG = os.environ.get("ZOO_DEBUG", "0") == "1"


def register_model(fn):
    _model_entrypoints[fn.__name__] = fn
    if _DEBUG:
        _logger.info("registered %s", fn.__name__)
    return fn


def list_models(pattern=""):
    return sorted(name for name in _model_entrypoints if pattern in name)
"#;

const ZOO_FACTORY: &str = r#"from ._registry import _model_entrypoints


def create_model(name, pretrained=False, **kwargs):
    if name not in _model_entrypoints:
        raise RuntimeError(f"unknown model {name}")
    return _model_entrypoints[name](pretrained=pretrained, **kwargs)


def list_models(pattern=""):
    return [n for n in _model_entrypoints if pattern in n]
"#;

const ZOO_LAYERS: &str = r#"import math

import torch
from torch import nn

DEFAULT_ACT = "relu"
LAYER_NAMES = ["conv", "bn", "act", "pool", "drop"]


def make_divisible(v, divisor=8, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, k=3, stride=1, act=DEFAULT_ACT):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU() if act == "relu" else nn.GELU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))
"#;

const ZOO_ARGS: &str = r#"DEFAULT_MODEL = "resnet50"
FAMILIES = ["resnet", "vit", "convnext", "efficientnet"]


def add_model_args(parser):
    group = parser.add_argument_group("model")
    group.add_argument("--model", default=DEFAULT_MODEL, help="model architecture")
    group.add_argument("--family", choices=FAMILIES, default=FAMILIES[0])
    group.add_argument("--pretrained", action="store_true", help="start from pretrained weights")
    group.add_argument("--num-classes", type=int, default=1000)
    group.add_argument("--drop-rate", type=float, default=0.0, help="dropout rate")
"#;

const ZOO_MODEL_HEADER: &str = r#""""A family of models: configurations, blocks and registered constructors."""
import math
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._registry import register_model
from .layers import ConvNormAct, make_divisible, LAYER_NAMES

__all__ = []


def _cfg(url="", **kwargs):
    return {
        "url": url,
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "pool_size": (7, 7),
        "crop_pct": 0.875,
        "interpolation": "bicubic",
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        **kwargs,
    }
"#;

const ZOO_MODEL_VARIANT: &str = r#"

default_cfgs_{M}_{V} = {
    "net{M}_{V}_small": _cfg(url="https://example.invalid/net{M}_{V}_small.pth", crop_pct=0.9),
    "net{M}_{V}_base": _cfg(url="https://example.invalid/net{M}_{V}_base.pth"),
    "net{M}_{V}_large": _cfg(url="https://example.invalid/net{M}_{V}_large.pth", input_size=(3, 384, 384)),
}
widths_{M}_{V} = [make_divisible(w * 1.25) for w in (32, 64, 128, 256, 512)]


class Block{M}_{V}(nn.Module):
    expansion = 4

    def __init__(self, cin, cout, stride=1, drop=0.0):
        super().__init__()
        mid = make_divisible(cout // self.expansion)
        self.conv1 = ConvNormAct(cin, mid, 1)
        self.conv2 = ConvNormAct(mid, mid, 3, stride)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()

    def forward(self, x):
        shortcut = x
        x = self.conv3(self.conv2(self.conv1(x)))
        return F.relu(self.drop(x) + shortcut)


class Net{M}_{V}(nn.Module):
    def __init__(self, depths=(3, 4, 6, 3), num_classes=1000, drop_rate=0.0):
        super().__init__()
        self.stem = ConvNormAct(3, widths_{M}_{V}[0], 7, 2)
        stages = []
        cin = widths_{M}_{V}[0]
        for i, depth in enumerate(depths):
            cout = widths_{M}_{V}[i + 1]
            for j in range(depth):
                stages.append(Block{M}_{V}(cin, cout, 2 if j == 0 and i > 0 else 1, drop_rate))
                cin = cout
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(x.mean((2, 3)))


def _create_net{M}_{V}(variant, pretrained=False, **kwargs):
    cfg = default_cfgs_{M}_{V}[variant]
    model = Net{M}_{V}(**kwargs)
    model.default_cfg = cfg
    return model


@register_model
def net{M}_{V}_small(pretrained=False, **kwargs):
    return _create_net{M}_{V}("net{M}_{V}_small", pretrained, depths=(2, 2, 2, 2), **kwargs)


@register_model
def net{M}_{V}_base(pretrained=False, **kwargs):
    return _create_net{M}_{V}("net{M}_{V}_base", pretrained, **kwargs)


@register_model
def net{M}_{V}_large(pretrained=False, **kwargs):
    return _create_net{M}_{V}("net{M}_{V}_large", pretrained, depths=(3, 8, 36, 3), **kwargs)


__all__ += ["Net{M}_{V}", "net{M}_{V}_small", "net{M}_{V}_base", "net{M}_{V}_large"]
"#;

const ZOO_TRAIN: &str = r#""""Fine-tunes a model of the zoo on an image folder."""
import argparse

import torch

from zoo import create_model, list_models
from zoo.args import add_model_args, DEFAULT_MODEL

parser = argparse.ArgumentParser(description="Fine-tune a zoo model")
parser.add_argument("--input-path", required=True, help="image folder")
parser.add_argument("--output-path", default="output")
add_model_args(parser)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--run-name", default=f"{DEFAULT_MODEL}-finetune")
args = parser.parse_args()

model = create_model(args.model, pretrained=args.pretrained, num_classes=args.num_classes)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_script_has_the_requested_size_and_one_parser() {
        let source = synthetic_script(200_000);
        assert!(source.len() >= 200_000);
        assert_eq!(source.matches("argparse.ArgumentParser(").count(), 1);
        assert!(
            source.matches("def run_").count() >= 20,
            "{} programs",
            source.matches("def run_").count()
        );
    }

    #[test]
    fn fixture_scripts_are_found() {
        let scripts = fixture_scripts();
        assert!(!scripts.is_empty());
        assert!(scripts.iter().all(|p| p.is_file()));
    }

    #[test]
    fn requirements_inputs_are_found() {
        assert!(requirements_corpus_files().len() > 1);
        assert!(!requirements_fixtures().is_empty());
    }

    #[test]
    fn pip_compile_requirements_has_the_requested_lines() {
        let text = pip_compile_requirements(10_000);
        assert_eq!(text.lines().count(), 10_000);
        assert_eq!(text.matches("--hash=sha256:").count(), 2 * 2499);
        // A file pip accepts, so the bench measures the parser's normal path, not error paths.
        let file =
            mlreef_core::requirements::parse(&text, &mlreef_core::requirements::Options::default());
        assert_eq!(file.requirements.len(), 2499);
        assert!(
            file.diagnostics.is_empty(),
            "{:?}",
            file.diagnostics.first()
        );
        assert!(file.requirements.iter().all(|r| r.hashes.len() == 2));
    }
}
