//! sha256 digests of blobs, computed while the bytes stream past.

use std::io::{self, Read, Write};

use oci_spec::image::Digest;
use sha2::{Digest as _, Sha256};

/// The digest of `bytes` (`sha256:<hex>`).
#[must_use]
pub fn digest_bytes(bytes: &[u8]) -> Digest {
    from_hash(Sha256::digest(bytes).as_slice())
}

fn from_hash(hash: &[u8]) -> Digest {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for b in hash {
        let _ = write!(text, "{b:02x}");
    }
    text.parse()
        .unwrap_or_else(|_| unreachable!("a sha256 digest is valid"))
}

/// A sha256 being computed over a stream, with its length.
#[derive(Debug, Clone, Default)]
pub struct Hasher {
    sha: Sha256,
    len: u64,
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// The bytes seen so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest and length of everything seen.
    #[must_use]
    pub fn finish(self) -> (Digest, u64) {
        (from_hash(self.sha.finalize().as_slice()), self.len)
    }
}

/// A writer that hashes what passes through it.
#[derive(Debug)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::default(),
        }
    }

    /// The inner writer, and the digest and length of what was written.
    pub fn finish(self) -> (W, Digest, u64) {
        let (digest, len) = self.hasher.finish();
        (self.inner, digest, len)
    }

    /// The digest and length of what was written so far.
    #[must_use]
    pub fn hasher_state(&self) -> (Digest, u64) {
        self.hasher.clone().finish()
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what is read through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Hasher::default(),
        }
    }

    /// The digest and length of what was read.
    #[must_use]
    pub fn finish(self) -> (Digest, u64) {
        self.hasher.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_bytes() {
        assert_eq!(
            digest_bytes(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"{").unwrap();
        writer.write_all(b"}").unwrap();
        let (bytes, digest, len) = writer.finish();
        assert_eq!((bytes.as_slice(), len), (&b"{}"[..], 2));
        assert_eq!(digest, digest_bytes(b"{}"));
        let mut reader = HashingReader::new(&b"{}"[..]);
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        assert_eq!(reader.finish(), (digest_bytes(b"{}"), 2));
    }
}
