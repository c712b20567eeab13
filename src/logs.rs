//! The bounded log line store and sanitising (the full engine is the log issue).
