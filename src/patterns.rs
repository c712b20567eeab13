//! Log pattern rules: which lines the runbook and the executor code give meaning to.
