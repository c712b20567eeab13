//! Scenarios as data (`assets/scenarios/*.toml`, embedded): the incident the twin plays.
