//! What one extraction may spend: units of work and bytes, and the per-value limits every
//! operation checks before it builds a value.

use std::cell::Cell;

use super::{Const, Nested};

/// Items in one list, tuple or dict.
pub(crate) const MAX_ITEMS: usize = 100_000;
/// The size (about the `repr` length, in bytes) of one value.
pub(crate) const MAX_SIZE: usize = 16 << 20;
/// Containers nested in containers: deeper values are not built (and so are never dropped,
/// compared or printed recursively beyond this).
pub(crate) const MAX_DEPTH: u16 = 100;
/// Units of work (statements, expressions, items visited) in one extraction.
const MAX_STEPS: u64 = 5_000_000;
/// Bytes of values built, and of values written into parameters, in one extraction.
const MAX_BYTES: u64 = 128 << 20;

/// What one extraction may spend, shared by every evaluation (interior mutability, so that
/// the pure value operations below can charge it through a shared reference).
#[derive(Debug)]
pub(crate) struct Budget {
    steps: Cell<u64>,
    bytes: Cell<u64>,
    exhausted: Cell<bool>,
    oversize: Cell<bool>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(MAX_STEPS, MAX_BYTES)
    }
}

impl Budget {
    pub(crate) fn new(steps: u64, bytes: u64) -> Self {
        Budget {
            steps: Cell::new(steps),
            bytes: Cell::new(bytes),
            exhausted: Cell::new(false),
            oversize: Cell::new(false),
        }
    }

    /// Spends `n` units of work; `None` once the extraction has spent them all.
    pub(crate) fn step(&self, n: usize) -> Option<()> {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        match self.steps.get().checked_sub(n) {
            Some(left) if !self.exhausted.get() => {
                self.steps.set(left);
                Some(())
            }
            _ => {
                self.exhausted.set(true);
                None
            }
        }
    }

    /// Spends `n` bytes; `None` once the extraction has spent them all.
    fn spend(&self, n: usize) -> Option<()> {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        match self.bytes.get().checked_sub(n) {
            Some(left) if !self.exhausted.get() => {
                self.bytes.set(left);
                Some(())
            }
            _ => {
                self.exhausted.set(true);
                None
            }
        }
    }

    /// Checks a value of `size` (see [`Const::size`]) before it is built, and charges it.
    pub(crate) fn value(&self, size: usize) -> Option<()> {
        if size > MAX_SIZE {
            self.oversize.set(true);
            return None;
        }
        self.spend(size)
    }

    /// Checks a container of `n` items before it is built.
    pub(crate) fn items(&self, n: usize) -> Option<()> {
        if n > MAX_ITEMS {
            self.oversize.set(true);
            return None;
        }
        self.step(n)?;
        self.spend(n.saturating_mul(size_of::<Const>()))
    }

    /// Charges writing a value into the result (a parameter's default, choices, ...), which
    /// materialises all of it however much of it is shared.
    pub(crate) fn output(&self, value: &Const) -> Option<()> {
        self.spend(value.size())
    }

    /// Refuses a value over a per-value limit: nothing is built, and the expression that asked
    /// is reported.
    pub(crate) fn refuse<T>(&self) -> Option<T> {
        self.oversize.set(true);
        None
    }

    /// The whole extraction's budget is spent: nothing more is evaluated.
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    /// Whether an operation refused to build a value over a per-value limit since the last
    /// call (the interpreter reports it at the expression that asked).
    pub(crate) fn take_oversize(&self) -> bool {
        self.oversize.replace(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_runs_out_and_stays_out() {
        let budget = Budget::new(10, 1 << 20);
        assert!(budget.step(10).is_some());
        assert!(budget.step(1).is_none());
        assert!(budget.exhausted());
        assert!(budget.step(0).is_none());
        let budget = Budget::new(100, 10);
        assert_eq!(super::super::string("a".repeat(11), &budget), None);
        assert!(budget.exhausted());
    }
}
