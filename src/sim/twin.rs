//! The operator twin: plays dc-tec/openbao-operator's break-glass behaviour on the store.
