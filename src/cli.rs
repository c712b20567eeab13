//! Command line (clap) and dispatch.
