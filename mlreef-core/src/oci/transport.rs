//! Sources and sinks by reference: the local transports in one place, so that a build names a
//! base or a destination and does not care what it is. Registries (`docker://`) have a source
//! and a sink of their own.

use oci_spec::image::Digest;

use super::Error;
use super::archive::{read_archive, write_archive};
use super::blobs::BlobStore;
use super::image::Image;
use super::layout::{read_layout, write_layout};
use super::reference::ImageRef;
use super::rootfs::rootfs_image;
use super::tar::LayerOptions;
use crate::platform::Platform;
use crate::progress::Progress;

/// The base image `reference` for `platform`, from the local transports: `oci:DIR[:TAG]`,
/// `docker-archive:FILE[:REPO:TAG]`, `rootfs:DIR` (made into one layer with `rootfs_options`:
/// its mtime, compression and threads) and `scratch`. A `docker://` reference is
/// [`Error::Unsupported`] here.
pub fn read_local_base(
    store: &BlobStore,
    reference: &ImageRef,
    platform: &Platform,
    rootfs_options: &LayerOptions,
    progress: &dyn Progress,
) -> Result<Image, Error> {
    match reference {
        ImageRef::Scratch => Ok(Image::scratch(platform)),
        ImageRef::Rootfs { dir } => rootfs_image(store, dir, platform, rootfs_options, progress),
        ImageRef::Layout { dir, tag } => {
            read_layout(store, dir, tag.as_deref(), platform, progress)
        }
        ImageRef::Archive { file, name } => {
            read_archive(store, file, name.as_deref(), platform, progress)
        }
        ImageRef::Registry(_) => Err(Error::Unsupported(format!(
            "`{reference}` is in a registry; the registry source reads it"
        ))),
    }
}

/// Writes `images` (one per platform) to the local destination `target` and returns the
/// digest a build reports: the manifest's, or the index's for several platforms.
/// `oci:DIR[:TAG]` takes any number of platforms; `docker-archive:FILE[:REPO:TAG]` one.
pub fn write_local(
    store: &BlobStore,
    target: &ImageRef,
    images: &[Image],
    progress: &dyn Progress,
) -> Result<Digest, Error> {
    match target {
        ImageRef::Layout { dir, tag } => write_layout(store, dir, tag.as_deref(), images, progress)
            .map(|descriptor| descriptor.digest().clone()),
        ImageRef::Archive { file, name } => {
            write_archive(store, file, name.as_deref(), images, progress)?;
            Ok(images[0].digest())
        }
        ImageRef::Registry(_) => Err(Error::Unsupported(format!(
            "`{target}` is in a registry; the registry sink pushes it"
        ))),
        ImageRef::Rootfs { .. } | ImageRef::Scratch => Err(Error::Unsupported(format!(
            "`{target}` is a base, not a destination: write to oci:DIR[:TAG] or docker-archive:FILE[:REPO:TAG]"
        ))),
    }
}
