//! The console against the real control plane: kube-apiserver, etcd, kube-controller-manager,
//! kube-scheduler and kwok (README "Real kube-apiserver tests").
//!
//! `cargo test --test real_apiserver [FILTER]`. The binaries come from
//! `tests/real_apiserver/build-tools.sh` (a cached Go build). The test process re-executes
//! itself inside a network namespace of its own (`unshare --net`, plus a pid namespace whose
//! pid 1 takes every process of the rig with it), starts the rig once, runs the cases one
//! after another, each in a fresh Kubernetes namespace, and stops the rig.
//!
//! The rig cannot be had (no binaries, no `unshare`): the suite FAILS, with the reason.
//! Only `BREAKGLASS_REAL_APISERVER=skip` skips it, loudly (local development).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

#[path = "real_apiserver/cases_api.rs"]
mod cases_api;
#[path = "real_apiserver/cases_bao.rs"]
mod cases_bao;
#[path = "real_apiserver/cases_console.rs"]
mod cases_console;
#[path = "real_apiserver/cases_controllers.rs"]
mod cases_controllers;
#[path = "real_apiserver/cases_differential.rs"]
mod cases_differential;
#[path = "real_apiserver/cases_events.rs"]
mod cases_events;
#[path = "real_apiserver/cases_follow.rs"]
mod cases_follow;
#[path = "real_apiserver/cases_proxy.rs"]
mod cases_proxy;
#[path = "real_apiserver/cases_relist.rs"]
mod cases_relist;
#[path = "real_apiserver/cases_restore.rs"]
mod cases_restore;
#[path = "real_apiserver/cases_twin.rs"]
mod cases_twin;
#[path = "real_apiserver/cases_v06.rs"]
mod cases_v06;
#[path = "real_apiserver/cases_watch.rs"]
mod cases_watch;
#[path = "real_apiserver/incident.rs"]
mod incident;
#[path = "real_apiserver/kube.rs"]
mod kube;
#[path = "real_apiserver/kwok.rs"]
mod kwok;
#[path = "real_apiserver/rig.rs"]
mod rig;
#[path = "real_apiserver/rig06.rs"]
mod rig06;
#[expect(dead_code, reason = "the simulator's pty walks use the rest")]
#[path = "support/tmux.rs"]
mod tmux;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rig::{RANGE, Rig};

const INNER: &str = "BREAKGLASS_REAL_APISERVER_INNER";
const TOOLS: &str = "BREAKGLASS_REAL_APISERVER_TOOLS";
/// Written by the namespaced run when it starts: without it, `unshare` itself failed.
const ENTERED: &str = "entered";
/// The whole suite may not take longer than this (watchdog on the outer process).
const WATCHDOG: Duration = Duration::from_secs(20 * 60);
/// One case may not take longer than this.
const CASE_TIMEOUT: Duration = Duration::from_secs(180);

pub type CaseFn = fn(Arc<Rig>, String) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! case {
    ($m:ident :: $f:ident) => {
        (
            stringify!($f),
            (|rig, ns| Box::pin($m::$f(rig, ns))) as CaseFn,
        )
    };
}

fn cases() -> Vec<(&'static str, CaseFn)> {
    vec![
        case!(cases_api::viewer_reads_with_zero_forbidden),
        case!(cases_console::status_json_equals_the_simulator),
        case!(cases_console::ack_guards_dry_run_and_patch),
        case!(cases_console::preflight_verdicts_equal_the_authorizer),
        case!(cases_watch::watchers_see_changes_and_unreadable_objects),
        case!(cases_controllers::job_lineage_log_follow_ttl_and_gc),
        case!(cases_restore::restore_steps_on_real_objects),
        case!(cases_differential::differential_conformance),
        case!(cases_proxy::pod_proxy_reaches_a_node_on_its_pod_ip),
        case!(cases_bao::raft_reader_reads_real_bao_nodes_through_the_pod_proxy),
        case!(cases_v06::v06_generation_and_cleanup_incident_on_the_real_crds),
        case!(cases_v06::v06_restore_accepted_by_the_real_crd_and_acknowledged),
        case!(cases_events::v06_twin_events_on_the_console),
        case!(cases_follow::follow_across_attempts),
        case!(cases_twin::twin_retries_through_the_real_server),
        case!(cases_twin::pty_retry_walk_with_the_twin_as_operator),
        case!(cases_twin::twin_retry_fails_with_the_scenario_exit_code),
        // Restarts kwok: after the cases that need it steady.
        case!(cases_follow::follow_resumes_after_a_kubelet_restart),
        case!(cases_watch::watchers_recover_from_an_apiserver_restart),
        case!(cases_relist::watchers_relist_after_a_real_410),
        // Last: it sees every object the other cases made.
        case!(cases_api::no_address_outside_the_namespace_range),
    ]
}

fn main() -> ExitCode {
    if std::env::var("BREAKGLASS_REAL_APISERVER").as_deref() == Ok("skip") {
        eprintln!(
            "\n!!! real_apiserver SKIPPED (BREAKGLASS_REAL_APISERVER=skip): nothing ran against the real kube-apiserver !!!\n"
        );
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in cases() {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    match std::env::var(INNER) {
        Ok(dir) => inner(PathBuf::from(dir), &args),
        Err(_) => outer(&args),
    }
}

/// The cases a libtest-style filter selects (`FILTER…`, `--exact`).
fn select(args: &[String]) -> Vec<(&'static str, CaseFn)> {
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let exact = args.iter().any(|a| a == "--exact");
    cases()
        .into_iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        name == f
                    } else {
                        name.contains(f.as_str())
                    }
                })
        })
        .collect()
}

/// Build (or find cached) the binaries, then re-run this binary inside new network and pid
/// namespaces; `setpriv --pdeathsig` kills `unshare` if this process dies, and `unshare
/// --kill-child` then kills the namespace's pid 1, which takes every rig process with it.
fn outer(args: &[String]) -> ExitCode {
    if select(args).is_empty() {
        // `cargo test other_filter`: nothing here is selected, so no rig either.
        println!("\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 filtered out");
        return ExitCode::SUCCESS;
    }
    let script = kube::repo().join("tests/real_apiserver/build-tools.sh");
    let built = Command::new("bash").arg(&script).output();
    let tools = match built {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            eprintln!(
                "real_apiserver FAILED: {} did not build the control plane ({}):\n{}",
                script.display(),
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!(
                "real_apiserver FAILED: cannot run {}: {e}",
                script.display()
            );
            return ExitCode::FAILURE;
        }
    };
    sweep_stale_dirs();
    let prefix = format!("breakglass-real-{}-", std::process::id());
    let dir = match tempfile::Builder::new().prefix(&prefix).tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("real_apiserver FAILED: temp dir: {e}");
            return ExitCode::FAILURE;
        }
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("real_apiserver FAILED: current_exe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let child = Command::new("setpriv")
        .args([
            "--pdeathsig",
            "KILL",
            "--",
            "unshare",
            "--net",
            "--pid",
            "--fork",
            "--kill-child",
            "--",
        ])
        .arg(&exe)
        .args(args)
        .env(INNER, dir.path())
        .env(TOOLS, &tools)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("real_apiserver FAILED: cannot start `setpriv … unshare --net`: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if start.elapsed() > WATCHDOG => {
                eprintln!("real_apiserver FAILED: watchdog: the suite ran past {WATCHDOG:?}");
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => {
                eprintln!("real_apiserver FAILED: waiting for the namespace: {e}");
                break None;
            }
        }
    };
    let entered = dir.path().join(ENTERED).exists();
    if std::env::var_os("BREAKGLASS_REAL_APISERVER_KEEP").is_some() {
        eprintln!(
            "kept (BREAKGLASS_REAL_APISERVER_KEEP): {}",
            dir.keep().display()
        );
    }
    match code {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => {
            if !entered {
                eprintln!(
                    "real_apiserver FAILED: `setpriv … unshare --net --pid` exited {c} before the suite started (it needs root, as CI is)"
                );
            }
            ExitCode::FAILURE
        }
        None => ExitCode::FAILURE,
    }
}

/// Remove the temp dirs of earlier runs whose process is gone (killed before it could clean
/// up: `breakglass-real-<pid>-…`). Their processes died with their namespaces already.
fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = name
            .strip_prefix("breakglass-real-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn sh(cmd: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .map_err(|e| format!("{}: {e}", cmd.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            cmd.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Inside the namespaces: lo up, the documentation range local on lo, the rig, the cases.
fn inner(dir: PathBuf, args: &[String]) -> ExitCode {
    let _ = std::fs::write(dir.join(ENTERED), b"");
    if let Err(e) = sh(&["ip", "link", "set", "lo", "up"])
        .and_then(|()| sh(&["ip", "route", "add", "local", RANGE, "dev", "lo"]))
    {
        eprintln!("real_apiserver FAILED: network namespace setup: {e}");
        return ExitCode::FAILURE;
    }
    let tools = PathBuf::from(std::env::var(TOOLS).unwrap_or_default());
    let selected = select(args);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("real_apiserver FAILED: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let failed = rt.block_on(run(dir, tools, selected));
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A fresh Kubernetes namespace per case (a DNS label: at most 63 characters).
fn namespace_for(i: usize, name: &str) -> String {
    format!(
        "t{i}-{}",
        name.replace('_', "-").chars().take(40).collect::<String>()
    )
    .trim_end_matches('-')
    .to_string()
}

async fn run(dir: PathBuf, tools: PathBuf, selected: Vec<(&'static str, CaseFn)>) -> bool {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The message is reported with the case's result; here only where it happened.
    std::panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location() {
            eprintln!("panicked at {l}");
        }
    }));
    let started = Instant::now();
    let plan: Vec<(&'static str, String, CaseFn)> = selected
        .iter()
        .enumerate()
        .map(|(i, (name, f))| (*name, namespace_for(i, name), *f))
        .collect();
    let namespaces: Vec<String> = plan.iter().map(|p| p.1.clone()).collect();
    let rig = match Rig::start(dir.clone(), tools, &namespaces).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("real_apiserver FAILED: the rig did not start: {e}");
            return true;
        }
    };
    println!(
        "real kube-apiserver {} (rig up in {:.1} s, dir {})",
        rig.version,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    let admin = rig.client("admin").await.expect("admin client");
    match kube::install_crds(&admin, "0.1").await {
        Ok(files) => println!("CRDs installed: {}", files.join(", ")),
        Err(e) => {
            eprintln!("real_apiserver FAILED: CRDs: {e}");
            rig.stop().await;
            return true;
        }
    }
    let rig = Arc::new(rig);
    println!("\nrunning {} tests", selected.len());
    let mut failures = Vec::new();
    for (i, (name, f)) in selected.iter().enumerate() {
        let ns = format!(
            "t{i}-{}",
            name.replace('_', "-").chars().take(40).collect::<String>()
        )
        .trim_end_matches('-')
        .to_string();
        let t = Instant::now();
        let result = match kube::namespace(&admin, &ns).await {
            Ok(()) => {
                match tokio::time::timeout(CASE_TIMEOUT, tokio::spawn(f(rig.clone(), ns.clone())))
                    .await
                {
                    Ok(joined) => joined.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("timed out after {CASE_TIMEOUT:?}")),
                }
            }
            Err(e) => Err(format!("namespace {ns}: {e}")),
        };
        match result {
            Ok(()) => println!("test {name} ... ok ({:.1} s)", t.elapsed().as_secs_f64()),
            Err(e) => {
                println!(
                    "test {name} ... FAILED ({:.1} s)",
                    t.elapsed().as_secs_f64()
                );
                failures.push((name, e));
            }
        }
    }
    // Every component still up at the end (a crash mid-suite fails it), then all stopped
    // (a case's task that still holds the rig does not keep them alive).
    if let Err(e) = rig.check_alive() {
        failures.push((&"rig", e.to_string()));
    }
    rig.stop().await;
    for (name, e) in &failures {
        println!("\n---- {name} ----\n{e}");
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; finished in {:.1} s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        selected.len() - failures.len().min(selected.len()),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    !failures.is_empty()
}
