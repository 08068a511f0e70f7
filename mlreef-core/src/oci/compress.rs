//! The one pass a layer's bytes take: tar -> sha256 (the `diff_id`) -> compressor -> the blob
//! store (whose writer hashes the compressed bytes: the digest), and the way back (a blob's
//! tar, decompressed while it streams).
//!
//! The compressed bytes are part of the image's identity (the layer digest), so the encoders
//! are set up so that their output depends on the tar bytes alone, never on the number of
//! threads or on how the tar writer happens to split its writes:
//! - gzip is compressed by `gzp` in blocks of exactly [`GZIP_BLOCK`] bytes, each an independent
//!   deflate stream at level [`GZIP_LEVEL`] ended by a sync flush (pigz's `--independent`
//!   scheme). Blocks are cut by count, and a flush would cut a short one, so the sink never
//!   passes `flush` on. The block size and level are part of the format: changing either
//!   changes every gzip layer digest.
//! - zstd runs libzstd's multithreaded mode with at least one worker: with `nbWorkers >= 1`
//!   the job size depends on the level, not on the worker count, so one worker and sixteen
//!   give the same frame (zero workers, the single-threaded mode, would not).

use std::io::{self, Read, Write};

use gzp::ZWriter as _;
use gzp::deflate::Gzip;
use gzp::par::compress::{ParCompress, ParCompressBuilder};
use oci_spec::image::Digest;

use super::blobs::BlobWriter;
use super::digest::Hasher;
use super::layer::Compression;

/// Bytes of tar per independent gzip block (pigz's default block size).
pub const GZIP_BLOCK: usize = 128 * 1024;
/// The gzip level (gzip's and pigz's default).
pub const GZIP_LEVEL: u32 = 6;
/// The zstd level (zstd's default).
pub const ZSTD_LEVEL: i32 = 3;

/// The number of compression threads `threads` asks for: 0 means one per core.
#[must_use]
pub fn thread_count(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }
}

enum Encoder {
    // `Option` so that an abandoned layer can be shut down without gzp's `Drop`, which
    // unwraps the result of finishing.
    Gzip(Option<ParCompress<'static, Gzip, BlobWriter>>),
    Zstd(zstd::stream::write::Encoder<'static, BlobWriter>),
    None(BlobWriter),
}

/// Where a layer's tar is written: hashes the tar and compresses it into a blob.
pub(crate) struct LayerSink {
    diff: Hasher,
    encoder: Encoder,
}

impl LayerSink {
    pub(crate) fn new(
        blob: BlobWriter,
        compression: Compression,
        threads: usize,
    ) -> io::Result<LayerSink> {
        let threads = thread_count(threads);
        let encoder = match compression {
            Compression::Gzip => {
                let builder = ParCompressBuilder::<Gzip>::new()
                    .num_threads(threads)
                    .and_then(|b| b.buffer_size(GZIP_BLOCK))
                    .map_err(io::Error::other)?
                    .compression_level(gzp::par::compress::Compression::new(GZIP_LEVEL));
                Encoder::Gzip(Some(builder.from_writer(blob)))
            }
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(blob, ZSTD_LEVEL)?;
                encoder.multithread(u32::try_from(threads.max(1)).unwrap_or(u32::MAX))?;
                encoder.include_checksum(true)?;
                Encoder::Zstd(encoder)
            }
            Compression::None => Encoder::None(blob),
        };
        Ok(LayerSink {
            diff: Hasher::default(),
            encoder,
        })
    }

    /// Ends the compressed stream: the blob writer, and the `diff_id` and length of the tar.
    pub(crate) fn finish(mut self) -> io::Result<(BlobWriter, Digest, u64)> {
        let diff = std::mem::take(&mut self.diff);
        // What is left behind is a finished encoder, which `Drop` leaves alone.
        let blob = match std::mem::replace(&mut self.encoder, Encoder::Gzip(None)) {
            Encoder::Gzip(Some(mut encoder)) => encoder.finish().map_err(gzp_error)?,
            Encoder::Gzip(None) => return Err(io::Error::other("the layer is finished")),
            Encoder::Zstd(encoder) => encoder.finish()?,
            Encoder::None(blob) => blob,
        };
        let (diff_id, len) = diff.finish();
        Ok((blob, diff_id, len))
    }
}

fn gzp_error(error: gzp::GzpError) -> io::Error {
    match error {
        gzp::GzpError::Io(error) => error,
        other => io::Error::other(other),
    }
}

impl Drop for LayerSink {
    fn drop(&mut self) {
        if let Encoder::Gzip(Some(mut encoder)) =
            std::mem::replace(&mut self.encoder, Encoder::Gzip(None))
        {
            // The layer is abandoned (an error, a cancel): stop the threads; the temporary
            // blob is deleted with its writer.
            let _ = encoder.finish();
        }
    }
}

impl Write for LayerSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.encoder {
            Encoder::Gzip(Some(encoder)) => encoder.write(buf)?,
            Encoder::Gzip(None) => return Err(io::Error::other("the layer is finished")),
            Encoder::Zstd(encoder) => encoder.write(buf)?,
            Encoder::None(blob) => blob.write(buf)?,
        };
        self.diff.update(&buf[..n]);
        Ok(n)
    }

    /// Does nothing: a flush would end a gzip block early and make the compressed bytes depend
    /// on when it was called. Everything is written by [`LayerSink::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader of the tar inside a blob compressed with `compression`.
pub(crate) fn decoder<'a, R: Read + 'a>(
    reader: R,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        // pigz-style streams are one member; other tools concatenate members.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(256 * 1024, reader),
        )),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::None => Box::new(reader),
    })
}

/// The compression of a blob, told by its first bytes (docker-archives do not say).
#[must_use]
pub(crate) fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}
