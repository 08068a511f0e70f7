//! conda `environment.yml` files.
