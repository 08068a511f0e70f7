//! Progress reports and cancellation for long operations (discovery now; image builds and
//! pushes later).
//!
//! An operation calls [`Progress::report`] at each step; returning `Err(Cancelled)` stops it,
//! and the operation returns its domain's `Cancelled` error. Bindings adapt their callbacks
//! to this trait: in Python, a callback that raises cancels the operation and the exception
//! reaches the caller; in C, a callback returns a non-zero value to cancel.

/// One step of a long operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// What is being done: `search`, `extract`, `requirements`; for images, `layer` (bytes of
    /// file contents written into a layer; the detail is its role), `copy` (bytes of a base's
    /// layers copied into the blob store; the detail is the base) and `write` (bytes of layers
    /// written to a destination; the detail is the destination).
    pub stage: &'a str,
    /// Units done so far in this stage.
    pub done: u64,
    /// Units in this stage, when known.
    pub total: Option<u64>,
    /// What the unit is (a file, a layer digest), when there is one.
    pub detail: Option<&'a str>,
}

/// The caller asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Receives progress events; may be called from any thread.
pub trait Progress: Sync {
    fn report(&self, event: &Event<'_>) -> Result<(), Cancelled>;
}

impl<F> Progress for F
where
    F: Fn(&Event<'_>) -> Result<(), Cancelled> + Sync,
{
    fn report(&self, event: &Event<'_>) -> Result<(), Cancelled> {
        self(event)
    }
}

/// Reports to nobody and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn report(&self, _: &Event<'_>) -> Result<(), Cancelled> {
        Ok(())
    }
}
