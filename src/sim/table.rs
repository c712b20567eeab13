//! Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! `kubectl get` asks for: NAME and AGE for every kind, plus the printer columns the real
//! CRDs declare for OpenBaoRestore and the usual pod columns.

use serde_json::{Value, json};

use super::store::Resource;

/// Whether the client asked for a Table.
pub(crate) fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn age(created: Option<&str>) -> String {
    let Some(t) = created.and_then(|c| c.parse::<jiff::Timestamp>().ok()) else {
        return "<unknown>".into();
    };
    let secs = jiff::Timestamp::now().as_second() - t.as_second();
    let secs = secs.max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn col(name: &str, ty: &str, format: &str, priority: i32) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": name, "priority": priority})
}

fn text(v: &Value, ptr: &str) -> Value {
    match v.pointer(ptr) {
        Some(Value::String(s)) => json!(s),
        Some(other) if !other.is_null() => json!(other.to_string()),
        _ => json!(""),
    }
}

fn pod_cells(o: &Value) -> Vec<Value> {
    let statuses = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total = o
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
        .sum();
    let waiting = statuses
        .iter()
        .find_map(|s| s.pointer("/state/waiting/reason").and_then(Value::as_str));
    let status = waiting
        .or_else(|| o.pointer("/status/phase").and_then(Value::as_str))
        .unwrap_or("Unknown");
    vec![
        json!(format!("{ready}/{total}")),
        json!(status),
        json!(restarts),
    ]
}

/// The server's event columns (pkg/printers/internalversion: Last Seen, Type, Reason,
/// Object, Message; the rest at priority 1).
fn event_columns() -> Vec<Value> {
    vec![
        col("Last Seen", "string", "", 0),
        col("Type", "string", "", 0),
        col("Reason", "string", "", 0),
        col("Object", "string", "", 0),
        col("Subobject", "string", "", 1),
        col("Source", "string", "", 1),
        col("Message", "string", "", 0),
        col("First Seen", "string", "", 1),
        col("Count", "string", "", 1),
        col("Name", "string", "name", 1),
    ]
}

fn event_cells(o: &Value) -> Vec<Value> {
    let s = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let last = s("/lastTimestamp")
        .or_else(|| s("/series/lastObservedTime"))
        .or_else(|| s("/eventTime"));
    let first = s("/firstTimestamp").or_else(|| s("/eventTime"));
    let object = format!(
        "{}/{}",
        s("/involvedObject/kind").unwrap_or_default().to_lowercase(),
        s("/involvedObject/name").unwrap_or_default()
    );
    let source = s("/source/component")
        .or_else(|| s("/reportingComponent"))
        .unwrap_or_default();
    vec![
        json!(age(last)),
        text(o, "/type"),
        text(o, "/reason"),
        json!(object),
        text(o, "/involvedObject/fieldPath"),
        json!(source),
        text(o, "/message"),
        json!(age(first)),
        json!(
            o.get("count")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .to_string()
        ),
        text(o, "/metadata/name"),
    ]
}

fn row(o: &Value, cells: Vec<Value>) -> Value {
    json!({
        "cells": cells,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": o.get("metadata").cloned().unwrap_or(json!({})),
        }
    })
}

fn table_of(cols: Vec<Value>, rows: Vec<Value>, rv: &str) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": cols,
        "rows": rows,
    })
}

/// The Table for these objects.
pub fn table(r: Resource, items: &[Value], rv: &str) -> Value {
    if r == Resource::Events {
        let rows = items.iter().map(|o| row(o, event_cells(o))).collect();
        return table_of(event_columns(), rows, rv);
    }
    let mut cols = vec![col("Name", "string", "name", 0)];
    match r {
        Resource::Pods => {
            cols.push(col("Ready", "string", "", 0));
            cols.push(col("Status", "string", "", 0));
            cols.push(col("Restarts", "integer", "", 0));
        }
        Resource::OpenBaoRestores => {
            cols.push(col("Cluster", "string", "", 0));
            cols.push(col("Phase", "string", "", 0));
        }
        _ => {}
    }
    cols.push(col("Age", "date", "", 0));
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut cells = vec![text(o, "/metadata/name")];
            match r {
                Resource::Pods => cells.extend(pod_cells(o)),
                Resource::OpenBaoRestores => {
                    cells.push(text(o, "/spec/cluster"));
                    cells.push(text(o, "/status/phase"));
                }
                _ => {}
            }
            cells.push(json!(age(o
                .pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str))));
            row(o, cells)
        })
        .collect();
    table_of(cols, rows, rv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_name_and_age() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        let t = table(
            Resource::OpenBaoClusters,
            &[json!({"metadata": {"name": "a", "creationTimestamp": "2020-01-01T00:00:00Z"}})],
            "5",
        );
        assert_eq!(t["rows"][0]["cells"][0], "a");
        assert!(t["rows"][0]["cells"][1].as_str().unwrap().ends_with('d'));
    }
}
