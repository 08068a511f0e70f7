"""Train an image classifier on a folder of labelled images.

The folder given by --input-path holds one sub-folder per class (``cat/``, ``dog/`` ...).
After each epoch the script rewrites ``<output-path>/experiment.json`` with the metrics so
far, keyed by epoch, and finally saves the weights to ``<output-path>/model.pt``.
"""

import argparse
import json
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, models, transforms

ARCHITECTURES = ["resnet18", "resnet50", "mobilenet_v3_small"]


def parse_args():
    parser = argparse.ArgumentParser(description="Fine-tune a pretrained CNN on an image folder")
    parser.add_argument("-i", "--input-path", type=Path, required=True,
                        help="folder with one sub-folder of images per class")
    parser.add_argument("-o", "--output-path", type=Path, default=Path("output"),
                        help="where experiment.json and model.pt are written")

    model = parser.add_argument_group("model")
    model.add_argument("--architecture", choices=ARCHITECTURES, default="resnet18",
                       help="the pretrained backbone")
    model.add_argument("--pretrained", action=argparse.BooleanOptionalAction, default=True,
                       help="start from ImageNet weights")
    model.add_argument("--freeze-backbone", action="store_true",
                       help="train the classification head only")
    model.add_argument("--dropout", type=float, default=0.2)

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, default=10, help="passes over the training set")
    training.add_argument("--batch-size", type=int, default=32)
    training.add_argument("--learning-rate", "--lr", type=float, default=1e-3,
                          help="initial learning rate (default: %(default)s)")
    training.add_argument("--weight-decay", type=float, default=1e-4)
    training.add_argument("--validation-split", type=float, default=0.2,
                          help="fraction of the images held out for validation")
    training.add_argument("--seed", type=int, default=42)

    parser.add_argument("--num-workers", type=int, default=os.cpu_count(),
                        help="data loading processes")
    return parser.parse_args()


def build_model(architecture, classes, pretrained, dropout, freeze_backbone):
    weights = "DEFAULT" if pretrained else None
    model = getattr(models, architecture)(weights=weights)
    if freeze_backbone:
        for parameter in model.parameters():
            parameter.requires_grad = False
    if hasattr(model, "fc"):
        model.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(model.fc.in_features, classes))
    else:
        last = model.classifier[-1]
        model.classifier[-1] = nn.Sequential(nn.Dropout(dropout), nn.Linear(last.in_features, classes))
    return model


def run_epoch(model, loader, device, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * labels.size(0)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += labels.size(0)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    transform = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    images = datasets.ImageFolder(args.input_path, transform=transform)
    held_out = int(len(images) * args.validation_split)
    train_set, val_set = random_split(images, [len(images) - held_out, held_out])
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.num_workers)
    val_loader = DataLoader(val_set, batch_size=args.batch_size, num_workers=args.num_workers)

    model = build_model(args.architecture, len(images.classes), args.pretrained,
                        args.dropout, args.freeze_backbone).to(device)
    optimizer = torch.optim.AdamW(
        (p for p in model.parameters() if p.requires_grad),
        lr=args.learning_rate,
        weight_decay=args.weight_decay,
    )

    args.output_path.mkdir(parents=True, exist_ok=True)
    experiment = {}
    for epoch in range(args.epochs):
        train_loss, train_acc = run_epoch(model, train_loader, device, optimizer)
        val_loss, val_acc = run_epoch(model, val_loader, device)
        experiment[str(epoch)] = {
            "loss": train_loss, "acc": train_acc, "val_loss": val_loss, "val_acc": val_acc,
        }
        (args.output_path / "experiment.json").write_text(json.dumps(experiment, indent=2))
        print(f"epoch {epoch}: loss {train_loss:.4f} acc {train_acc:.3f} val_acc {val_acc:.3f}")

    torch.save(model.state_dict(), args.output_path / "model.pt")


if __name__ == "__main__":
    main()
