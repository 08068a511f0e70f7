//! Values for one of the example modules' parameters, made into a command line.
//! The body, and what each input byte means, is `mlreef_fuzz::targets::command_line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlreef_fuzz::targets::command_line(data));
