//! Which Python a base image has: from its config, and from its layers read as a union file
//! system would show them; hostile layers refused. No network.

use std::io::Write;

use mlreef_core::deps::{self, Error, Options};
use mlreef_core::oci::{self, BlobStore, Image, Layer, LayerRole, Location, MediaType};
use mlreef_core::platform::Platform;

enum Entry<'a> {
    File(&'a str),
    Link(&'a str, &'a str),
    /// A path written into the header as it is, unchecked (a hostile layer).
    Raw(&'a [u8]),
    /// A GNU long-name record claiming this many bytes.
    LongName(u64),
}

fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        header.set_mtime(0);
        match entry {
            Entry::File(path) => {
                header.set_size(3);
                builder.append_data(&mut header, path, &b"ELF"[..]).unwrap();
            }
            Entry::Link(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Entry::Raw(path) => {
                let gnu = header.as_gnu_mut().unwrap();
                gnu.name[..path.len()].copy_from_slice(path);
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                builder.append(&header, &[][..]).unwrap();
            }
            Entry::LongName(size) => {
                header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
                header.set_entry_type(tar::EntryType::GNULongName);
                header.set_size(*size);
                header.set_cksum();
                let data = vec![b'a'; usize::try_from(*size).unwrap()];
                builder.append(&header, &data[..]).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

#[derive(Clone, Copy)]
enum Packing {
    Gzip,
    Zstd,
    Plain,
}

fn layer(store: &BlobStore, entries: &[Entry<'_>], packing: Packing) -> Layer {
    let tar = tar(entries);
    let (bytes, media_type) = match packing {
        Packing::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            gz.write_all(&tar).unwrap();
            (gz.finish().unwrap(), MediaType::ImageLayerGzip)
        }
        Packing::Zstd => (
            zstd::encode_all(&tar[..], 3).unwrap(),
            MediaType::ImageLayerZstd,
        ),
        Packing::Plain => (tar.clone(), MediaType::ImageLayer),
    };
    let (digest, size) = store.put(&bytes).unwrap();
    Layer {
        media_type,
        digest,
        size,
        diff_id: oci::digest_bytes(&tar),
        role: LayerRole::Base,
        cached: true,
        created_by: "test".into(),
        location: Location::Store,
    }
}

/// An image of `layers`, bottom first.
fn image(layers: Vec<Layer>) -> Image {
    layers
        .into_iter()
        .fold(Image::scratch(&Platform::linux_amd64()), |image, layer| {
            image.with_layer(layer, "1970-01-01T00:00:00Z")
        })
}

fn store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn the_config_says_it_first() {
    let (_dir, store) = store();
    let base = Image::scratch(&Platform::linux_amd64()).with_config(|c| {
        c.set_env(Some(vec![
            "PATH=/usr/local/bin:/usr/bin".into(),
            "PYTHON_VERSION=3.11.7".into(),
        ]));
    });
    assert_eq!(
        deps::python_version(&base, &store).unwrap().as_deref(),
        Some("3.11")
    );
}

#[test]
fn the_layers_say_it_when_the_config_does_not() {
    let (_dir, store) = store();
    let debian = layer(
        &store,
        &[
            Entry::File("./usr/bin/python3.11"),
            Entry::Link("./usr/bin/python3", "python3.11"),
            Entry::File("./usr/bin/perl"),
        ],
        Packing::Gzip,
    );
    let base = image(vec![debian.clone()]);
    assert_eq!(
        deps::python_version(&base, &store).unwrap().as_deref(),
        Some("3.11")
    );
    // What the entry point's `python3` finds first on PATH wins: /usr/local/bin before /usr/bin.
    let official = layer(
        &store,
        &[
            Entry::File("usr/local/bin/python3.12"),
            Entry::Link("usr/local/bin/python3", "/usr/local/bin/python3.12"),
        ],
        Packing::Zstd,
    );
    let both = image(vec![debian.clone(), official.clone()]);
    assert_eq!(
        deps::python_version(&both, &store).unwrap().as_deref(),
        Some("3.12")
    );
    // An upper layer's whiteouts hide the lower layer's Python.
    let removed = layer(
        &store,
        &[
            Entry::File("usr/local/bin/.wh.python3"),
            Entry::File("usr/local/bin/.wh.python3.12"),
        ],
        Packing::Plain,
    );
    let hidden = image(vec![debian.clone(), official.clone(), removed]);
    assert_eq!(
        deps::python_version(&hidden, &store).unwrap().as_deref(),
        Some("3.11")
    );
    let opaque = layer(
        &store,
        &[Entry::File("usr/local/bin/.wh..wh..opq")],
        Packing::Gzip,
    );
    let hidden = image(vec![debian, official, opaque]);
    assert_eq!(
        deps::python_version(&hidden, &store).unwrap().as_deref(),
        Some("3.11")
    );
}

#[test]
fn a_program_without_python3_beside_it_still_counts() {
    let (_dir, store) = store();
    let base = image(vec![layer(
        &store,
        &[Entry::File("usr/bin/python3.11")],
        Packing::Gzip,
    )]);
    assert_eq!(
        deps::python_version(&base, &store).unwrap().as_deref(),
        Some("3.11")
    );
    // Asked again, the answer comes from the store's records.
    assert!(
        std::fs::read_dir(store.root().join("index"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("deps-python-"))
    );
    assert_eq!(
        deps::python_version(&base, &store).unwrap().as_deref(),
        Some("3.11")
    );
}

#[test]
fn no_python_is_none_and_the_caller_can_say_it() {
    let (_dir, store) = store();
    let base = image(vec![layer(&store, &[Entry::File("bin/sh")], Packing::Gzip)]);
    assert_eq!(deps::python_version(&base, &store).unwrap(), None);
    assert!(matches!(
        deps::target(&base, &store, &Options::default()),
        Err(Error::NoPython)
    ));
    let given = Options {
        python: Some("3.12".into()),
        ..Options::default()
    };
    let target = deps::target(&base, &store, &given).unwrap();
    assert_eq!(
        (target.python(), target.platform()),
        ("3.12", "linux/amd64")
    );
}

#[test]
fn hostile_layers_are_refused_by_name() {
    let (_dir, store) = store();
    for path in [
        &b"../etc/passwd"[..],
        b"usr/../../etc/shadow",
        b"/etc/passwd",
    ] {
        let bad = layer(
            &store,
            &[Entry::File("usr/bin/python3.11"), Entry::Raw(path)],
            Packing::Gzip,
        );
        let digest = bad.digest.to_string();
        let error = deps::python_version(&image(vec![bad]), &store).unwrap_err();
        match &error {
            Error::UnsafeLayerPath { layer, path: named } => {
                assert_eq!(layer, &digest);
                assert_eq!(named.as_bytes(), path);
            }
            other => panic!("{other:?}"),
        }
        assert!(error.to_string().contains(&digest), "{error}");
    }
    // A long-name record is read within a bound, whatever size it claims.
    let long = layer(&store, &[Entry::LongName(100_000)], Packing::Gzip);
    assert!(matches!(
        deps::python_version(&image(vec![long]), &store),
        Err(Error::TooLarge { .. })
    ));
    // A layer that is not in the store is named too.
    let (_other, elsewhere) = self::store();
    let missing = layer(
        &elsewhere,
        &[Entry::File("usr/bin/python3.11")],
        Packing::Gzip,
    );
    assert!(matches!(
        deps::python_version(&image(vec![missing]), &store),
        Err(Error::MissingLayer { .. })
    ));
}
