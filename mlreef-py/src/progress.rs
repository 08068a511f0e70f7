//! Python callbacks as core progress reporters: `callback(stage, done, total, detail)`; a
//! callback that raises cancels the operation, and its exception reaches the caller.

use std::sync::Mutex;

use mlreef_core::progress::{Cancelled, Event, Progress};
use pyo3::prelude::*;

pub struct Callback {
    callback: Py<PyAny>,
    raised: Mutex<Option<PyErr>>,
}

impl Callback {
    pub fn new(callback: Py<PyAny>) -> Self {
        Callback {
            callback,
            raised: Mutex::new(None),
        }
    }

    /// The exception the callback raised, if it cancelled the operation.
    pub fn take_raised(&self) -> Option<PyErr> {
        self.raised.lock().ok().and_then(|mut raised| raised.take())
    }
}

impl Progress for Callback {
    fn report(&self, event: &Event<'_>) -> Result<(), Cancelled> {
        // The operation runs without the GIL; the callback needs it back for its call only.
        Python::attach(|py| {
            match self
                .callback
                .call1(py, (event.stage, event.done, event.total, event.detail))
            {
                Ok(_) => Ok(()),
                Err(error) => {
                    if let Ok(mut raised) = self.raised.lock() {
                        *raised = Some(error);
                    }
                    Err(Cancelled)
                }
            }
        })
    }
}
