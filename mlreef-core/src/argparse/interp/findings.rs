//! Diagnostics, and which of them matter.
//!
//! Some findings matter only through what they influence: a fallback for an environment
//! variable read by a logging helper says nothing about the module, while the same fallback
//! used as a parameter's default does. Such *context* findings are tracked as taint: the
//! statement being evaluated collects the context findings it meets (directly, or through the
//! names it reads, which remember the taint they were bound with), and when a value reaches the
//! parser (an `add_argument` call, a sub-parser, `set_defaults`), everything that influenced the
//! statement, and the conditions of the branches it runs in, is marked as used. Context findings
//! never used are dropped unless the caller asks for every diagnostic.

use std::collections::HashMap;

use super::ModId;
use crate::parameter::{Diagnostic, Severity};

/// The context findings that influenced a value (indices into the findings).
pub(super) type Taint = Vec<u32>;

struct Finding {
    diagnostic: Diagnostic,
    context: bool,
    used: bool,
}

#[derive(Default)]
pub(super) struct Findings {
    list: Vec<Finding>,
    /// Each finding once per place and code: loops and repeated calls reach the same code many
    /// times.
    said: HashMap<(ModId, u32, &'static str), u32>,
    /// Context findings that influenced the statement being evaluated.
    flow: Taint,
    /// The taints of the conditions of the branches being executed.
    control: Vec<Taint>,
}

impl Findings {
    pub(super) fn add(
        &mut self,
        key: (ModId, u32, &'static str),
        diagnostic: Diagnostic,
        context: bool,
    ) {
        let id = if let Some(&id) = self.said.get(&key) {
            id
        } else {
            let id = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
            self.list.push(Finding {
                diagnostic,
                context,
                used: false,
            });
            self.said.insert(key, id);
            id
        };
        if context {
            join(&mut self.flow, &[id]);
        }
    }

    /// A finding about the whole script (line 1), not tied to a statement.
    pub(super) fn add_at_start(&mut self, severity: Severity, code: &str, message: &str) {
        self.list.push(Finding {
            diagnostic: Diagnostic {
                severity,
                code: code.to_owned(),
                message: message.to_owned(),
                line: 1,
                column: 1,
                file: None,
            },
            context: false,
            used: false,
        });
    }

    /// What influenced the statement so far.
    pub(super) fn flow(&self) -> &Taint {
        &self.flow
    }

    /// A value read with this taint influences the statement.
    pub(super) fn read(&mut self, taint: &Taint) {
        join(&mut self.flow, taint);
    }

    /// A new statement starts: nothing has influenced it yet.
    pub(super) fn start_statement(&mut self) {
        self.flow.clear();
    }

    /// Sets the flow aside while another body runs (a call, a module), giving it back after.
    pub(super) fn take_flow(&mut self) -> Taint {
        std::mem::take(&mut self.flow)
    }

    pub(super) fn restore_flow(&mut self, saved: Taint) {
        let inner = std::mem::replace(&mut self.flow, saved);
        join(&mut self.flow, &inner);
    }

    /// Replaces the flow, returning the one that was there.
    pub(super) fn replace_flow(&mut self, flow: Taint) -> Taint {
        std::mem::replace(&mut self.flow, flow)
    }

    /// Branches run under a condition with this taint.
    pub(super) fn push_control(&mut self, taint: Taint) {
        self.control.push(taint);
    }

    pub(super) fn pop_control(&mut self) {
        self.control.pop();
    }

    /// A value reached the parser: what influenced it matters.
    pub(super) fn use_flow(&mut self) {
        for &id in self.flow.iter().chain(self.control.iter().flatten()) {
            if let Some(f) = self.list.get_mut(id as usize) {
                f.used = true;
            }
        }
    }

    /// The diagnostics, in the order found: context findings only when used, unless `all`.
    pub(super) fn into_diagnostics(self, all: bool) -> Vec<Diagnostic> {
        self.list
            .into_iter()
            .filter(|f| all || !f.context || f.used)
            .map(|f| f.diagnostic)
            .collect()
    }
}

/// Adds `more` to `taint`, keeping it a small sorted set.
pub(super) fn join(taint: &mut Taint, more: &[u32]) {
    for &id in more {
        if let Err(at) = taint.binary_search(&id) {
            taint.insert(at, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(code: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Info,
            code: code.to_owned(),
            message: String::new(),
            line: 1,
            column: 1,
            file: None,
        }
    }

    #[test]
    fn context_findings_count_only_when_used() {
        let mut f = Findings::default();
        f.add((0, 1, "env-default"), diagnostic("env-default"), true);
        f.start_statement();
        f.add((0, 2, "env-default"), diagnostic("env-default"), true);
        f.use_flow();
        f.add(
            (0, 3, "dynamic-default"),
            diagnostic("dynamic-default"),
            false,
        );
        let kept: Vec<_> = f.into_diagnostics(false);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].code, "env-default");
        assert_eq!(kept[1].code, "dynamic-default");
    }

    #[test]
    fn a_repeated_finding_taints_again() {
        let mut f = Findings::default();
        f.add((0, 1, "env-default"), diagnostic("env-default"), true);
        f.start_statement();
        f.add((0, 1, "env-default"), diagnostic("env-default"), true);
        assert_eq!(f.flow(), &vec![0]);
        f.push_control(vec![0]);
        f.start_statement();
        f.use_flow();
        assert_eq!(f.into_diagnostics(false).len(), 1);
    }

    #[test]
    fn taints_stay_sorted_sets() {
        let mut t = vec![];
        join(&mut t, &[3, 1, 3, 2]);
        assert_eq!(t, vec![1, 2, 3]);
    }
}
